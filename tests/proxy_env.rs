//! The proxy is taken from the environment only when asked. A binary of its
//! own, with one test, because it sets process-wide variables.

use vf_standin::{Options, Proxy, StandIn};
use voucherify::{Client, Config};

#[test]
fn proxy_variables_are_obeyed_only_when_asked() {
    let server = StandIn::start(Options::default()).unwrap();
    let proxy = Proxy::start(None).unwrap();
    std::env::set_var("HTTP_PROXY", proxy.url());
    std::env::set_var("HTTPS_PROXY", proxy.url());
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let mut config = Config::new();
    config.set_app_id(server.app_id()).unwrap();
    config.set_secret_key(server.secret_key()).unwrap();
    config.set_base_url(&server.base_url()).unwrap();

    Client::new(&config)
        .unwrap()
        .revoke_token(&server.mint_token("api"))
        .unwrap();
    assert!(proxy.connects().is_empty(), "by default the environment is ignored");

    config.set_proxy_from_env(true);
    Client::new(&config)
        .unwrap()
        .revoke_token(&server.mint_token("api"))
        .unwrap();
    assert_eq!(proxy.connects().len(), 1);
}
