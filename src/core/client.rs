//! The HTTP client: one connection pool, shared by every thread.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ureq::config::Config as AgentConfig;
use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

use super::config::{invalid, parse_base_url, Config, Secret};
use super::error::Error;
use super::resolver::CachingResolver;
use super::status::Status;
use super::token::{join_scopes, parse_generated, parse_introspection, Introspection, Token};

/// The version of this library, as Cargo.toml states it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest response body read: error bodies are small, and a bound keeps a
/// misbehaving server from filling memory.
const MAX_BODY: u64 = 64 * 1024;

const FORM: &str = "application/x-www-form-urlencoded";

/// Parallelism of [`Client::revoke_tokens`] when the caller gives 0.
pub const DEFAULT_PARALLELISM: usize = 4;
/// The most parallel requests one bulk call makes; also the pool's size,
/// so that every worker keeps its connection.
pub const MAX_PARALLELISM: usize = 32;

/// A Voucherify client. It is `Send + Sync`: share one among all threads,
/// so that they share its connection pool.
#[derive(Debug)]
pub struct Client {
    agent: Agent,
    base_url: String,
    app_id: String,
    secret_key: Secret,
    channel: Option<String>,
}

/// An HTTP answer, body read to the end so that the connection goes back
/// to the pool.
struct Answer {
    status: u16,
    body: Vec<u8>,
    received_at: Instant,
}

impl Client {
    /// Builds a client from a configuration, which it copies.
    pub fn new(config: &Config) -> Result<Client, Error> {
        let app_id = config.app_id.clone().ok_or_else(|| invalid("no application id is set"))?;
        let secret_key =
            config.secret_key.clone().ok_or_else(|| invalid("no secret key is set"))?;
        let url = parse_base_url(&config.base_url)?;
        if !url.is_https && !url.is_loopback && !config.allow_insecure_http {
            return Err(invalid(format!(
                "refusing plain http:// to {}: credentials would travel unencrypted; use https:// or allow insecure HTTP explicitly",
                url.normalized
            )));
        }
        let mut user_agent = format!("libvoucherify/{VERSION}");
        if let Some(suffix) = &config.user_agent_suffix {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }
        let agent_config = AgentConfig::builder()
            // Every status is an answer to map, not a transport error.
            .http_status_as_error(false)
            // Credentials go to the configured host and nowhere else.
            .max_redirects(0)
            .max_redirects_will_error(false)
            // A library must not silently obey proxy variables.
            .proxy(None)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout.min(config.timeout)))
            .max_idle_connections(MAX_PARALLELISM)
            .max_idle_connections_per_host(MAX_PARALLELISM)
            .user_agent(user_agent.as_str())
            .accept("application/json")
            .build();
        let agent = Agent::with_parts(agent_config, DefaultConnector::default(), CachingResolver::default());
        Ok(Client {
            agent,
            base_url: url.normalized,
            app_id,
            secret_key,
            channel: config.channel.clone(),
        })
    }

    /// Revokes an access token. `Ok` on 204; a 404 (the token is unknown,
    /// expired or already revoked) is `Status::TokenNotFound`.
    pub fn revoke_token(&self, access_token: &str) -> Result<(), Error> {
        check_token(access_token)?;
        let answer = self.post_form("/v1/oauth/token/revoke", &[("access_token", access_token)])?;
        match answer.status {
            // 204 is documented; a proxy that rewrites it still means success.
            200..=299 => Ok(()),
            404 => {
                // The live API answers with an empty body; keep whatever a
                // body says (a wrong region's request_id, say) all the same.
                let mut e = Error::from_http(Status::TokenNotFound, "revoke", 404, &answer.body);
                if e.body.message.is_none() {
                    e.message.push_str(": the token is unknown, expired or already revoked");
                }
                Err(e)
            }
            status => Err(Error::from_http(Status::for_http_status(status), "revoke", status, &answer.body)),
        }
    }

    /// Mints an access token with these scopes: a list, or space-separated
    /// strings; they are sent space-separated and the server judges them.
    pub fn generate_token<S: AsRef<str>>(&self, scopes: &[S]) -> Result<Token, Error> {
        let scope = self.checked_scope(scopes)?;
        let answer = self.post_form(
            "/v1/oauth/token",
            &[("grant_type", "client_credentials"), ("scope", &scope)],
        )?;
        match answer.status {
            200 => parse_generated(&answer.body, answer.received_at),
            status => Err(Error::from_http(Status::for_http_status(status), "generate", status, &answer.body)),
        }
    }

    /// Asks whether a token is active. An unknown, expired or revoked token
    /// is `Ok(Introspection::Inactive)`, not an error.
    pub fn introspect_token(&self, access_token: &str) -> Result<Introspection, Error> {
        check_token(access_token)?;
        let answer = self.post_form("/v1/oauth/introspect", &[("access_token", access_token)])?;
        match answer.status {
            200 => parse_introspection(&answer.body, answer.received_at),
            status => Err(Error::from_http(Status::for_http_status(status), "introspect", status, &answer.body)),
        }
    }

    /// Revokes many tokens, `parallelism` at a time over this client's pool
    /// (0 means [`DEFAULT_PARALLELISM`]; at most [`MAX_PARALLELISM`]). One
    /// outcome per token, in input order.
    pub fn revoke_tokens<S: AsRef<str> + Sync>(&self, tokens: &[S], parallelism: usize) -> Vec<Result<(), Error>> {
        let workers = match parallelism {
            0 => DEFAULT_PARALLELISM,
            n => n.min(MAX_PARALLELISM),
        }
        .min(tokens.len());
        let next = AtomicUsize::new(0);
        let mut outcomes: Vec<(usize, Result<(), Error>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(token) = tokens.get(i) else { break done };
                            done.push((i, self.revoke_token(token.as_ref())));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        });
        outcomes.sort_by_key(|(i, _)| *i);
        let mut outcomes = outcomes.into_iter().peekable();
        // A worker that panicked lost its outcomes: those tokens get Panic.
        (0..tokens.len())
            .map(|i| match outcomes.next_if(|(j, _)| *j == i) {
                Some((_, outcome)) => outcome,
                None => Err(Error::new(Status::Panic, "revoke: the worker for this token panicked")),
            })
            .collect()
    }

    /// Scopes joined for the wire, refused when empty or unsafe.
    pub(crate) fn checked_scope<S: AsRef<str>>(&self, scopes: &[S]) -> Result<String, Error> {
        if scopes.iter().any(|s| s.as_ref().chars().any(char::is_control)) {
            return Err(invalid("a scope contains a control character"));
        }
        let scope = join_scopes(scopes);
        if scope.is_empty() {
            return Err(invalid("no scope is given"));
        }
        Ok(scope)
    }

    /// Sends a form to an OAuth endpoint with the credential headers.
    fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<Answer, Error> {
        let body = serde_urlencoded::to_string(fields)
            .map_err(|e| Error::new(Status::Internal, format!("cannot encode the form: {e}")))?;
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base_url))
            .header("X-App-Id", &self.app_id)
            .header("X-App-Token", self.secret_key.expose())
            .content_type(FORM);
        if let Some(channel) = &self.channel {
            request = request.header("X-Voucherify-Channel", channel);
        }
        let url = || format!("POST {}{path}", self.base_url);
        let mut response = request.send(body).map_err(|e| transport_error(&url(), e))?;
        let received_at = Instant::now();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| transport_error(&url(), e).with_http_status(status))?;
        Ok(Answer { status, body, received_at })
    }
}

/// An access token must be non-empty and free of control characters; it is
/// percent-encoded in the body, so any other character is sent as given.
fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid("the access token is empty"));
    }
    if token.chars().any(char::is_control) {
        return Err(invalid("the access token contains a control character"));
    }
    Ok(())
}

/// Maps a failure below HTTP to a status; the message names the request
/// and the cause, never a header or the body that was sent.
fn transport_error(request: &str, e: ureq::Error) -> Error {
    use ureq::Error as E;
    let status = match &e {
        E::Timeout(_) => Status::Timeout,
        E::HostNotFound | E::ConnectionFailed => Status::ConnectionFailed,
        E::Io(io) => io_status(io),
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => Status::TlsError,
        E::Protocol(_) | E::BodyExceedsLimit(_) | E::LargeResponseHeader(..) | E::BodyStalled => {
            Status::UnexpectedResponse
        }
        _ => Status::Internal,
    };
    Error::new(status, format!("{request}: {e}"))
}

fn io_status(e: &io::Error) -> Status {
    use io::ErrorKind as K;
    if let Some(inner) = e.get_ref() {
        // rustls reports handshake failures as io errors wrapping its own.
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return Status::TlsError;
        }
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => Status::Timeout,
        K::InvalidData => Status::UnexpectedResponse,
        _ => Status::ConnectionFailed,
    }
}

impl Error {
    fn with_http_status(mut self, http_status: u16) -> Error {
        self.http_status = http_status;
        self
    }
}

const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<Client>();
};
