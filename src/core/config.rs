//! Client settings, checked as they are set so that bad input never
//! reaches the wire.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use url::{Host, Url};

use super::error::Error;
use super::observe::Logger;
use super::status::Status;

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(10_000);
/// Default total timeout of one call: well under the 3 minutes after which
/// Voucherify's load balancers cut a request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(30_000);
/// The clusters of Voucherify's public API. (The spec's `download` hosts
/// serve export files only, not the OAuth endpoints.)
pub const CLUSTERS: [&str; 3] = ["api", "us1.api", "as1.api"];
/// The base URL used when neither a cluster nor a base URL is set.
pub const DEFAULT_BASE_URL: &str = "https://api.voucherify.io";
/// Attempts per call by default: the first and two retries.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// A bound on attempts, so that a bad setting cannot hammer the server.
pub const MAX_ATTEMPTS: u32 = 10;
/// The first retry waits up to this long; each further one up to twice as long.
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(200);

/// Which certificates a TLS server must chain to. C callers pass the
/// value as an `int` to `vf_config_set_tls_roots()`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsRoots {
    /// The operating system's store (the default, as a system library
    /// should): what the machine's administrator trusts, updated with the
    /// distribution.
    System = 0,
    /// Mozilla's roots, built into the library: for machines without a
    /// certificate store, such as minimal containers.
    Mozilla = 1,
}

impl TlsRoots {
    pub fn from_code(code: i64) -> Option<TlsRoots> {
        match code {
            0 => Some(TlsRoots::System),
            1 => Some(TlsRoots::Mozilla),
            _ => None,
        }
    }
}

/// Request headers a caller may not set: the credentials, and what the
/// library itself controls.
const RESERVED_HEADERS: [&str; 7] = [
    "x-app-id",
    "x-app-token",
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
];

/// A string that is never shown: Debug prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything a client needs. Setters validate their input and leave the
/// configuration unchanged when they fail.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) app_id: Option<String>,
    pub(crate) secret_key: Option<Secret>,
    pub(crate) base_url: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) channel: Option<String>,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) max_attempts: u32,
    pub(crate) retry_base_delay: Duration,
    /// May hold the proxy's password.
    pub(crate) proxy: Option<Secret>,
    pub(crate) proxy_from_env: bool,
    pub(crate) tls_roots: TlsRoots,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) logger: Logger,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            app_id: None,
            secret_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            channel: None,
            user_agent_suffix: None,
            allow_insecure_http: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_base_delay: DEFAULT_RETRY_BASE_DELAY,
            proxy: None,
            proxy_from_env: false,
            tls_roots: TlsRoots::System,
            ca_file: None,
            extra_headers: Vec::new(),
            logger: Logger::default(),
        }
    }
}

impl Config {
    pub fn new() -> Config {
        Config::default()
    }

    /// The application id, sent as `X-App-Id`.
    pub fn set_app_id(&mut self, app_id: &str) -> Result<(), Error> {
        check_header_value("application id", app_id, false)?;
        self.app_id = Some(app_id.to_owned());
        Ok(())
    }

    /// The secret key, sent as `X-App-Token`.
    pub fn set_secret_key(&mut self, secret_key: &str) -> Result<(), Error> {
        check_header_value("secret key", secret_key, false)?;
        self.secret_key = Some(Secret(secret_key.to_owned()));
        Ok(())
    }

    /// One of Voucherify's public clusters (see [`CLUSTERS`]).
    pub fn set_cluster(&mut self, cluster: &str) -> Result<(), Error> {
        if !CLUSTERS.contains(&cluster) {
            return Err(invalid(format!(
                "unknown cluster {cluster:?}: expected one of {}; use a base URL for a dedicated region",
                CLUSTERS.join(", ")
            )));
        }
        self.base_url = format!("https://{cluster}.voucherify.io");
        Ok(())
    }

    /// Any base URL: `https://host[:port][/path]`, or `http://` for a
    /// loopback host (or any host once insecure HTTP is allowed).
    pub fn set_base_url(&mut self, url: &str) -> Result<(), Error> {
        self.base_url = parse_base_url(url)?.normalized;
        Ok(())
    }

    pub fn set_connect_timeout_ms(&mut self, ms: u32) -> Result<(), Error> {
        self.connect_timeout = timeout_from_ms("connect timeout", ms)?;
        Ok(())
    }

    pub fn set_timeout_ms(&mut self, ms: u32) -> Result<(), Error> {
        self.timeout = timeout_from_ms("total timeout", ms)?;
        Ok(())
    }

    /// The `X-Voucherify-Channel` header; `None` sends none.
    pub fn set_channel(&mut self, channel: Option<&str>) -> Result<(), Error> {
        if let Some(c) = channel {
            check_header_value("channel", c, true)?;
        }
        self.channel = channel.map(str::to_owned);
        Ok(())
    }

    /// Text appended to `User-Agent: libvoucherify/<version>`.
    pub fn set_user_agent_suffix(&mut self, suffix: Option<&str>) -> Result<(), Error> {
        if let Some(s) = suffix {
            check_header_value("user agent suffix", s, true)?;
        }
        self.user_agent_suffix = suffix.map(str::to_owned);
        Ok(())
    }

    /// Allows `http://` to hosts other than loopback (a TLS-terminating
    /// proxy on a trusted network, say). Credentials then travel in clear.
    pub fn set_allow_insecure_http(&mut self, allow: bool) {
        self.allow_insecure_http = allow;
    }

    /// How many requests one call may send (1 turns retries off). Retries
    /// cover refused or reset connections, timeouts before an answer, and
    /// 429, 502, 503 and 504 answers; never more than the total timeout,
    /// of which each retryable attempt gets a fair share (the time left
    /// divided by the attempts left). Minting retries only what the server
    /// certainly did not act on.
    pub fn set_max_attempts(&mut self, attempts: u32) -> Result<(), Error> {
        if !(1..=MAX_ATTEMPTS).contains(&attempts) {
            return Err(invalid(format!(
                "the number of attempts must be from 1 to {MAX_ATTEMPTS}"
            )));
        }
        self.max_attempts = attempts;
        Ok(())
    }

    /// The longest wait before the first retry; it doubles for each further
    /// one, and each wait is drawn at random below it (full jitter).
    pub fn set_retry_base_delay_ms(&mut self, ms: u32) {
        self.retry_base_delay = Duration::from_millis(ms.into());
    }

    /// Sends requests through an HTTP proxy, `http://[user:password@]host:port`
    /// or `https://...` (tunnelled with CONNECT); `None` for none. Other
    /// schemes (SOCKS) are refused. Replaces proxy-from-environment.
    pub fn set_proxy(&mut self, url: Option<&str>) -> Result<(), Error> {
        if let Some(url) = url {
            // The URL may hold a password: no message quotes it.
            super::proxy::check(url)?;
        }
        self.proxy = url.map(|u| Secret(u.to_owned()));
        self.proxy_from_env = false;
        Ok(())
    }

    /// Takes the proxy from the environment when the client is built:
    /// for an https base URL `https_proxy`, `HTTPS_PROXY`, then `all_proxy`,
    /// `ALL_PROXY` (never `HTTP_PROXY`); for a plain http one `http_proxy`,
    /// then `all_proxy`, `ALL_PROXY`; `no_proxy`/`NO_PROXY` exempts hosts.
    /// Off by default: a library does not silently obey the environment.
    pub fn set_proxy_from_env(&mut self, from_env: bool) {
        self.proxy_from_env = from_env;
        if from_env {
            self.proxy = None;
        }
    }

    /// Where the client's log records go (see [`Logger`]): every request,
    /// answer, retry, rate-limit pause, connection and token event at or
    /// above the logger's level. Records are passed from whichever thread
    /// is working (callers' threads, bulk-revoke workers), never hold a
    /// secret, and are formatted only when the level is enabled.
    pub fn set_logger(&mut self, logger: Logger) {
        self.logger = logger;
    }

    pub fn set_tls_roots(&mut self, roots: TlsRoots) {
        self.tls_roots = roots;
    }

    /// Also trusts the certificates of a PEM file (a company CA, say); read
    /// when the client is built. `None` removes it.
    pub fn set_ca_file(&mut self, path: Option<&str>) -> Result<(), Error> {
        if path.is_some_and(str::is_empty) {
            return Err(invalid("the CA file path is empty"));
        }
        self.ca_file = path.map(PathBuf::from);
        Ok(())
    }

    /// Adds a header to every request. It cannot replace the credential
    /// headers or those the library sets itself.
    pub fn add_header(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(invalid("the header name is empty or not a valid HTTP token"));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!(
                "the header {name} is set by the library and cannot be replaced"
            )));
        }
        check_header_value("header value", value, true)?;
        self.extra_headers.push((name.to_owned(), value.to_owned()));
        Ok(())
    }

    /// Takes `VOUCHERIFY_APP_ID`, `VOUCHERIFY_SECRET_KEY`, and
    /// `VOUCHERIFY_API_URL` or else `VOUCHERIFY_CLUSTER` from the
    /// environment; variables that are unset or empty are left alone.
    pub fn load_env(&mut self) -> Result<(), Error> {
        self.load_from(|name| std::env::var(name).ok())
    }

    /// [`Config::load_env`] with the variables looked up by `lookup`.
    pub fn load_from(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut next = self.clone();
        if let Some(v) = get("VOUCHERIFY_APP_ID") {
            next.set_app_id(&v).map_err(|e| from_variable("VOUCHERIFY_APP_ID", e))?;
        }
        if let Some(v) = get("VOUCHERIFY_SECRET_KEY") {
            next.set_secret_key(&v)
                .map_err(|e| from_variable("VOUCHERIFY_SECRET_KEY", e))?;
        }
        if let Some(v) = get("VOUCHERIFY_API_URL") {
            next.set_base_url(&v)
                .map_err(|e| from_variable("VOUCHERIFY_API_URL", e))?;
        } else if let Some(v) = get("VOUCHERIFY_CLUSTER") {
            next.set_cluster(&v)
                .map_err(|e| from_variable("VOUCHERIFY_CLUSTER", e))?;
        }
        *self = next;
        Ok(())
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// A base URL, checked and normalised.
pub(crate) struct BaseUrl {
    /// Scheme, host, optional port and path, without a trailing slash.
    pub normalized: String,
    pub is_https: bool,
    host: Host<String>,
    port: u16,
}

impl BaseUrl {
    /// Whether the host is this machine, so that plain http never leaves
    /// it: a loopback address (`127.0.0.0/8`, `::1`), or the name
    /// `localhost` if every address it resolves to now is loopback. No
    /// other name counts, and neither does a `localhost` that a hosts file
    /// or resolver sends elsewhere.
    pub fn is_loopback(&self) -> bool {
        match &self.host {
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
            Host::Domain(name) => name == "localhost" && resolves_only_to_loopback(name, self.port),
        }
    }
}

fn resolves_only_to_loopback(name: &str, port: u16) -> bool {
    let addresses: Vec<SocketAddr> = (name, port)
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    !addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback())
}

/// Parses a base URL with the `url` crate. No message quotes the input:
/// it may hold a password (`user:pw@host`, even without a scheme).
pub(crate) fn parse_base_url(input: &str) -> Result<BaseUrl, Error> {
    // `url` drops tabs and newlines silently, as browsers do; in a setting
    // they are a mistake.
    if input.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid("the base URL contains a space or a control character"));
    }
    // Host names are ASCII here (no IDNA support is built in); a non-ASCII
    // or percent-encoded one would reach idna's Unicode path, whose adapter
    // asserts (found by the config_inputs fuzz target).
    if !input.is_ascii() || input.contains('%') {
        return Err(invalid("the base URL must be ASCII, without percent-encoding"));
    }
    let url = Url::parse(input).map_err(|e| invalid(format!("the base URL is not a valid URL: {e}")))?;
    let is_https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(invalid("the base URL must start with https:// or http://")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs; this library's go in headers.
        return Err(invalid(
            "the base URL must not contain user information (user:password@)",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the base URL must not have a query or a fragment"));
    }
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
        return Err(invalid("the base URL has no host"));
    };
    if port == 0 {
        return Err(invalid("the base URL's port must be from 1 to 65535"));
    }
    let normalized = url.as_str().trim_end_matches('/').to_owned();
    // What ureq will parse it as.
    normalized
        .parse::<ureq::http::Uri>()
        .map_err(|_| invalid("the base URL is not a valid URL for HTTP"))?;
    Ok(BaseUrl {
        normalized,
        is_https,
        host: host.to_owned(),
        port,
    })
}

/// Header values must be printable ASCII: a CR or LF would let a caller's
/// string inject headers, and the server knows no other character set.
pub(crate) fn check_header_value(what: &str, value: &str, spaces_allowed: bool) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(format!("the {what} is empty")));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(invalid(format!("the {what} contains a control character")));
    }
    if !value.is_ascii() {
        return Err(invalid(format!("the {what} contains a non-ASCII character")));
    }
    if !spaces_allowed && value.contains(' ') {
        return Err(invalid(format!("the {what} contains a space")));
    }
    Ok(())
}

fn timeout_from_ms(what: &str, ms: u32) -> Result<Duration, Error> {
    if ms == 0 {
        return Err(invalid(format!("the {what} must be at least 1 ms")));
    }
    Ok(Duration::from_millis(ms.into()))
}

fn from_variable(name: &str, e: Error) -> Error {
    Error::new(e.status, format!("{name}: {}", e.message))
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArgument, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_roots_codes_are_the_c_enums_and_nothing_else() {
        assert_eq!(TlsRoots::from_code(TlsRoots::System as i64), Some(TlsRoots::System));
        assert_eq!(TlsRoots::from_code(TlsRoots::Mozilla as i64), Some(TlsRoots::Mozilla));
        assert_eq!(TlsRoots::from_code(2), None);
        assert_eq!(TlsRoots::from_code(-1), None);
    }

    #[test]
    fn clusters_map_to_urls_and_unknown_ones_are_refused() {
        let mut c = Config::new();
        assert_eq!(c.base_url(), "https://api.voucherify.io");
        c.set_cluster("us1.api").unwrap();
        assert_eq!(c.base_url(), "https://us1.api.voucherify.io");
        assert_eq!(c.set_cluster("eu").unwrap_err().status, Status::InvalidArgument);
        assert_eq!(c.base_url(), "https://us1.api.voucherify.io");
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        let mut c = Config::new();
        c.set_base_url("https://acme.voucherify.io/").unwrap();
        assert_eq!(c.base_url(), "https://acme.voucherify.io");
        c.set_base_url("http://127.0.0.1:8080/prefix/").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:8080/prefix");
        c.set_base_url("http://[::1]:80").unwrap();
        // Scheme and host names are case-insensitive: written in lower case.
        c.set_base_url("HTTPS://Acme.example").unwrap();
        assert_eq!(c.base_url(), "https://acme.example");
        for bad in [
            "ftp://x",
            "api.voucherify.io",
            "https://",
            "https://:80",
            "https://h:0",
            "https://h:99999",
            "https://u:p@h",
            "https://h/?q=1",
            "https://h/#f",
            "https://h\r\nX-Evil: 1",
            "https://h /x",
            "https://\u{e9}.example",
            "https://h\t/x",
        ] {
            assert_eq!(
                c.set_base_url(bad).unwrap_err().status,
                Status::InvalidArgument,
                "{bad}"
            );
        }
        // What `url` would accept silently (dropping the tab, encoding the
        // rest) is refused by its own rule.
        for (bad, why) in [
            ("https://h/\tx", "a space or a control character"),
            ("https://h/a b", "a space or a control character"),
            ("https://h/\u{e9}", "must be ASCII"),
            ("https://h/%41", "must be ASCII"),
            ("https://u@h/", "user information"),
            ("https://:p@h/", "user information"),
        ] {
            let message = c.set_base_url(bad).unwrap_err().message;
            assert!(message.contains(why), "{bad:?}: {message}");
        }
    }

    #[test]
    fn base_url_errors_never_quote_user_information() {
        for url in [
            "alice:pa55word@host",
            "https://alice:pa55word@host",
            "https://alice:pa55word@host:99999",
            "https://alice:pa55word@[::1",
            "http://alice:pa55word@host/?q",
            "alice:pa55word@host\n",
        ] {
            let err = Config::new()
                .load_from(|name| (name == "VOUCHERIFY_API_URL").then(|| url.to_owned()))
                .unwrap_err();
            assert_eq!(err.status, Status::InvalidArgument, "{url}");
            assert!(err.message.starts_with("VOUCHERIFY_API_URL: "), "{}", err.message);
            assert!(!err.message.contains("pa55word"), "{url}: {}", err.message);
            assert!(!err.message.contains("alice"), "{url}: {}", err.message);
        }
    }

    #[test]
    fn only_the_oauth_clusters_are_offered() {
        let mut c = Config::new();
        for cluster in ["api", "us1.api", "as1.api"] {
            c.set_cluster(cluster).unwrap();
            assert_eq!(c.base_url(), format!("https://{cluster}.voucherify.io"));
        }
        for cluster in ["download", "us1.download", "as1.download"] {
            assert_eq!(
                c.set_cluster(cluster).unwrap_err().status,
                Status::InvalidArgument,
                "{cluster}"
            );
        }
    }

    #[test]
    fn loopback_is_recognised() {
        for (url, loopback) in [
            ("http://127.0.0.1:1", true),
            ("http://127.9.9.9", true),
            ("http://[::1]:5", true),
            ("http://[::ffff:127.0.0.1]:5", false),
            ("http://10.0.0.1", false),
            ("http://example.com", false),
            // Names other than localhost never count, whatever they resolve to.
            ("http://localhost.localdomain", false),
            ("http://127.0.0.1.nip.io", false),
        ] {
            assert_eq!(parse_base_url(url).unwrap().is_loopback(), loopback, "{url}");
        }
        // localhost counts when it resolves to loopback only, as it does on
        // any machine whose resolver is sane (checked here, not assumed).
        assert!(
            resolves_only_to_loopback("localhost", 5),
            "this machine's localhost is not loopback"
        );
        assert!(parse_base_url("http://LOCALHOST:5").unwrap().is_loopback());
        // Other names that resolve to loopback only still do not count:
        // those /etc/hosts gives a loopback address (often the machine's
        // own name), looked up there, not by a DNS query.
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let loopback_names = hosts
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default().split_whitespace())
            .filter_map(|mut fields| Some((fields.next()?.parse::<std::net::IpAddr>().ok()?, fields)))
            .filter(|(ip, _)| ip.is_loopback())
            .flat_map(|(_, names)| names)
            .filter(|name| !name.eq_ignore_ascii_case("localhost"));
        for name in loopback_names.filter(|name| resolves_only_to_loopback(name, 5)) {
            println!("{name} resolves to loopback only");
            let url = format!("http://{name}:5");
            assert!(!parse_base_url(&url).unwrap().is_loopback(), "{url}");
        }
        assert!(
            !resolves_only_to_loopback("name.invalid", 5),
            "a name that does not resolve"
        );
    }

    #[test]
    fn header_values_refuse_control_characters_and_spaces_where_not_allowed() {
        let mut c = Config::new();
        for bad in ["", "a\r\nb", "a\nb", "a\0b", "tab\there", "del\u{7f}", "é", "a b"] {
            assert!(c.set_secret_key(bad).is_err(), "{bad:?}");
            assert!(c.set_app_id(bad).is_err(), "{bad:?}");
        }
        assert!(c.secret_key.is_none() && c.app_id.is_none());
        c.set_user_agent_suffix(Some("my-service/1.2 (ops)")).unwrap();
        assert!(c.set_channel(Some("x\ny")).is_err());
    }

    #[test]
    fn extra_headers_cannot_replace_credentials_or_inject() {
        let mut c = Config::new();
        c.add_header("X-Request-Source", "billing").unwrap();
        for name in [
            "X-App-Token",
            "x-app-id",
            "Content-Type",
            "Host",
            "",
            "Bad Name",
            "a:b",
            "é",
        ] {
            assert_eq!(
                c.add_header(name, "v").unwrap_err().status,
                Status::InvalidArgument,
                "{name:?}"
            );
        }
        assert!(c.add_header("X-Ok", "a\r\nX-App-Token: evil").is_err());
        assert_eq!(
            c.extra_headers,
            vec![("X-Request-Source".to_owned(), "billing".to_owned())]
        );
    }

    #[test]
    fn proxy_urls_are_checked_and_never_shown() {
        let mut c = Config::new();
        c.set_proxy(Some("http://user:pa55word@127.0.0.1:3128")).unwrap();
        assert!(!format!("{c:?}").contains("pa55word"));
        for bad in [
            "http://u:pa55word@[::1",
            "http://u:pa55word@127.0.0.1:port",
            "http://u:pa55word@h:99999",
        ] {
            let err = c.set_proxy(Some(bad)).unwrap_err();
            assert!(!err.message.contains("pa55word"), "{bad}");
        }
        assert_eq!(c.set_max_attempts(0).unwrap_err().status, Status::InvalidArgument);
        assert_eq!(c.set_max_attempts(11).unwrap_err().status, Status::InvalidArgument);
        c.set_max_attempts(10).unwrap();
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let mut c = Config::new();
        c.set_secret_key("s3cr3t-key").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-key"));
        // Said to be there, not left out: a reader of the log knows it was set.
        assert!(shown.contains("secret_key: Some(<redacted>)"), "{shown}");
    }

    #[test]
    fn environment_fills_what_is_set_and_url_wins_over_cluster() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let mut c = Config::new();
        c.load_from(env(&[
            ("VOUCHERIFY_APP_ID", "id"),
            ("VOUCHERIFY_SECRET_KEY", "key"),
            ("VOUCHERIFY_API_URL", "http://127.0.0.1:9"),
            ("VOUCHERIFY_CLUSTER", "us1.api"),
        ]))
        .unwrap();
        assert_eq!(c.app_id.as_deref(), Some("id"));
        assert_eq!(c.base_url(), "http://127.0.0.1:9");
        let mut c = Config::new();
        c.load_from(env(&[("VOUCHERIFY_CLUSTER", "as1.api"), ("VOUCHERIFY_APP_ID", "")]))
            .unwrap();
        assert_eq!(c.base_url(), "https://as1.api.voucherify.io");
        assert!(c.app_id.is_none());
        let err = Config::new()
            .load_from(env(&[("VOUCHERIFY_CLUSTER", "mars")]))
            .unwrap_err();
        assert!(err.message.starts_with("VOUCHERIFY_CLUSTER: "), "{}", err.message);
    }
}
