//! Property tests over the input checks and the form encoding: arbitrary
//! strings and bytes as tokens, scopes and credentials never panic, never
//! put a control character on the wire, and reach the server exactly as
//! given. Also runs the fuzz targets' checks over random inputs, a cheap
//! stand-in for `scripts/fuzz` in every `cargo test`.
#![allow(clippy::result_large_err)] // as in the library: Error is large on purpose

use std::ffi::CString;
use std::ptr::null_mut;
use std::sync::OnceLock;

mod common;

use common::header;

use proptest::prelude::*;
use vf_standin::{Options, RecordedRequest, StandIn};
use voucherify::ffi::client::{vf_client_free, vf_client_new, vf_revoke_token};
use voucherify::ffi::config::{
    vf_config_free, vf_config_new, vf_config_set_app_id, vf_config_set_base_url, vf_config_set_max_attempts,
    vf_config_set_secret_key,
};
use voucherify::ffi::error::vf_error_free;
use voucherify::ffi::vf_client;
use voucherify::{Client, Config, Introspection, Status};

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

/// One stand-in for every case: starting one per case would dominate the run.
fn server() -> &'static StandIn {
    static SERVER: OnceLock<StandIn> = OnceLock::new();
    SERVER.get_or_init(|| StandIn::start(Options::default()).expect("stand-in starts"))
}

/// The prefix of the tokens planted in the stand-in (see the round trip).
const PLANTED: &str = "planted-";

/// One request per call, so that each case maps to one recorded request.
fn config() -> Config {
    common::single_attempt_config(server())
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| Client::new(&config()).unwrap())
}

/// Runs `call` and returns the requests it made. Tests in this file run
/// in parallel on one server, so the calls are serialised here.
fn sent_by<T>(call: impl FnOnce() -> T) -> (T, Vec<RecordedRequest>) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = server().request_count();
    let outcome = call();
    let count = server().request_count() - before;
    let requests = server().requests();
    (outcome, requests[requests.len() - count..].to_vec())
}

/// A client for the stand-in, built through the C API as C would.
fn c_client() -> *mut vf_client {
    let server = server();
    let c = |s: &str| CString::new(s).unwrap();
    let (app_id, secret_key, base_url) = (c(server.app_id()), c(server.secret_key()), c(&server.base_url()));
    unsafe {
        let config = vf_config_new();
        let none = null_mut();
        assert_eq!(vf_config_set_app_id(config, app_id.as_ptr(), none), Status::Ok);
        assert_eq!(vf_config_set_secret_key(config, secret_key.as_ptr(), none), Status::Ok);
        assert_eq!(vf_config_set_base_url(config, base_url.as_ptr(), none), Status::Ok);
        assert_eq!(vf_config_set_max_attempts(config, 1, none), Status::Ok);
        let mut client = null_mut();
        assert_eq!(vf_client_new(config, &mut client, none), Status::Ok);
        vf_config_free(config);
        client
    }
}

fn form(request: &RecordedRequest) -> Vec<(String, String)> {
    // Percent-encoded: nothing outside printable ASCII may be on the wire.
    assert!(
        request.body.iter().all(|b| (0x21..0x7f).contains(b)),
        "raw bytes on the wire: {:?}",
        request.body
    );
    serde_urlencoded::from_bytes(&request.body).expect("a form body")
}

/// Any string, weighted towards the interesting ones: printable ASCII,
/// control characters, and non-ASCII text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{1,40}",
        "[a-z\r\n\t\u{0}\u{7f}\u{85}]{1,12}",
        "\\PC{1,30}",
    ]
}

/// Any string, weighted towards what form encoding must escape.
fn form_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[&=+%;#? /a-z\u{e9}\u{20ac}\u{1f600}]{1,20}"]
}

fn config_cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config_cases(128))]

    #[test]
    fn a_token_is_refused_or_arrives_exactly(token in text()) {
        // `fault-...` tokens make the stand-in misbehave on purpose.
        prop_assume!(!token.starts_with("fault-") && !token.starts_with(PLANTED));
        let (outcome, sent) = sent_by(|| client().revoke_token(&token));
        let err = outcome.expect_err("no such token was minted");
        if token.is_empty() || token.chars().any(char::is_control) {
            prop_assert_eq!(err.status, Status::InvalidArgument);
            prop_assert_eq!(err.attempts, 0);
            prop_assert!(sent.is_empty(), "a refused token was sent");
        } else {
            prop_assert_eq!(err.status, Status::TokenNotFound, "{}", err.message);
            prop_assert_eq!(sent.len(), 1);
            prop_assert_eq!(form(&sent[0]), vec![("access_token".to_owned(), token.clone())]);
            prop_assert!(!err.message.contains(&token) || token.len() < 8, "the token is in {:?}", err.message);
        }
    }

    #[test]
    fn token_bytes_from_c_are_refused_or_arrive_exactly(bytes in proptest::collection::vec(1u8..=255, 1..40)) {
        prop_assume!(!bytes.starts_with(b"fault-") && !bytes.starts_with(PLANTED.as_bytes()));
        let c_token = CString::new(bytes.clone()).unwrap();
        let client = c_client();
        let (status, sent) = sent_by(|| unsafe {
            let mut err = null_mut();
            let status = vf_revoke_token(client, c_token.as_ptr(), &mut err);
            vf_error_free(err);
            status
        });
        unsafe { vf_client_free(client) };
        match std::str::from_utf8(&bytes) {
            Err(_) => prop_assert_eq!(status, Status::InvalidUtf8),
            Ok(token) if token.chars().any(char::is_control) => prop_assert_eq!(status, Status::InvalidArgument),
            Ok(token) => {
                prop_assert_eq!(status, Status::TokenNotFound);
                prop_assert_eq!(form(&sent[0]), vec![("access_token".to_owned(), token.to_owned())]);
                return Ok(());
            }
        }
        prop_assert!(sent.is_empty(), "a refused token was sent");
    }

    #[test]
    fn the_form_encoding_round_trips(text in form_text()) {
        // The library encodes, the stand-in decodes and finds the token under
        // exactly that name, its answer names it, the library decodes that.
        // Planted tokens have a prefix the revoke cases never use, since
        // those expect every token they send to be unknown.
        let token = format!("{PLANTED}{text}");
        let refused = token.chars().any(char::is_control);
        if !refused {
            server().add_token(&token, "api");
        }
        let (outcome, sent) = sent_by(|| client().introspect_token(&token));
        if refused {
            prop_assert_eq!(outcome.unwrap_err().status, Status::InvalidArgument);
            prop_assert!(sent.is_empty());
            return Ok(());
        }
        prop_assert_eq!(sent.len(), 1);
        prop_assert!(sent[0].body.iter().all(|b| (0x21..0x7f).contains(b)), "raw bytes: {:?}", sent[0].body);
        match outcome {
            Ok(Introspection::Active(found)) => prop_assert_eq!(found.access_token, token),
            Ok(Introspection::Inactive) => prop_assert!(false, "the stand-in did not find {:?}", token),
            Err(e) => prop_assert!(false, "{:?}: {}", token, e.message),
        }
    }

    #[test]
    fn scopes_are_refused_or_arrive_joined_by_single_spaces(scopes in proptest::collection::vec(text(), 1..4)) {
        let (outcome, sent) = sent_by(|| client().generate_token(&scopes));
        let words: Vec<&str> = scopes.iter().flat_map(|s| s.split_whitespace()).collect();
        if scopes.iter().any(|s| s.chars().any(char::is_control)) || words.is_empty() {
            prop_assert_eq!(outcome.unwrap_err().status, Status::InvalidArgument);
            prop_assert!(sent.is_empty());
        } else {
            // The stand-in knows the real scope names, so most cases are 400s.
            prop_assert_eq!(sent.len(), 1);
            let expected = vec![
                ("grant_type".to_owned(), "client_credentials".to_owned()),
                ("scope".to_owned(), words.join(" ")),
            ];
            prop_assert_eq!(form(&sent[0]), expected);
            if let Err(e) = outcome {
                prop_assert_eq!(e.status, Status::BadRequest, "{}", e.message);
            }
        }
    }

    #[test]
    fn credentials_are_refused_or_arrive_exactly(app_id in text(), secret_key in text()) {
        let mut config = config();
        let server = server();
        let printable_ascii = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..0x7f).contains(&b));
        for (value, set) in [
            (&app_id, Config::set_app_id as fn(&mut Config, &str) -> Result<(), voucherify::Error>),
            (&secret_key, Config::set_secret_key),
        ] {
            match set(&mut config, value) {
                Ok(()) => prop_assert!(printable_ascii(value), "accepted {:?}", value),
                Err(e) => {
                    prop_assert_eq!(e.status, Status::InvalidArgument);
                    prop_assert!(!printable_ascii(value), "refused {:?}", value);
                    prop_assert!(!e.message.contains(value.as_str()) || value.len() < 8, "echoed in {:?}", e.message);
                }
            }
        }
        // A refused value leaves the one set before: the stand-in's own.
        let expected_id = if printable_ascii(&app_id) { app_id.as_str() } else { server.app_id() };
        let expected_key = if printable_ascii(&secret_key) { secret_key.as_str() } else { server.secret_key() };
        let client = Client::new(&config).unwrap();
        let (outcome, sent) = sent_by(|| client.revoke_token("not-a-minted-token"));
        prop_assert_eq!(sent.len(), 1);
        prop_assert_eq!(header(&sent[0], "x-app-id"), expected_id);
        prop_assert_eq!(header(&sent[0], "x-app-token"), expected_key);
        let err = outcome.unwrap_err();
        let right = expected_id == server.app_id() && expected_key == server.secret_key();
        prop_assert_eq!(err.status, if right { Status::TokenNotFound } else { Status::Unauthorized });
        if expected_key.len() >= 8 {
            let shown = format!("{err:?}");
            prop_assert!(!shown.contains(expected_key), "the secret key is in {}", shown);
        }
    }

    #[test]
    fn setters_never_panic_and_refuse_only_with_invalid_argument(
        inputs in proptest::collection::vec(text(), 4),
        numbers in proptest::collection::vec(any::<u32>(), 3),
    ) {
        let mut config = Config::new();
        let s = |i: usize| inputs[i].as_str();
        let outcomes = [
            config.set_cluster(s(0)),
            config.set_base_url(s(1)),
            config.set_channel(Some(s(2))),
            config.set_user_agent_suffix(Some(s(3))),
            config.set_proxy(Some(s(0))),
            config.add_header(s(1), s(2)),
            config.set_ca_file(Some(s(3))),
            config.set_timeout_ms(numbers[0]),
            config.set_connect_timeout_ms(numbers[1]),
            config.set_max_attempts(numbers[2]),
        ];
        for e in outcomes.into_iter().filter_map(Result::err) {
            prop_assert_eq!(e.status, Status::InvalidArgument, "{}", e.message);
        }
        // Without credentials a client is refused, never a panic.
        prop_assert_eq!(Client::new(&config).unwrap_err().status, Status::InvalidArgument);
    }
}

proptest! {
    // The fuzz targets' checks alone are cheap: many more cases.
    #![proptest_config(config_cases(1024))]

    #[test]
    fn fuzz_checks_hold_for_random_error_bodies(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz_checks::error_body(&body);
    }

    #[test]
    fn fuzz_checks_hold_for_random_config_inputs(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzz_checks::config_inputs(&data);
    }
}

proptest! {
    #![proptest_config(config_cases(128))]

    #[test]
    fn fuzz_checks_hold_for_random_token_answers(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        fuzz_checks::token_json(&data);
    }
}

/// A rate-limit header's name: one the library reads, in any case, or
/// any other.
fn rate_limit_header_name() -> impl Strategy<Value = String> {
    let known = prop_oneof![
        Just("Retry-After"),
        Just("X-Rate-Limit-Limit"),
        Just("X-Rate-Limit-Remaining"),
        Just("X-Rate-Limit-Retry"),
        Just("X-Rate-Limit-Type"),
    ];
    let any_case = (known, any::<u64>()).prop_map(|(name, bits)| {
        let flip = |(i, c): (usize, char)| match bits >> (i % 64) & 1 {
            1 => c.to_ascii_uppercase(),
            _ => c.to_ascii_lowercase(),
        };
        name.chars().enumerate().map(flip).collect()
    });
    prop_oneof![4 => any_case, 1 => "[!-9;-~]{1,24}"]
}

/// A value at the extremes: numbers of every size and sign, HTTP dates
/// from 1970 to 9999, numbers where dates belong and the reverse, bytes.
fn rate_limit_header_value() -> impl Strategy<Value = Vec<u8>> {
    let date = (0u64..253_402_300_799).prop_map(|secs| {
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).into_bytes()
    });
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        (-5i64..5).prop_map(|n| n.to_string().into_bytes()),
        Just(b"9223372036854775807".to_vec()),
        Just(b"-9223372036854775808".to_vec()),
        Just(b"1000000000000000000000000000000".to_vec()),
        date,
        "[ -~]{0,40}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(config_cases(256))]

    #[test]
    fn rate_limit_headers_never_panic_nor_outlive_the_deadline(
        clock in proptest::collection::vec(any::<u8>(), 8),
        headers in proptest::collection::vec((rate_limit_header_name(), rate_limit_header_value()), 0..6),
    ) {
        // The fuzz target's input: the clock's bytes, then `name:value` lines.
        let mut data = clock;
        for (name, value) in headers {
            data.push(b'\n');
            data.extend_from_slice(name.as_bytes());
            data.push(b':');
            data.extend(value.into_iter().filter(|&b| b != b'\n'));
        }
        fuzz_checks::rate_limit_headers(&data);
    }
}

/// The committed fuzz seeds: the JSON the random inputs above rarely form.
#[test]
fn fuzz_checks_hold_for_the_seeds() {
    for (target, check) in [
        ("error_body", fuzz_checks::error_body as fn(&[u8])),
        ("config_inputs", fuzz_checks::config_inputs),
        ("token_json", fuzz_checks::token_json),
        ("rate_limit_headers", fuzz_checks::rate_limit_headers),
    ] {
        let dir = format!("{}/fuzz/seeds/{target}", env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            eprintln!("{}", path.display());
            check(&std::fs::read(&path).unwrap());
        }
    }
}
