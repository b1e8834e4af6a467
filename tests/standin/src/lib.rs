//! Local stand-in for Voucherify's OAuth 2.0 endpoints, for tests only.
//!
//! It serves `/v1/oauth/token`, `/v1/oauth/introspect` and `/v1/oauth/token/revoke`
//! on 127.0.0.1 with the live API's status codes, bodies and headers, records every
//! request, and can be scripted to misbehave (see [`Fault`] and the `fault-` tokens
//! documented in `oauth.rs`). Tokens and the secret key are never printed.
//! It can also serve HTTPS with its own CA (`Options::tls`), and [`Proxy`] is a
//! CONNECT proxy for testing clients behind one. [`Behaviour`] makes it limit,
//! refuse and close connections the way the live API does.

mod faults;
mod oauth;
mod protected;
mod proxy;
mod server;
mod state;
mod tls;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::watch;

use crate::state::Shared;

pub use crate::proxy::{ConnectRecord, Proxy};

/// How to start a [`StandIn`].
///
/// Deliberately not `Debug`: it holds the secret key.
#[derive(Clone)]
pub struct Options {
    pub app_id: String,
    pub secret_key: String,
    /// Lifetime of newly minted tokens, in seconds (the live API uses 900).
    pub token_lifetime_secs: u64,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve HTTPS with a certificate for 127.0.0.1 and localhost, signed by a CA
    /// made for this stand-in (see [`StandIn::ca_pem`]).
    pub tls: bool,
    /// Wait this long before answering each `/v1/` request, like a server
    /// across a network (benchmarks of parallel calls); 0 answers at once.
    pub latency_ms: u64,
    /// Limits, quotas, idle connections and error bodies; also what
    /// `/_standin/reset` goes back to.
    pub behaviour: Behaviour,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            app_id: "standin-app-id".to_string(),
            secret_key: "standin-secret-key".to_string(),
            token_lifetime_secs: 900,
            port: 0,
            tls: false,
            latency_ms: 0,
            behaviour: Behaviour::default(),
        }
    }
}

/// One request served under `/v1/`, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path plus query string, if the client sent one.
    pub path: String,
    /// Lowercase names, in the order the client sent them.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request arrived (its head and body read), by the wall clock.
    pub received_at: std::time::SystemTime,
    /// 429 or 402 when the rate limit or a spent quota answered it instead of
    /// the endpoint.
    pub refused_by_limit: Option<u16>,
}

/// How the stand-in behaves where the live API differs from a plain server.
///
/// Set at start (`Options::behaviour`, the binary's flags) or at any time
/// ([`StandIn::set_behaviour`], or `POST /_standin/behaviour` with this as
/// JSON, missing fields taking their defaults). Setting it restarts the
/// counters of the window, the cycle and the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// The limit every `/v1/` call counts against, refused ones included.
    pub rate_limit: RateLimitRule,
    /// Calls the billing cycle allows; past them every call is answered 429
    /// with `X-Rate-Limit-Type: api_calls_cycle`. None: no cycle limit.
    pub cycle_calls: Option<u64>,
    /// Calls the pricing plan allows; past them every call is answered 402.
    /// None: no plan limit.
    pub plan_calls: Option<u64>,
    /// Closes a kept-alive connection once it has been idle this long, as
    /// load balancers do. None: kept open.
    pub idle_close_ms: Option<u64>,
    /// The shape of the stand-in's own 400 bodies.
    pub error_bodies: ErrorBodies,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            rate_limit: RateLimitRule::default(),
            cycle_calls: None,
            plan_calls: None,
            idle_close_ms: None,
            error_bodies: ErrorBodies::Spec,
        }
    }
}

/// `calls` per window of `window_secs`, windows aligned on multiples of
/// `window_secs` in Unix time (a per-minute plan's limit clears on the
/// minute). Past it, calls are answered 429 with `Retry-After` and
/// `X-Rate-Limit-Remaining: 0` until the window ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitRule {
    pub calls: u64,
    pub window_secs: u64,
    /// `X-Rate-Limit-Type`: `api_calls`, `bulk_api_calls` or `webhook_calls`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Send `Retry-After` with the 429 (the live API does); without it only
    /// `X-Rate-Limit-Retry` says when to come back.
    pub retry_after: bool,
}

impl Default for RateLimitRule {
    /// Far above what any test sends, so only tests that ask meet it.
    fn default() -> Self {
        RateLimitRule {
            calls: 1_000_000,
            window_secs: 60,
            kind: "api_calls".to_string(),
            retry_after: true,
        }
    }
}

/// Error bodies the stand-in writes itself (scripted faults write their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorBodies {
    /// As the spec's examples: a 400 has only `code`, `key` and `message`;
    /// other errors also carry `details` and `request_id`.
    Spec,
    /// Every error carries `details` and `request_id`.
    Full,
}

/// A scripted answer for the next `/v1/oauth/*` request.
///
/// In JSON: `{"respond": {"status": 503, "headers": {"Retry-After": "1"}, "body": "..."}}`,
/// `"hang"`, `"close"`, `"reset"`, `"reset_mid_body"`, `"endless_body"`,
/// `{"trickle": {"interval_ms": 100}}` or `{"huge_body": {"bytes": 52428800}}` (both
/// fields optional, so `{"trickle": {}}` works). `headers` may be an object or a list
/// of `[name, value]` pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Answer exactly this (no rate-limit headers are added).
    Respond {
        status: u16,
        #[serde(default, deserialize_with = "headers_from_map_or_pairs")]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
    },
    /// Read the request, then never answer; the connection is dropped at shutdown.
    Hang,
    /// Read the request, then drop the connection without sending a byte.
    Close,
    /// Read the request, then reset the connection (RST, via SO_LINGER 0) without answering.
    Reset,
    /// 200 announcing `Content-Length: 1000`, then 10 bytes of body, then RST.
    ResetMidBody,
    /// 200 with a 200-byte JSON body sent one byte every `interval_ms` (default 100).
    Trickle {
        #[serde(default = "default_trickle_ms")]
        interval_ms: u64,
    },
    /// 500 with a chunked body that never ends, sent as fast as the client reads.
    EndlessBody,
    /// 500 with a `Content-Length` body of `bytes` (default 50 MiB) of `x`.
    HugeBody {
        #[serde(default = "default_huge_bytes")]
        bytes: u64,
    },
}

pub(crate) fn default_trickle_ms() -> u64 {
    100
}

pub(crate) fn default_huge_bytes() -> u64 {
    50 * 1024 * 1024
}

fn headers_from_map_or_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Headers {
        Pairs(Vec<(String, String)>),
        // A JSON object loses its order here; use pairs when order matters.
        Map(std::collections::BTreeMap<String, String>),
    }
    Ok(match Headers::deserialize(d)? {
        Headers::Pairs(pairs) => pairs,
        Headers::Map(map) => map.into_iter().collect(),
    })
}

/// A port on 127.0.0.1 where connecting times out: its listener's accept
/// queue is full and never drained, so the kernel drops new SYNs, as a
/// firewall that drops packets would. Closed when dropped.
pub struct Unreachable {
    port: u16,
    _listener: socket2::Socket,
    _queued: std::net::TcpStream,
}

impl Unreachable {
    pub fn new() -> io::Result<Unreachable> {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        listener.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
        // A backlog of 0 queues one connection; ours fills it.
        listener.listen(0)?;
        let port = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("no IPv4 address"))?
            .port();
        let queued = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
        Ok(Unreachable {
            port,
            _listener: listener,
            _queued: queued,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A running stand-in. Dropping it stops the server and joins its thread.
pub struct StandIn {
    port: u16,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Binds 127.0.0.1:`options.port` and starts serving on a background thread.
    pub fn start(options: Options) -> io::Result<StandIn> {
        // Bind here, not on the server thread, so errors reach the caller and the
        // socket already accepts (into its backlog) when we return.
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();

        let tls = if options.tls { Some(tls::generate()?) } else { None };
        let ca_pem = tls.as_ref().map(|tls| tls.ca_pem.clone());
        let acceptor = tls.map(|tls| tls.acceptor);

        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(&options));

        let server_shared = shared.clone();
        let thread = server::spawn_server_thread("vf-standin", move || async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => server::serve(listener, acceptor, server_shared, shutdown_rx).await,
                Err(e) => eprintln!("vf-standin: cannot register listener: {e}"),
            }
        })?;

        Ok(StandIn {
            port,
            ca_pem,
            shared,
            shutdown,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with `Options::tls`), without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The PEM of the CA that signed the server certificate, with `Options::tls`.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// TCP connections accepted since start (not cleared by `reset_log`), so tests
    /// can check that a client reuses its connection.
    pub fn connections(&self) -> usize {
        self.shared.connections()
    }

    /// TLS handshakes that resumed an earlier session, since start.
    pub fn tls_resumed(&self) -> usize {
        self.shared.tls_resumed()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    pub fn secret_key(&self) -> &str {
        &self.shared.secret_key
    }

    /// Mints an active token with this scope, without HTTP and without checking the scope.
    pub fn mint_token(&self, scope: &str) -> String {
        self.shared.mint(scope).access_token
    }

    /// Adds an active token of this exact name (any string), as if minted.
    pub fn add_token(&self, access_token: &str, scope: &str) {
        self.shared.mint_named(access_token, scope);
    }

    /// Requests served under `/v1/` since the last reset, oldest first
    /// (only the latest 10,000 are kept).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Number of requests served under `/v1/` since the last reset (not capped).
    pub fn request_count(&self) -> usize {
        self.shared.request_count()
    }

    /// Clears the request log and its counts.
    pub fn reset_log(&self) {
        self.shared.reset_log();
    }

    /// Queues scripted answers for the next `/v1/oauth/*` requests, first in first out.
    pub fn push_faults(&self, faults: Vec<Fault>) {
        self.shared.push_faults(faults);
    }

    /// Changes how the stand-in behaves from the next request on, and
    /// restarts the rate-limit window and the quotas' counts.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.shared.set_behaviour(behaviour);
    }

    pub fn behaviour(&self) -> Behaviour {
        self.shared.behaviour()
    }

    /// Requests the rate limit or a quota answered (429 or 402) since the
    /// last reset.
    pub fn refused_by_limit(&self) -> usize {
        self.shared.counters().refused
    }

    /// The most `/v1/` requests being answered at once since the last reset.
    pub fn max_in_flight(&self) -> usize {
        self.shared.counters().max_in_flight
    }

    /// Kept-alive connections closed for being idle (never reset).
    pub fn idle_closes(&self) -> usize {
        self.shared.idle_closes()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
