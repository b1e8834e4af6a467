//! One HTTP exchange with Voucherify, retried when that is safe and useful:
//! the agent (pool, timeouts, TLS, proxy), the credential headers, the
//! retry loop, and the mapping of transport failures to statuses.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use once_cell::sync::Lazy;
use ureq::config::{AutoHeaderValue, Config as AgentConfig};
use ureq::http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use ureq::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
use ureq::{Agent, Proxy};

use super::cancel::Cancel;
use super::config::{invalid, parse_base_url, BaseUrl, Config, Secret, TlsRoots};
use super::error::{one_line, ApiErrorBody, Error};
use super::fork_safe::ForkSafe;
use super::observe::{ClientCounters, Level, Logger, ObservedConnections};
use super::proxy;
use super::rate_limit::{instant_after, Admitted, Allowance, RateLimit};
use super::resolver::CachingResolver;
use super::shared_tls::{SharedTls, Trust};
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

/// An attempt's budget that differs from the agent's by less than this
/// (the socket timeouts' grain) is not worth a per-request configuration.
const BUDGET_GRAIN: Duration = Duration::from_millis(10);

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
}

impl Answer {
    /// The status a caller gets for this answer when it is not the one
    /// the endpoint hoped for. A 402, or a 429 for the billing cycle's
    /// quota or an ended plan, is `QuotaExceeded`: waiting will not help.
    pub fn failure_status(&self) -> Status {
        match is_quota(self.status, &self.rate_limit, &self.body) {
            true => Status::QuotaExceeded,
            false => Status::for_http_status(self.status),
        }
    }
}

/// Whether an answer says a quota is spent, which no wait within the
/// window fixes: a 402, or a 429 for the billing cycle or an ended plan.
fn is_quota(status: u16, rate_limit: &RateLimit, body: &[u8]) -> bool {
    status == 402
        || status == 429
            && (rate_limit.is_cycle_limit() || ApiErrorBody::parse(body).is_some_and(|body| body.says_plan_ended()))
}

/// One attempt's answer, or its failure and whether to retry it.
type Outcome = Result<Answer, (Error, Retry)>;

/// The call's result from its last attempt's outcome.
fn finish(outcome: Outcome, attempts: u32, may_have_acted: bool) -> Result<Answer, Error> {
    match outcome {
        Ok(mut answer) => {
            answer.attempts = attempts;
            answer.earlier_attempt_may_have_acted = may_have_acted;
            Ok(answer)
        }
        Err((e, _)) => Err(with_attempts(e, attempts)),
    }
}

/// An error, with how many attempts were made before it.
fn with_attempts(mut e: Error, attempts: u32) -> Error {
    e.attempts = attempts;
    if attempts > 1 {
        e.message.push_str(&format!(" (after {attempts} attempts)"));
    }
    e
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
    headers: HeaderMap,
    timeout: Duration,
    /// The agent's own wait for an answer to begin: the first attempt's
    /// fair share of `timeout`.
    first_attempt_share: Duration,
    connect_timeout: Duration,
    max_attempts: u32,
    retry_base_delay: Duration,
    /// The project's rate limit as this client sees it, shared by every
    /// thread, bulk worker and token source using the client.
    allowance: Allowance,
    /// Ends retry waits and rate-limit pauses at once; see
    /// [`Transport::post_form`].
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
        let first_attempt_share = config.timeout / config.max_attempts.max(1);
        let mut user_agent = format!("libvoucherify/{VERSION}");
        if let Some(suffix) = &config.user_agent_suffix {
            user_agent.push(' ');
            user_agent.push_str(suffix);
        }
        let (tls, shared_tls) = tls_config(config, url.is_https)?;
        let agent_config = AgentConfig::builder()
            // Every status is an answer to map, not a transport error.
            .http_status_as_error(false)
            // Credentials go to the configured host and nowhere else.
            .max_redirects(0)
            .max_redirects_will_error(false)
            // None means none: ureq reads no environment of its own.
            .proxy(proxy)
            .tls_config(tls)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout.min(first_attempt_share)))
            .timeout_recv_response(Some(first_attempt_share))
            // Voucherify's requests and answers are small: ureq's 128 KiB
            // buffers each way would make every pooled connection cost 256 KiB.
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .max_response_header_size(MAX_RESPONSE_HEADER)
            .max_idle_connections(MAX_PARALLELISM)
            .max_idle_connections_per_host(MAX_PARALLELISM)
            // Both are in the prepared header map below.
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
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
        let mut headers: HeaderMap = headers.into_iter().collect();
        // What ureq would add on every request, added here once; a caller's
        // own header of either name replaces ours.
        for (name, value) in [
            (USER_AGENT, header_value(&user_agent)?),
            (ACCEPT, HeaderValue::from_static("application/json")),
        ] {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
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
                // ureq's default chain for what we use (a CONNECT proxy,
                // TCP, rustls), with the TLS link shared by trust.
                ().chain(ConnectProxyConnector::default())
                    .chain(TcpConnector::default())
                    // Below TLS: rustls hands the socket the time left at
                    // each read and write, so that is where it is rounded.
                    .chain(SteadyTimeouts)
                    .chain(shared_tls)
                    .chain(ForkSafe)
                    .chain(observed),
                CachingResolver::default(),
            ),
            urls: [token?, introspect?, revoke?],
            headers,
            timeout: config.timeout,
            first_attempt_share,
            connect_timeout: config.connect_timeout,
            max_attempts: config.max_attempts,
            retry_base_delay: config.retry_base_delay,
            allowance: Allowance::default(),
            cancel: Cancel::default(),
            logger: config.logger.clone(),
            counters,
            secret_key,
        })
    }

    /// Sends a form to an OAuth endpoint, retrying transient failures with
    /// exponential backoff and full jitter (or the wait the server asks
    /// for), within the attempt limit and never past the total timeout.
    /// Nothing is sent while the client is paused by the rate limit.
    ///
    /// A call that is not `idempotent` (minting a token) is retried only
    /// when the server certainly did not act, so no token is minted twice.
    pub fn post_form(&self, endpoint: Endpoint, fields: &[(&str, &str)], idempotent: bool) -> Result<Answer, Error> {
        let body = encode_form(fields)?;
        let deadline = instant_after(Instant::now(), self.timeout);
        let mut attempts = 0;
        let mut may_have_acted = false;
        // The previous attempt's outcome, and how long we meant to wait after it.
        let mut previous: Option<(Outcome, Duration)> = None;
        self.counters.call();
        loop {
            let admitted = match (self.allowance.admit(deadline, &self.cancel), previous) {
                (Ok(admitted), _) => admitted,
                (Err(e), None) => return Err(e),
                (Err(e), Some((last, wait))) if e.status == Status::Cancelled => {
                    return Err(cancelled_while_waiting(&last, attempts, wait));
                }
                // Another caller's answer pushed the pause past the deadline:
                // the last answer stands.
                (Err(_), Some((last, _))) => return finish(last, attempts, may_have_acted),
            };
            attempts += 1;
            let budget = self.attempt_budget(deadline, attempts, idempotent);
            let path = endpoint.path();
            let (max, log) = (self.max_attempts, &self.logger);
            log.log(
                Level::Debug,
                format_args!("POST {path}: sending, attempt {attempts} of {max}"),
            );
            self.counters.request();
            let sent_at = Instant::now();
            let outcome = self
                .send_once(endpoint, &body, budget, admitted)
                .map(|answer| self.without_secrets(answer, fields));
            self.observe_outcome(path, &outcome, sent_at.elapsed());
            let (mut retry, own_wait) = match &outcome {
                Ok(answer) => {
                    // A wait every caller keeps is waited out in `admit`.
                    let shared = answer.rate_limit.shared_wait(answer.status).is_some();
                    let own = answer.rate_limit.wait().filter(|_| !shared);
                    (
                        Retry::for_answer(answer),
                        if shared { Some(Duration::ZERO) } else { own },
                    )
                }
                Err((_, retry)) => (*retry, None),
            };
            if retry == Retry::MayHaveActed && !idempotent {
                retry = Retry::No;
            }
            let give_up = retry == Retry::No || attempts >= self.max_attempts;
            // The server's wait is honoured in full, or not at all when the
            // deadline comes first; our own backoff is capped. After a
            // timeout it is also shortened so that the next attempt has half
            // the time left: a call never reports a timeout before its
            // deadline because of our own delay. (After an answer, giving up
            // early reports that answer, which is better than a retry too
            // short to be answered.)
            let now = Instant::now();
            let timed_out = matches!(&outcome, Err((e, _)) if e.status == Status::Timeout);
            let delay = match give_up {
                true => Duration::ZERO,
                false => own_wait.unwrap_or_else(|| {
                    let backoff = self.backoff(attempts).min(MAX_RETRY_DELAY);
                    match timed_out {
                        true => backoff.min(deadline.saturating_duration_since(now) / 2),
                        false => backoff,
                    }
                }),
            };
            let resume = instant_after(now, delay).max(self.allowance.pause_end().unwrap_or(now));
            if give_up || resume >= deadline {
                if !give_up {
                    log.log(
                        Level::Warn,
                        format_args!(
                            "POST {path}: not retried: waiting {} ms would pass the call's deadline",
                            resume.saturating_duration_since(now).as_millis()
                        ),
                    );
                }
                return finish(outcome, attempts, may_have_acted);
            }
            may_have_acted |= retry == Retry::MayHaveActed;
            self.counters.retry();
            let why = retry_reason(&outcome);
            let wait = resume.saturating_duration_since(now);
            match own_wait {
                Some(_) => {
                    self.counters.paused(wait);
                    let until = httpdate::fmt_http_date(SystemTime::now() + wait);
                    log.log(
                        Level::Warn,
                        format_args!("POST {path}: rate-limit pause of {} ms, until {until}, because the server asked ({why}); then attempt {} of {max}", wait.as_millis(), attempts + 1),
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
            previous = Some((outcome, wait));
        }
    }

    /// One request, never repeated, within one timeout: for work that is
    /// best effort (the revoke when a token source is freed).
    /// It too keeps the rate limit's pause.
    pub fn post_form_once(&self, endpoint: Endpoint, fields: &[(&str, &str)]) -> Result<Answer, Error> {
        let body = encode_form(fields)?;
        let deadline = instant_after(Instant::now(), self.timeout);
        let admitted = self.allowance.admit(deadline, &self.cancel)?;
        let budget = self.attempt_budget(deadline, 1, false);
        self.send_once(endpoint, &body, budget, admitted)
            .map(|answer| self.without_secrets(answer, fields))
            .map_err(|(e, _)| e)
    }

    /// An error answer's body with the secret key and the form's access
    /// token cut out, should the server echo them: error messages quote it.
    fn without_secrets(&self, mut answer: Answer, fields: &[(&str, &str)]) -> Answer {
        if !(200..300).contains(&answer.status) {
            let token = fields.iter().find(|(name, _)| *name == "access_token").map(|(_, v)| *v);
            answer.body = redacted(answer.body, &[self.secret_key.expose(), token.unwrap_or_default()]);
        }
        answer
    }

    /// The client's total timeout for one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long an attempt may wait: for the connection and for the
    /// answer to begin, a fair share of the time left (so that a retry
    /// still has time when the attempt times out); once the answer has
    /// begun (it cannot be repeated), all of the time left. The last
    /// attempt, and any attempt of a call whose timeout is never retried
    /// (minting), may wait all of it. `None` when the agent's own
    /// timeouts say the same.
    fn attempt_budget(&self, deadline: Instant, attempt: u32, idempotent: bool) -> Option<AttemptBudget> {
        let left = deadline.saturating_duration_since(Instant::now());
        let attempts_left = match idempotent {
            true => self.max_attempts.saturating_sub(attempt) + 1,
            false => 1,
        };
        let share = left / attempts_left;
        let same_as_agent =
            self.timeout.abs_diff(left) < BUDGET_GRAIN && self.first_attempt_share.abs_diff(share) < BUDGET_GRAIN;
        (!same_as_agent).then_some(AttemptBudget { left, share })
    }

    /// Full jitter: a uniformly random wait up to base * 2^(attempt - 1).
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .retry_base_delay
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        ceiling.mul_f64(fastrand::f64())
    }

    /// One request and its answer, or the failure and whether to retry it.
    fn send_once(
        &self,
        endpoint: Endpoint,
        body: &str,
        budget: Option<AttemptBudget>,
        admitted: Admitted<'_>,
    ) -> Outcome {
        let url = &self.urls[endpoint as usize];
        let mut request = self.agent.post(url);
        // A copy of the prepared map: no header is parsed or hashed again.
        if let Some(headers) = request.headers_mut() {
            headers.clone_from(&self.headers);
        }
        if let Some(AttemptBudget { left, share }) = budget {
            request = request
                .config()
                .timeout_global(Some(left))
                .timeout_connect(Some(self.connect_timeout.min(share)))
                .timeout_recv_response(Some(share))
                .build();
        }
        let failed = |e: ureq::Error| transport_error(&format!("POST {url}"), e);
        let mut response = request.send(body).map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        let rate_limit = RateLimit::parse(headers, SystemTime::now());
        let received_at = Instant::now();
        let body = response.body_mut().with_config().limit(MAX_BODY).read_to_vec();
        // Calls refused during a pause this answer starts fail as what it
        // was: the body tells an ended plan's 429 from the window's, and a
        // pause is due only when a limit is hit, so its type says which
        // (a 204 may spend the cycle's last call).
        let said_quota = is_quota(status, &rate_limit, body.as_deref().unwrap_or_default());
        let refusal = match said_quota || rate_limit.is_cycle_limit() {
            true => Status::QuotaExceeded,
            false => Status::RateLimited,
        };
        let paused_until = admitted.answered(status, &rate_limit, received_at, refusal);
        if let Some(until) = paused_until.filter(|_| self.logger.enabled(Level::Warn)) {
            let why = match status {
                429 => "HTTP 429".to_owned(),
                _ => format!("HTTP {status}: the window's calls are spent"),
            };
            self.logger.log(
                Level::Warn,
                format_args!(
                    "POST {}: rate-limit pause: this client sends nothing until {} ({why})",
                    endpoint.path(),
                    httpdate::fmt_http_date(until)
                ),
            );
        }
        let body = body.map_err(|e| {
            let (mut error, _) = failed(e);
            error.http_status = status;
            error.rate_limit = rate_limit.clone();
            // The server answered: whatever it did is done; do not repeat.
            (error, Retry::No)
        })?;
        Ok(Answer {
            status,
            body,
            received_at,
            attempts: 1,
            earlier_attempt_may_have_acted: false,
            rate_limit,
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
        self.allowance.latest()
    }

    /// Cancels for good: ends every retry wait and rate-limit pause at once.
    pub fn cancel(&self) {
        self.cancel.cancel();
        self.allowance.wake_all();
    }

    /// When the pause the rate limit imposed on this client ends, on the
    /// wall clock; `None` when calls are sent at once.
    pub fn paused_until(&self) -> Option<SystemTime> {
        self.allowance.paused_until()
    }
}

fn encode_form(fields: &[(&str, &str)]) -> Result<String, Error> {
    let capacity = fields.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(capacity));
    serde::Serialize::serialize(fields, serde_urlencoded::Serializer::new(&mut form))
        .map_err(|e| Error::new(Status::Internal, format!("cannot encode the form: {e}")))?;
    Ok(form.finish())
}

/// The outcome of a call whose wait before its next attempt was cancelled:
/// what the last attempt got is kept (status, headers), so nothing sent is
/// reported as unsent.
fn cancelled_while_waiting(last: &Outcome, attempts: u32, delay: Duration) -> Error {
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

/// An attempt's timeouts: the time left for everything, and its share to
/// connect and to see the answer begin.
struct AttemptBudget {
    left: Duration,
    share: Duration,
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
    fn for_answer(answer: &Answer) -> Retry {
        if answer.failure_status() == Status::QuotaExceeded {
            // A spent quota or an ended plan: no retry can fix it.
            return Retry::No;
        }
        match answer.status {
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

/// The trust for `https`, and the TLS link shared by the clients that
/// trust the same (see `shared_tls`). A CA file is checked even for plain
/// `http`, so a bad setting shows at once; the store itself is then not
/// read at all.
fn tls_config(config: &Config, is_https: bool) -> Result<(TlsConfig, SharedTls), Error> {
    let extra = match &config.ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    if !is_https {
        return Ok((TlsConfig::default(), SharedTls::unshared()));
    }
    let trust = Trust {
        roots: config.tls_roots,
        extra: extra.iter().map(|cert| cert.der().to_vec()).collect(),
    };
    let base = match config.tls_roots {
        TlsRoots::System => &SYSTEM_ROOTS,
        TlsRoots::Mozilla => &MOZILLA_ROOTS,
    };
    let roots = match extra.is_empty() {
        true => Arc::clone(base),
        false => Arc::new(base.iter().cloned().chain(extra).collect()),
    };
    let tls = TlsConfig::builder().root_certs(RootCerts::Specific(roots)).build();
    Ok((tls, SharedTls::for_trust(trust)))
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
    fn backoff_is_full_jitter_under_a_doubling_ceiling() {
        let mut config = Config::new();
        config.set_app_id("id").unwrap();
        config.set_secret_key("key").unwrap();
        config.set_base_url("http://127.0.0.1:9").unwrap();
        config.set_retry_base_delay_ms(100);
        let transport = Transport::new(&config).unwrap();
        for (attempt, ceiling_ms) in [(1, 100), (3, 400)] {
            let waits: Vec<Duration> = (0..200).map(|_| transport.backoff(attempt)).collect();
            let ceiling = Duration::from_millis(ceiling_ms);
            assert!(
                waits.iter().all(|w| *w <= ceiling),
                "attempt {attempt}: over {ceiling:?}"
            );
            // Uniform below the ceiling: 200 draws all in its lower half
            // would happen once in 2^200.
            assert!(waits.iter().any(|w| *w > ceiling / 2), "attempt {attempt}: {waits:?}");
        }
    }

    #[test]
    fn each_failure_has_its_status_and_its_retry() {
        use ureq::Error as E;
        let io = |kind| E::Io(io::Error::from(kind));
        let cases = [
            (E::Timeout(ureq::Timeout::Connect), Status::Timeout, Retry::NotActed),
            (
                E::Timeout(ureq::Timeout::RecvResponse),
                Status::Timeout,
                Retry::MayHaveActed,
            ),
            (E::ConnectionFailed, Status::ConnectionFailed, Retry::NotActed),
            (E::HostNotFound, Status::ConnectionFailed, Retry::No),
            (E::Tls("bad certificate"), Status::TlsError, Retry::No),
            (E::InvalidProxyUrl, Status::ConnectionFailed, Retry::No),
            (E::BodyStalled, Status::UnexpectedResponse, Retry::No),
            (
                io(io::ErrorKind::ConnectionRefused),
                Status::ConnectionFailed,
                Retry::NotActed,
            ),
            (
                io(io::ErrorKind::ConnectionReset),
                Status::ConnectionFailed,
                Retry::MayHaveActed,
            ),
            (io(io::ErrorKind::TimedOut), Status::Timeout, Retry::MayHaveActed),
            (io(io::ErrorKind::InvalidData), Status::UnexpectedResponse, Retry::No),
        ];
        for (error, status, retry) in cases {
            let shown = error.to_string();
            let (e, r) = transport_error("POST x", error);
            assert_eq!((e.status, r), (status, retry), "{shown}");
            assert_eq!(
                e.message.contains("trust roots"),
                status == Status::TlsError,
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn error_answers_lose_every_echo_of_a_secret() {
        let body = br#"{"message":"bad key sk-12345678 for tok-abcdefgh, sk-12345678"}"#.to_vec();
        let clean = redacted(body, &["sk-12345678", "tok-abcdefgh", "short", ""]);
        assert_eq!(clean, br#"{"message":"bad key <redacted> for <redacted>, <redacted>"}"#);
        assert_eq!(redacted(b"short".to_vec(), &["short"]), b"short");
    }
}
