//! Where the tool finds its credentials and settings: the library's
//! environment variables, then these flags.

use std::path::PathBuf;

use clap::Args;
use voucherify::{Client, Config};

use crate::Failure;

#[derive(Args, Debug)]
pub struct ConnectionArgs {
    /// The application id (default: $VOUCHERIFY_APP_ID).
    #[arg(long, global = true, value_name = "ID")]
    app_id: Option<String>,
    /// Read the secret key from the first line of this file (default:
    /// $VOUCHERIFY_SECRET_KEY). There is no flag for the key itself.
    #[arg(long, global = true, value_name = "PATH")]
    secret_key_file: Option<PathBuf>,
    /// One of Voucherify's clusters: api, us1.api, as1.api, ...
    /// (default: $VOUCHERIFY_CLUSTER, else api).
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "base_url")]
    cluster: Option<String>,
    /// The API's base URL, for a dedicated region or a test server
    /// (default: $VOUCHERIFY_API_URL).
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// Total seconds one call may take, its retries and any rate-limit
    /// pause included.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=3600))]
    timeout: u32,
    /// Seconds to establish a connection.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=600))]
    connect_timeout: u32,
    /// Requests one call may send (1 turns retries off).
    #[arg(long, global = true, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10))]
    attempts: u32,
    /// An HTTP proxy, http://host:port. A password in it would show in `ps`:
    /// prefer --proxy-from-env with HTTPS_PROXY.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "proxy_from_env")]
    proxy: Option<String>,
    /// Take the proxy from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY (and NO_PROXY).
    #[arg(long, global = true)]
    proxy_from_env: bool,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, global = true, value_name = "PATH")]
    ca_file: Option<PathBuf>,
}

impl ConnectionArgs {
    /// A client for these settings; a bad setting is a usage error.
    pub fn client(&self) -> Result<Client, Failure> {
        Client::new(&self.config()?).map_err(Failure::from)
    }

    fn config(&self) -> Result<Config, Failure> {
        let mut config = Config::new();
        config.load_env()?;
        if let Some(id) = &self.app_id {
            config.set_app_id(id)?;
        }
        if let Some(path) = &self.secret_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::usage(format!("cannot read the secret key file {}: {e}", path.display())))?;
            let key = text.lines().next().unwrap_or_default().trim();
            if key.is_empty() {
                return Err(Failure::usage(format!(
                    "the secret key file {} is empty",
                    path.display()
                )));
            }
            config.set_secret_key(key)?;
        }
        if let Some(cluster) = &self.cluster {
            config.set_cluster(cluster)?;
        }
        if let Some(url) = &self.base_url {
            config.set_base_url(url)?;
        }
        config.set_timeout_ms(self.timeout * 1000)?;
        config.set_connect_timeout_ms(self.connect_timeout * 1000)?;
        config.set_max_attempts(self.attempts)?;
        if let Some(proxy) = &self.proxy {
            config.set_proxy(Some(proxy))?;
        }
        config.set_proxy_from_env(self.proxy_from_env);
        if let Some(path) = &self.ca_file {
            config.set_ca_file(Some(&path.to_string_lossy()))?;
        }
        // Say which setting is missing in the tool's own words.
        if std::env::var_os("VOUCHERIFY_APP_ID").is_none_or(|v| v.is_empty()) && self.app_id.is_none() {
            return Err(Failure::usage(
                "no application id: set VOUCHERIFY_APP_ID or pass --app-id",
            ));
        }
        if std::env::var_os("VOUCHERIFY_SECRET_KEY").is_none_or(|v| v.is_empty()) && self.secret_key_file.is_none() {
            return Err(Failure::usage(
                "no secret key: set VOUCHERIFY_SECRET_KEY or pass --secret-key-file PATH",
            ));
        }
        Ok(config)
    }
}
