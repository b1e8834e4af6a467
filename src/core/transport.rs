//! One HTTP exchange with Voucherify, retried when that is safe and useful:
//! the agent (pool, timeouts, TLS, proxy), the credential headers, the
//! retry loop, and the mapping of transport failures to statuses.

use std::io;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;
use ureq::config::Config as AgentConfig;
use ureq::http::header::CONTENT_TYPE;
use ureq::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::transport::{Connector, DefaultConnector};
use ureq::{Agent, Proxy};

use super::cancel::Cancel;
use super::config::{invalid, parse_base_url, BaseUrl, Config, Secret, TlsRoots};
use super::error::{one_line, ApiErrorBody, Error, RateLimit};
use super::fork_safe::ForkSafe;
use super::observe::{ClientCounters, Level, Logger, ObservedConnections};
use super::proxy;
use super::resolver::CachingResolver;
use super::status::Status;
use super::steady_timeouts::SteadyTimeouts;

/// The version of this library, as Cargo.toml states it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest response body read: error bodies are small, and a bound keeps a
/// misbehaving server from filling memory.
const MAX_BODY: u64 = 64 * 1024;

/// Per-connection buffers, and the largest response head accepted (the
/// input buffer must hold it whole).
const INPUT_BUFFER: usize = 32 * 1024;
const OUTPUT_BUFFER: usize = 16 * 1024;
const MAX_RESPONSE_HEADER: usize = 16 * 1024;

/// The most parallel requests one bulk call makes; also the pool's size,
/// so that every worker keeps its connection.
pub const MAX_PARALLELISM: usize = 32;

/// Longest backoff between attempts when the server names no wait.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

const FORM: &str = "application/x-www-form-urlencoded";

/// An HTTP answer, body read to the end so that the connection goes back
/// to the pool.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub received_at: Instant,
    pub attempts: u32,
    /// An earlier attempt failed in a way that leaves open whether the
    /// server acted on it (the answer was lost).
    pub earlier_attempt_may_have_acted: bool,
    pub rate_limit: RateLimit,
    /// How long the server asked us to wait before another call, if it did.
    pub server_wait: Option<Duration>,
}

/// The OAuth endpoints this library calls.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Endpoint {
    Token = 0,
    Introspect = 1,
    Revoke = 2,
}

impl Endpoint {
    const ALL: [Endpoint; 3] = [Endpoint::Token, Endpoint::Introspect, Endpoint::Revoke];

    fn path(self) -> &'static str {
        match self {
            Endpoint::Token => "/v1/oauth/token",
            Endpoint::Introspect => "/v1/oauth/introspect",
            Endpoint::Revoke => "/v1/oauth/token/revoke",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Transport {
    agent: Agent,
    /// Each endpoint's URL, parsed once, in [`Endpoint`] order.
    urls: [Uri; 3],
    /// The content type, credential, channel and caller's headers, checked
    /// and built once.
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    max_attempts: u32,
    retry_base_delay: Duration,
    last_rate_limit: LastRateLimit,
    /// Ends retry waits at once; see [`Transport::post_form`].
    pub cancel: Cancel,
    pub logger: Logger,
    pub counters: Arc<ClientCounters>,
    /// Taken out of error answers that echo it (see [`redacted`]).
    secret_key: Secret,
}

impl Transport {
    pub fn new(config: &Config) -> Result<Transport, Error> {
        let app_id = config
            .app_id
            .clone()
            .ok_or_else(|| invalid("no application id is set"))?;
        let secret_key = config
            .secret_key
            .clone()
            .ok_or_else(|| invalid("no secret key is set"))?;
        let url = parse_base_url(&config.base_url)?;
        let proxy = proxy_for(config, &url)?;
        if !url.is_https && !config.allow_insecure_http {
            // Through a proxy, even a loopback target's credentials cross the network.
            if proxy.is_some() {
                return Err(invalid(format!(
                    "refusing plain http:// to {} through a proxy: credentials would cross the network unencrypted; use https:// or allow insecure HTTP explicitly",
                    url.normalized
                )));
            }
            if !url.is_loopback() {
                return Err(invalid(format!(
                    "refusing plain http:// to {}: credentials would travel unencrypted; use https:// or allow insecure HTTP explicitly",
                    url.normalized
                )));
            }
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
            // None means none: ureq reads no environment of its own.
            .proxy(proxy)
            .tls_config(tls_config(config, url.is_https)?)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout.min(config.timeout)))
            // Voucherify's requests and answers are small: ureq's 128 KiB
            // buffers each way would make every pooled connection cost 256 KiB.
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .max_response_header_size(MAX_RESPONSE_HEADER)
            .max_idle_connections(MAX_PARALLELISM)
            .max_idle_connections_per_host(MAX_PARALLELISM)
            .user_agent(user_agent.as_str())
            .accept("application/json")
            .build();
        let mut secret_header = header_value(secret_key.expose())?;
        // Kept out of any debug output of the http crate.
        secret_header.set_sensitive(true);
        let mut headers = vec![
            (CONTENT_TYPE, HeaderValue::from_static(FORM)),
            (HeaderName::from_static("x-app-id"), header_value(&app_id)?),
            (HeaderName::from_static("x-app-token"), secret_header),
        ];
        if let Some(channel) = &config.channel {
            headers.push((HeaderName::from_static("x-voucherify-channel"), header_value(channel)?));
        }
        for (name, value) in &config.extra_headers {
            let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid("a header name is not valid"))?;
            headers.push((name, header_value(value)?));
        }
        let url_of = |e: Endpoint| {
            format!("{}{}", url.normalized, e.path())
                .parse::<Uri>()
                .map_err(|_| invalid("the base URL is not valid"))
        };
        let [token, introspect, revoke] = Endpoint::ALL.map(url_of);
        let counters = Arc::new(ClientCounters::default());
        let observed = ObservedConnections::new(config.logger.clone(), Arc::clone(&counters));
        Ok(Transport {
            agent: Agent::with_parts(
                agent_config,
                // Observed last: it tells why ForkSafe refused a connection.
                DefaultConnector::default()
                    .chain(SteadyTimeouts)
                    .chain(ForkSafe)
                    .chain(observed),
                CachingResolver::default(),
            ),
            urls: [token?, introspect?, revoke?],
            headers,
            timeout: config.timeout,
            max_attempts: config.max_attempts,
            retry_base_delay: config.retry_base_delay,
            last_rate_limit: LastRateLimit::default(),
            cancel: Cancel::default(),
            logger: config.logger.clone(),
            counters,
            secret_key,
        })
    }

    /// Sends a form to an OAuth endpoint, retrying transient failures with
    /// exponential backoff and full jitter (or the wait the server asks
    /// for), within the attempt limit and never past the total timeout.
    ///
    /// A call that is not `idempotent` (minting a token) is retried only
    /// when the server certainly did not act, so no token is minted twice.
    pub fn post_form(&self, endpoint: Endpoint, fields: &[(&str, &str)], idempotent: bool) -> Result<Answer, Error> {
        let body = encode_form(fields)?;
        let deadline = Instant::now() + self.timeout;
        let mut attempts = 0;
        let mut may_have_acted = false;
        self.counters.call();
        loop {
            attempts += 1;
            // The first attempt has the agent's whole budget; later ones what is left.
            let budget = (attempts > 1).then(|| deadline.saturating_duration_since(Instant::now()));
            let path = endpoint.path();
            let (max, log) = (self.max_attempts, &self.logger);
            log.log(
                Level::Debug,
                format_args!("POST {path}: sending, attempt {attempts} of {max}"),
            );
            self.counters.request();
            let sent_at = Instant::now();
            let outcome = self.send_once(endpoint, &body, budget).map(|mut answer| {
                if !(200..300).contains(&answer.status) {
                    let token = fields.iter().find(|(name, _)| *name == "access_token").map(|(_, v)| *v);
                    answer.body = redacted(answer.body, &[self.secret_key.expose(), token.unwrap_or_default()]);
                }
                answer
            });
            self.observe_outcome(path, &outcome, sent_at.elapsed());
            let (mut retry, server_wait) = match &outcome {
                Ok(answer) => (Retry::for_http_status(answer.status), answer.server_wait),
                Err((_, retry)) => (*retry, None),
            };
            if retry == Retry::MayHaveActed && !idempotent {
                retry = Retry::No;
            }
            let give_up = retry == Retry::No || attempts >= self.max_attempts;
            // The server's wait is honoured in full, or not at all when the
            // deadline comes first; our own backoff is capped.
            let delay = match give_up {
                true => Duration::ZERO,
                false => server_wait.unwrap_or_else(|| self.backoff(attempts).min(MAX_RETRY_DELAY)),
            };
            if give_up || Instant::now() + delay >= deadline {
                if !give_up {
                    log.log(
                        Level::Warn,
                        format_args!(
                            "POST {path}: not retried: waiting {} ms would pass the call's deadline",
                            delay.as_millis()
                        ),
                    );
                }
                return match outcome {
                    Ok(mut answer) => {
                        answer.attempts = attempts;
                        answer.earlier_attempt_may_have_acted = may_have_acted;
                        Ok(answer)
                    }
                    Err((mut e, _)) => {
                        e.attempts = attempts;
                        if attempts > 1 {
                            e.message.push_str(&format!(" (after {attempts} attempts)"));
                        }
                        Err(e)
                    }
                };
            }
            may_have_acted |= retry == Retry::MayHaveActed;
            self.counters.retry();
            let why = retry_reason(&outcome);
            match server_wait {
                Some(_) => {
                    self.counters.paused(delay);
                    let until = httpdate::fmt_http_date(SystemTime::now() + delay);
                    log.log(
                        Level::Warn,
                        format_args!("POST {path}: rate-limit pause of {} ms, until {until}, because the server asked ({why}); then attempt {} of {max}", delay.as_millis(), attempts + 1),
                    );
                }
                None => log.log(
                    Level::Warn,
                    format_args!(
                        "POST {path}: retry scheduled in {} ms ({why}); attempt {} of {max}",
                        delay.as_millis(),
                        attempts + 1
                    ),
                ),
            }
            if !self.cancel.sleep(delay) {
                log.log(
                    Level::Warn,
                    format_args!("POST {path}: cancelled while waiting to retry"),
                );
                return Err(cancelled_while_waiting(&outcome, attempts, delay));
            }
        }
    }

    /// One request, never repeated, within one timeout: for work that is
    /// best effort (the revoke when a token source is freed).
    pub fn post_form_once(&self, endpoint: Endpoint, fields: &[(&str, &str)]) -> Result<Answer, Error> {
        self.send_once(endpoint, &encode_form(fields)?, None)
            .map_err(|(e, _)| e)
    }

    /// The client's total timeout for one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Full jitter: a uniformly random wait up to base * 2^(attempt - 1).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry_base_delay
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        ceiling.mul_f64(fastrand::f64())
    }

    /// One request and its answer, or the failure and whether to retry it.
    fn send_once(&self, endpoint: Endpoint, body: &str, budget: Option<Duration>) -> Result<Answer, (Error, Retry)> {
        let url = &self.urls[endpoint as usize];
        let mut request = self.agent.post(url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(budget) = budget {
            request = request.config().timeout_global(Some(budget)).build();
        }
        let failed = |e: ureq::Error| transport_error(&format!("POST {url}"), e);
        let mut response = request.send(body).map_err(failed)?;
        let status = response.status().as_u16();
        let (rate_limit, server_wait) = RateLimit::from_headers(response.headers());
        self.last_rate_limit.store(&rate_limit);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| {
                let (mut error, _) = failed(e);
                error.http_status = status;
                error.rate_limit = rate_limit.clone();
                // The server answered: whatever it did is done; do not repeat.
                (error, Retry::No)
            })?;
        Ok(Answer {
            status,
            body,
            received_at: Instant::now(),
            attempts: 1,
            earlier_attempt_may_have_acted: false,
            rate_limit,
            server_wait,
        })
    }

    /// Counts an attempt's outcome and logs it: the answer's status, how
    /// long it took and Voucherify's request id, or the failure.
    fn observe_outcome(&self, path: &str, outcome: &Result<Answer, (Error, Retry)>, took: Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        match outcome {
            Ok(answer) => {
                self.counters.answer(answer.status);
                if self.logger.enabled(Level::Debug) {
                    let request_id = ApiErrorBody::parse(&answer.body).and_then(|b| b.request_id);
                    let request_id = request_id.as_deref().unwrap_or("-");
                    self.logger.log(
                        Level::Debug,
                        format_args!(
                            "POST {path}: HTTP {} in {ms:.1} ms [request_id {}]",
                            answer.status,
                            one_line(request_id)
                        ),
                    );
                }
            }
            Err((error, _)) => {
                if error.http_status == 0 {
                    self.counters.transport_failure(error.status);
                } else {
                    self.counters.answer(error.http_status);
                }
                self.logger.log(
                    Level::Debug,
                    format_args!("POST {path}: failed after {ms:.1} ms: {}", error.message),
                );
            }
        }
    }

    /// The rate-limit headers of the latest answer on this client.
    pub fn last_rate_limit(&self) -> RateLimit {
        self.last_rate_limit.load()
    }
}

fn encode_form(fields: &[(&str, &str)]) -> Result<String, Error> {
    serde_urlencoded::to_string(fields)
        .map_err(|e| Error::new(Status::Internal, format!("cannot encode the form: {e}")))
}

/// The outcome of a call whose wait before its next attempt was cancelled:
/// what the last attempt got is kept (status, headers), so nothing sent is
/// reported as unsent.
fn cancelled_while_waiting(last: &Result<Answer, (Error, Retry)>, attempts: u32, delay: Duration) -> Error {
    let (last_outcome, http_status, rate_limit) = match last {
        Ok(answer) => (
            format!("HTTP {}", answer.status),
            answer.status,
            answer.rate_limit.clone(),
        ),
        Err((e, _)) => (e.message.clone(), e.http_status, e.rate_limit.clone()),
    };
    Error {
        http_status,
        attempts,
        rate_limit,
        ..Error::new(
            Status::Cancelled,
            format!(
                "cancelled while waiting {} ms to retry (attempt {attempts}: {last_outcome})",
                delay.as_millis()
            ),
        )
    }
}

/// A header value checked again by the http crate (the setters already
/// refused control characters).
fn header_value(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| invalid("a header value contains a character HTTP does not allow"))
}

/// An error answer with any echo of the secret key or of the token sent
/// replaced, so that neither reaches a message, a raw field or a log
/// record. A success is never changed (introspection names its token).
/// Strings too short to be secrets are left alone.
fn redacted(body: Vec<u8>, secrets: &[&str]) -> Vec<u8> {
    const MIN_SECRET_LEN: usize = 8;
    const REDACTED: &[u8] = b"<redacted>";
    let mut body = body;
    for secret in secrets
        .iter()
        .map(|s| s.as_bytes())
        .filter(|s| s.len() >= MIN_SECRET_LEN)
    {
        if !body.windows(secret.len()).any(|w| w == secret) {
            continue;
        }
        let mut out = Vec::with_capacity(body.len());
        let mut rest = &body[..];
        while let Some(at) = rest.windows(secret.len()).position(|w| w == secret) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(REDACTED);
            rest = &rest[at + secret.len()..];
        }
        out.extend_from_slice(rest);
        body = out;
    }
    body
}

/// Why an attempt is retried, for the log.
fn retry_reason(outcome: &Result<Answer, (Error, Retry)>) -> String {
    match outcome {
        Ok(answer) => format!("HTTP {}", answer.status),
        Err((error, _)) => error.status.to_string(),
    }
}

/// Whether a failed attempt is worth repeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retry {
    No,
    /// The request did not reach the server, or the server did not act.
    NotActed,
    /// The request may have been acted on and its answer lost.
    MayHaveActed,
}

impl Retry {
    fn for_http_status(status: u16) -> Retry {
        match status {
            // Rate limited or unavailable: the server did nothing.
            429 | 503 => Retry::NotActed,
            // A gateway failed: the server behind it may have acted.
            502 | 504 => Retry::MayHaveActed,
            _ => Retry::No,
        }
    }
}

/// Maps a failure below HTTP to a status and a retry decision; the message
/// names the request and the cause, never a header or the body sent.
fn transport_error(request: &str, e: ureq::Error) -> (Error, Retry) {
    use ureq::Error as E;
    use ureq::Timeout as T;
    let (status, retry) = match &e {
        E::Timeout(T::Connect | T::Resolve) => (Status::Timeout, Retry::NotActed),
        E::Timeout(_) => (Status::Timeout, Retry::MayHaveActed),
        E::ConnectionFailed => (Status::ConnectionFailed, Retry::NotActed),
        E::HostNotFound => (Status::ConnectionFailed, Retry::No),
        E::Io(io) => io_status(io),
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => (Status::TlsError, Retry::No),
        E::ConnectProxyFailed(_) | E::InvalidProxyUrl => (Status::ConnectionFailed, Retry::No),
        E::Protocol(_) | E::BodyExceedsLimit(_) | E::LargeResponseHeader(..) | E::BodyStalled => {
            (Status::UnexpectedResponse, Retry::No)
        }
        _ => (Status::Internal, Retry::No),
    };
    let mut message = format!("{request}: {e}");
    if status == Status::TlsError {
        message.push_str(" (the server's certificate is checked against the configured trust roots)");
    }
    (Error::new(status, message), retry)
}

fn io_status(e: &io::Error) -> (Status, Retry) {
    use io::ErrorKind as K;
    if let Some(inner) = e.get_ref() {
        // rustls reports handshake failures as io errors wrapping its own.
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return (Status::TlsError, Retry::No);
        }
    }
    match e.kind() {
        K::ConnectionRefused => (Status::ConnectionFailed, Retry::NotActed),
        K::TimedOut | K::WouldBlock => (Status::Timeout, Retry::MayHaveActed),
        K::InvalidData => (Status::UnexpectedResponse, Retry::No),
        // Reset, aborted, closed early: the request may have been read.
        _ => (Status::ConnectionFailed, Retry::MayHaveActed),
    }
}

impl RateLimit {
    /// One pass over the answer's headers: this runs on every call. Also
    /// returns how long the server asked us to wait, if it did.
    fn from_headers(headers: &HeaderMap) -> (RateLimit, Option<Duration>) {
        let now = SystemTime::now();
        let mut rate_limit = RateLimit::default();
        // Measured now: an HTTP date has whole seconds, but the clock does
        // not, and rounding the time left to seconds would cut the wait short.
        let mut retry_after_date = None;
        for (name, value) in headers {
            let slot = match name.as_str() {
                "x-rate-limit-limit" => &mut rate_limit.limit,
                "x-rate-limit-remaining" => &mut rate_limit.remaining,
                "x-rate-limit-retry" => &mut rate_limit.retry_at,
                "retry-after" => &mut rate_limit.retry_after,
                _ => continue,
            };
            let Ok(text) = value.to_str().map(str::trim) else {
                continue;
            };
            *slot = text.parse::<i64>().ok().or_else(|| {
                // Retry-After may be an HTTP date rather than seconds.
                let left = httpdate::parse_http_date(text)
                    .ok()?
                    .duration_since(now)
                    .unwrap_or_default();
                if name == "retry-after" {
                    retry_after_date = Some(left);
                }
                // Reported in whole seconds, rounded up like the wait itself.
                Some(left.as_secs() as i64 + i64::from(left.subsec_nanos() > 0))
            });
        }
        let wait = retry_after_date.or_else(|| rate_limit.wait());
        (rate_limit, wait)
    }

    /// How long the server asked us to wait, if it did: `Retry-After`
    /// seconds, else until `X-Rate-Limit-Retry` (Unix seconds).
    fn wait(&self) -> Option<Duration> {
        if let Some(secs) = self.retry_after {
            return Some(Duration::from_secs(secs.max(0) as u64));
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        self.retry_at
            .filter(|_| self.remaining == Some(0))
            .map(|at| Duration::from_secs((at - now).max(0) as u64))
    }
}

/// The latest rate-limit headers, readable by any thread without a lock.
#[derive(Debug)]
struct LastRateLimit([AtomicI64; 3]);

/// Stands for "header absent" in [`LastRateLimit`].
const ABSENT: i64 = i64::MIN;

impl Default for LastRateLimit {
    fn default() -> Self {
        LastRateLimit([AtomicI64::new(ABSENT), AtomicI64::new(ABSENT), AtomicI64::new(ABSENT)])
    }
}

impl LastRateLimit {
    fn store(&self, r: &RateLimit) {
        if r.limit.is_none() && r.remaining.is_none() && r.retry_at.is_none() {
            return;
        }
        for (slot, value) in self.0.iter().zip([r.limit, r.remaining, r.retry_at]) {
            slot.store(value.unwrap_or(ABSENT), Ordering::Relaxed);
        }
    }

    fn load(&self) -> RateLimit {
        let get = |i: usize| Some(self.0[i].load(Ordering::Relaxed)).filter(|v| *v != ABSENT);
        RateLimit {
            limit: get(0),
            remaining: get(1),
            retry_at: get(2),
            retry_after: None,
        }
    }
}

/// The proxy for this base URL: the configured one, or the environment's
/// when asked (see [`super::proxy`] for the order and `NO_PROXY` rules).
fn proxy_for(config: &Config, url: &BaseUrl) -> Result<Option<Proxy>, Error> {
    let uri = url
        .normalized
        .parse::<Uri>()
        .map_err(|_| invalid("the base URL is not valid"))?;
    let target = proxy::Target {
        host: uri.host().unwrap_or_default(),
        port: uri.port_u16().unwrap_or(if url.is_https { 443 } else { 80 }),
        is_https: url.is_https,
    };
    let configured = config.proxy.as_ref().map(|p| p.expose());
    proxy::choose(configured, config.proxy_from_env, &target, |name| {
        std::env::var(name).ok()
    })
}

/// The operating system's trusted certificates, read once per process and
/// shared by every client that trusts them.
static SYSTEM_ROOTS: Lazy<Arc<Vec<Certificate<'static>>>> = Lazy::new(|| {
    let found = rustls_native_certs::load_native_certs();
    Arc::new(
        found
            .certs
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect(),
    )
});

/// Mozilla's root certificates as shipped inside the library.
static MOZILLA_ROOTS: Lazy<Arc<Vec<Certificate<'static>>>> = Lazy::new(|| {
    let certs = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter();
    Arc::new(
        certs
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect(),
    )
});

/// The trust for `https`. A CA file is checked even for plain `http`, so a
/// bad setting shows at once; the store itself is then not read at all.
fn tls_config(config: &Config, is_https: bool) -> Result<TlsConfig, Error> {
    let extra = match &config.ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    if !is_https {
        return Ok(TlsConfig::default());
    }
    let base = match config.tls_roots {
        TlsRoots::System => &SYSTEM_ROOTS,
        TlsRoots::Mozilla => &MOZILLA_ROOTS,
    };
    let roots = match extra.is_empty() {
        true => Arc::clone(base),
        false => Arc::new(base.iter().cloned().chain(extra).collect()),
    };
    Ok(TlsConfig::builder().root_certs(RootCerts::Specific(roots)).build())
}

fn read_ca_file(path: &std::path::Path) -> Result<Vec<Certificate<'static>>, Error> {
    let pem = std::fs::read(path).map_err(|e| invalid(format!("cannot read the CA file {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(invalid(format!("the CA file {} is not valid PEM: {e}", path.display()))),
        }
    }
    if certs.is_empty() {
        return Err(invalid(format!("the CA file {} holds no certificate", path.display())));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_lose_every_echo_of_a_secret() {
        let body = br#"{"message":"bad key sk-12345678 for tok-abcdefgh, sk-12345678"}"#.to_vec();
        let clean = redacted(body, &["sk-12345678", "tok-abcdefgh", "short", ""]);
        assert_eq!(clean, br#"{"message":"bad key <redacted> for <redacted>, <redacted>"}"#);
        assert_eq!(redacted(b"short".to_vec(), &["short"]), b"short");
    }
}
