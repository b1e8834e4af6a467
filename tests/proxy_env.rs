//! The proxy taken from the environment: only when asked, in the documented
//! order (`https_proxy`/`HTTPS_PROXY`, then `all_proxy`/`ALL_PROXY`; never
//! `HTTP_PROXY` for https), with `NO_PROXY`, and never a silent bypass. A
//! binary of its own, with one test, because it sets process-wide variables.
#![allow(clippy::result_large_err)]

use std::path::Path;

use vf_standin::{Options, Proxy, StandIn};
use voucherify::{Client, Config, Status};

const VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn set_only(pairs: &[(&str, &str)]) {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in pairs {
        std::env::set_var(name, value);
    }
}

fn config_for(server: &StandIn, ca: &Path) -> Config {
    let mut config = Config::new();
    config.set_app_id(server.app_id()).unwrap();
    config.set_secret_key(server.secret_key()).unwrap();
    config.set_base_url(&server.base_url()).unwrap();
    config.set_ca_file(Some(ca.to_str().unwrap())).unwrap();
    config.set_max_attempts(1).unwrap();
    config
}

#[test]
fn proxy_variables_are_obeyed_only_when_asked_and_in_order() {
    let server = StandIn::start(Options {
        tls: true,
        ..Options::default()
    })
    .unwrap();
    let ca = std::env::temp_dir().join(format!("vf-proxy-env-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let proxy = Proxy::start(None).unwrap();
    let proxy_url = proxy.url();
    let dead = "http://127.0.0.1:1";
    let mut config = config_for(&server, &ca);
    let revoke = |config: &Config| Client::new(config).and_then(|c| c.revoke_token(&server.mint_token("api")));

    set_only(&[("HTTPS_PROXY", &proxy_url), ("ALL_PROXY", &proxy_url)]);
    revoke(&config).unwrap();
    assert!(proxy.connects().is_empty(), "by default the environment is ignored");

    config.set_proxy_from_env(true);
    revoke(&config).unwrap();
    assert_eq!(proxy.connects().len(), 1, "HTTPS_PROXY is used when asked");

    // HTTPS_PROXY wins over ALL_PROXY (ureq's own order is the reverse).
    set_only(&[("HTTPS_PROXY", &proxy_url), ("ALL_PROXY", dead)]);
    revoke(&config).unwrap();
    assert_eq!(proxy.connects().len(), 2);

    // HTTP_PROXY, which a CGI request's `Proxy:` header can set, is never
    // used for an https target.
    set_only(&[("HTTP_PROXY", dead), ("http_proxy", dead)]);
    revoke(&config).unwrap();
    assert_eq!(proxy.connects().len(), 2, "went direct");

    // ALL_PROXY when nothing more specific is set.
    set_only(&[("HTTP_PROXY", dead), ("all_proxy", &proxy_url)]);
    revoke(&config).unwrap();
    assert_eq!(proxy.connects().len(), 3);

    // NO_PROXY exempts the target: by address, by address and port, by network, by `*`.
    let port = server.port();
    for exempt in [
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{port}"),
        "127.0.0.0/8".into(),
        "*".into(),
    ] {
        set_only(&[("HTTPS_PROXY", dead), ("NO_PROXY", &exempt)]);
        revoke(&config).unwrap_or_else(|e| panic!("NO_PROXY={exempt}: {e}"));
    }
    // ... and not when it names another port or network: then the dead proxy is used.
    for not_exempt in [
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "10.0.0.0/8".into(),
        "localhost".into(),
    ] {
        set_only(&[("HTTPS_PROXY", dead), ("no_proxy", &not_exempt)]);
        let err = revoke(&config).unwrap_err();
        assert_eq!(err.status, Status::ConnectionFailed, "NO_PROXY={not_exempt}: {err}");
    }

    // A SOCKS proxy in the environment is refused, not silently bypassed.
    let before = server.request_count();
    set_only(&[("ALL_PROXY", "socks5://user:s0cks-pass@127.0.0.1:1080")]);
    let err = Client::new(&config).unwrap_err();
    assert_eq!(err.status, Status::InvalidArgument, "{err}");
    assert!(
        err.message.contains("ALL_PROXY") && !err.message.contains("s0cks-pass"),
        "{err}"
    );
    assert_eq!(server.request_count(), before, "nothing was sent");

    // Plain http to loopback through an environment proxy needs the allow too.
    let plain = StandIn::start(Options::default()).unwrap();
    let mut config = config_for(&plain, &ca);
    config.set_proxy_from_env(true);
    set_only(&[("http_proxy", &proxy_url)]);
    assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    set_only(&[("HTTP_PROXY", &proxy_url)]);
    revoke_plain(&plain, &config);
    assert_eq!(proxy.connects().len(), 3, "HTTP_PROXY in capitals is never read");
    config.set_allow_insecure_http(true);
    set_only(&[("http_proxy", &proxy_url)]);
    revoke_plain(&plain, &config);
    assert_eq!(proxy.connects().len(), 4);

    set_only(&[]);
    std::fs::remove_file(&ca).ok();
}

fn revoke_plain(server: &StandIn, config: &Config) {
    Client::new(config)
        .unwrap()
        .revoke_token(&server.mint_token("api"))
        .unwrap();
}
