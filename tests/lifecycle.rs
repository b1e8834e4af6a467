//! Generate, introspect, the token source and bulk revoke, against the
//! local stand-in.

use std::sync::{Arc, Barrier};
use std::time::Duration;

mod common;

use common::single_attempt_config;
use vf_standin::{Fault, Options, StandIn};
use voucherify::{Client, Introspection, Status, TokenSource};

fn standin_with_lifetime(secs: u64) -> StandIn {
    common::standin(Options {
        token_lifetime_secs: secs,
        ..Options::default()
    })
}

fn client_for(server: &StandIn) -> Arc<Client> {
    Arc::new(Client::new(&single_attempt_config(server)).unwrap())
}

fn count(server: &StandIn, path: &str) -> usize {
    server.requests().iter().filter(|r| r.path == path).count()
}

const GENERATE: &str = "/v1/oauth/token";
const REVOKE: &str = "/v1/oauth/token/revoke";

#[test]
fn generate_introspect_revoke_introspect() {
    let server = standin_with_lifetime(900);
    let client = client_for(&server);
    let token = client.generate_token(&["api", "vouchers campaigns"]).unwrap();
    assert_eq!(token.access_token.len(), 50);
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.scope, "api vouchers campaigns");
    assert_eq!(token.expires_in, 900);
    assert!(token.client_id.starts_with("cl_"));
    let sent: Vec<(String, String)> = serde_urlencoded::from_bytes(&server.requests()[0].body).unwrap();
    assert_eq!(sent[0], ("grant_type".into(), "client_credentials".into()));
    assert_eq!(sent[1], ("scope".into(), "api vouchers campaigns".into()));

    match client.introspect_token(&token.access_token).unwrap() {
        Introspection::Active(seen) => {
            assert_eq!(seen.access_token, token.access_token);
            assert_eq!(seen.scope, token.scope);
        }
        Introspection::Inactive => panic!("a new token is active"),
    }
    client.revoke_token(&token.access_token).unwrap();
    assert_eq!(
        client.introspect_token(&token.access_token).unwrap(),
        Introspection::Inactive
    );
    assert_eq!(
        client.introspect_token("never-issued").unwrap(),
        Introspection::Inactive
    );
}

#[test]
fn scopes_are_passed_through_for_the_server_to_judge() {
    let server = standin_with_lifetime(900);
    let client = client_for(&server);
    let err = client.generate_token(&["vouchers,campaigns"]).unwrap_err();
    assert_eq!((err.status, err.http_status), (Status::BadRequest, 400));
    assert_eq!(err.body.key.as_deref(), Some("invalid_scope"));
    let before = server.request_count();
    for bad in [&[][..], &[" "], &["api\r\nX: 1"]] {
        assert_eq!(client.generate_token(bad).unwrap_err().status, Status::InvalidArgument);
    }
    assert_eq!(client.introspect_token("").unwrap_err().status, Status::InvalidArgument);
    assert_eq!(server.request_count(), before, "bad input sent nothing");
}

#[test]
fn token_source_mints_once_and_caches() {
    let server = standin_with_lifetime(900);
    let source = TokenSource::new(client_for(&server), &["api"]).unwrap();
    assert_eq!(count(&server, GENERATE), 0, "nothing minted before first use");
    let first = source.token().unwrap();
    for _ in 0..10 {
        assert_eq!(source.token().unwrap().access_token, first.access_token);
    }
    assert_eq!(count(&server, GENERATE), 1);
    assert_eq!(first.authorization(), format!("Bearer {}", first.access_token));
}

#[test]
fn token_source_refreshes_before_expiry() {
    // Tokens live 3 s; with a 1 s margin the source replaces them after ~2 s.
    let server = standin_with_lifetime(3);
    let client = client_for(&server);
    let mut source = TokenSource::new(client.clone(), &["api"]).unwrap();
    source.set_refresh_margin(Duration::from_secs(1));
    let first = source.token().unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    let second = source.token().unwrap();
    assert_ne!(first.access_token, second.access_token);
    assert!(matches!(
        client.introspect_token(&second.access_token).unwrap(),
        Introspection::Active(_)
    ));
    assert_eq!(count(&server, GENERATE), 2);
}

#[test]
fn expiry_follows_the_local_clock_not_the_servers() {
    let server = standin_with_lifetime(900);
    // A server whose clock is an hour behind: expires_at is in the past,
    // but expires_in says 900 s are left.
    server.push_faults(vec![Fault::Respond {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"access_token":"skewed-token","client_id":"cl_x","expires_at":1000,"expires_in":900,"scope":"api","token_type":"Bearer"}"#.into(),
    }]);
    let mut source = TokenSource::new(client_for(&server), &["api"]).unwrap();
    source.set_revoke_on_drop(false);
    assert_eq!(source.token().unwrap().access_token, "skewed-token");
    assert_eq!(source.token().unwrap().access_token, "skewed-token");
    assert_eq!(count(&server, GENERATE), 1);
}

#[test]
fn many_threads_asking_at_once_cause_one_request() {
    let server = standin_with_lifetime(900);
    let source = TokenSource::new(client_for(&server), &["api"]).unwrap();
    let threads = 16;
    let barrier = Barrier::new(threads);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    source.token().unwrap().access_token
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(count(&server, GENERATE), 1);
}

#[test]
fn forced_refresh_mints_a_new_token() {
    let server = standin_with_lifetime(900);
    let source = TokenSource::new(client_for(&server), &["api"]).unwrap();
    let first = source.token().unwrap();
    let second = source.refresh().unwrap();
    assert_ne!(first.access_token, second.access_token);
    assert_eq!(source.token().unwrap().access_token, second.access_token);
}

#[test]
fn a_failed_refresh_hands_out_the_still_valid_token() {
    let server = standin_with_lifetime(4);
    let mut source = TokenSource::new(client_for(&server), &["api"]).unwrap();
    source.set_refresh_margin(Duration::from_secs(2));
    let first = source.token().unwrap();
    std::thread::sleep(Duration::from_millis(2300));
    server.push_faults(vec![Fault::Respond {
        status: 503,
        headers: vec![],
        body: String::new(),
    }]);
    assert_eq!(
        source.token().unwrap().access_token,
        first.access_token,
        "due but valid: kept"
    );
    // For the failure's one-second backoff: the valid token, no request.
    let requests = server.request_count();
    assert_eq!(source.token().unwrap().access_token, first.access_token);
    assert_eq!(server.request_count(), requests, "no request within the backoff");
    std::thread::sleep(Duration::from_millis(1050));
    assert_ne!(
        source.token().unwrap().access_token,
        first.access_token,
        "the first call after the backoff refreshes"
    );
    server.push_faults(vec![Fault::Respond {
        status: 503,
        headers: vec![],
        body: String::new(),
    }]);
    assert_eq!(
        source.refresh().unwrap_err().status,
        Status::ServerError,
        "a forced refresh reports failure"
    );
}

#[test]
fn dropping_the_source_revokes_its_token_unless_told_not_to() {
    let server = standin_with_lifetime(900);
    let client = client_for(&server);
    let source = TokenSource::new(client.clone(), &["api"]).unwrap();
    let token = source.token().unwrap();
    drop(source);
    assert_eq!(
        client.introspect_token(&token.access_token).unwrap(),
        Introspection::Inactive
    );

    let mut keep = TokenSource::new(client.clone(), &["api"]).unwrap();
    keep.set_revoke_on_drop(false);
    let kept = keep.token().unwrap();
    drop(keep);
    assert!(matches!(
        client.introspect_token(&kept.access_token).unwrap(),
        Introspection::Active(_)
    ));

    let unused = TokenSource::new(client, &["api"]).unwrap();
    let revokes = count(&server, REVOKE);
    drop(unused);
    assert_eq!(count(&server, REVOKE), revokes, "nothing minted, nothing to revoke");
}

#[test]
fn bulk_revoke_gives_one_outcome_per_token_in_order() {
    let server = standin_with_lifetime(900);
    let client = client_for(&server);
    let mut tokens: Vec<String> = (0..40).map(|_| server.mint_token("api")).collect();
    tokens[3] = "unknown-token".into();
    tokens[17] = String::new();
    tokens[25] = "fault-status-429".into();
    for parallelism in [0, 1, 4, 16, 1000] {
        let outcomes = client.revoke_tokens(&tokens, parallelism);
        assert_eq!(outcomes.len(), tokens.len());
        for (i, outcome) in outcomes.iter().enumerate() {
            let expected = match i {
                3 => Some(Status::TokenNotFound),
                17 => Some(Status::InvalidArgument),
                25 => Some(Status::RateLimited),
                // Only the first round revokes; later rounds find them gone.
                _ if parallelism == 0 => None,
                _ => Some(Status::TokenNotFound),
            };
            assert_eq!(
                outcome.as_ref().err().map(|e| e.status),
                expected,
                "token {i}, parallelism {parallelism}"
            );
        }
    }
    assert!(client.revoke_tokens::<&str>(&[], 4).is_empty());
}
