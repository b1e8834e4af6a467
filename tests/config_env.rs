//! `Config::load_env` reads this process's environment: the credentials
//! and URL it names reach the server, and a bad variable leaves the config
//! as it was. A binary of its own, with one test, because it sets
//! process-wide variables (the parsing rules are unit tests on `load_from`).

use vf_standin::{Options, StandIn};
use voucherify::{Client, Config, Status};

#[test]
fn the_environments_credentials_and_url_reach_the_server() {
    let server = StandIn::start(Options::default()).unwrap();
    std::env::set_var("VOUCHERIFY_APP_ID", server.app_id());
    std::env::set_var("VOUCHERIFY_SECRET_KEY", server.secret_key());
    std::env::set_var("VOUCHERIFY_API_URL", server.base_url());
    std::env::set_var("VOUCHERIFY_CLUSTER", "eu1"); // the URL wins
    let mut config = Config::new();
    config.set_max_attempts(1).unwrap();
    config.load_env().unwrap();
    assert_eq!(config.base_url(), server.base_url().trim_end_matches('/'));
    let token = Client::new(&config).unwrap().generate_token(&["api"]).unwrap();
    assert!(!token.access_token.is_empty());
    assert_eq!(server.request_count(), 1);

    // A bad variable: an error that names it, and the config untouched.
    std::env::set_var("VOUCHERIFY_APP_ID", "someone-else");
    std::env::set_var("VOUCHERIFY_API_URL", "ftp://127.0.0.1/");
    let err = config.load_env().unwrap_err();
    assert_eq!(err.status, Status::InvalidArgument);
    assert!(err.message.starts_with("VOUCHERIFY_API_URL: "), "{}", err.message);
    Client::new(&config).unwrap().generate_token(&["api"]).unwrap();
    assert_eq!(server.request_count(), 2, "the old credentials still work");
}
