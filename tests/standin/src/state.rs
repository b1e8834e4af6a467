//! State shared by the server and the `StandIn` handle: tokens, request log,
//! fault queue, and the counts behind the rate limit and the quotas.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::RngExt;

use crate::{Behaviour, Fault, Options, RecordedRequest};

const LOG_CAP: usize = 10_000;
/// A billing cycle ends this long after the behaviour was set.
const CYCLE_SECS: u64 = 30 * 24 * 3600;

/// A token as the server keeps it.
#[derive(Clone)]
pub(crate) struct Token {
    pub access_token: String,
    pub client_id: String,
    pub scope: String,
    /// Exact expiry; `expires_at` is this rounded up to whole seconds.
    pub expires: SystemTime,
    pub expires_at: u64,
    pub revoked: bool,
}

impl Token {
    pub fn is_active(&self, now: SystemTime) -> bool {
        !self.revoked && now < self.expires
    }
}

/// What the limits make of one request: the `X-Rate-Limit-*` values every
/// answer carries, and the refusal when a limit answers instead of the endpoint.
pub(crate) struct Admission {
    pub limit: u64,
    pub remaining: u64,
    /// When the window ends, Unix seconds.
    pub retry_at: u64,
    pub kind: String,
    pub refusal: Option<Refusal>,
}

pub(crate) enum Refusal {
    /// The window's calls are spent: 429 until it ends, with `Retry-After`
    /// counting down to that moment when the rule says to send it.
    RateLimited { retry_after: Option<u64> },
    /// The billing cycle's calls are spent: 429 `api_calls_cycle` until the next.
    CycleSpent { limit: u64, retry_at: u64 },
    /// The pricing plan's calls are spent: 402.
    PlanExceeded,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::PlanExceeded => 402,
            Refusal::CycleSpent { .. } | Refusal::RateLimited { .. } => 429,
        }
    }
}

/// Counts since the last reset of the log.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counters {
    pub refused: usize,
    pub in_flight: usize,
    pub max_in_flight: usize,
}

pub(crate) struct Shared {
    pub app_id: String,
    pub secret_key: String,
    pub lifetime_secs: u64,
    pub latency: Duration,
    /// One client id per stand-in, like one API key on the live service.
    pub client_id: String,
    /// TCP connections accepted, never reset.
    connections: AtomicUsize,
    /// Kept-alive connections closed for being idle, never reset.
    idle_closes: AtomicUsize,
    /// TLS handshakes that resumed an earlier session, never reset.
    tls_resumed: AtomicUsize,
    /// What `/_standin/reset` goes back to.
    initial_behaviour: Behaviour,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Token>,
    log: VecDeque<RecordedRequest>,
    count: usize,
    faults: VecDeque<Fault>,
    behaviour: Behaviour,
    counters: Counters,
    window_start: u64,
    window_used: u64,
    cycle_used: u64,
    cycle_ends_at: u64,
    plan_used: u64,
}

impl Shared {
    pub fn new(options: &Options) -> Shared {
        Shared {
            app_id: options.app_id.clone(),
            secret_key: options.secret_key.clone(),
            lifetime_secs: options.token_lifetime_secs,
            latency: Duration::from_millis(options.latency_ms),
            client_id: format!("cl_{}", random_alphanumeric(18)),
            connections: AtomicUsize::new(0),
            idle_closes: AtomicUsize::new(0),
            tls_resumed: AtomicUsize::new(0),
            initial_behaviour: options.behaviour.clone(),
            inner: Mutex::new(Inner {
                behaviour: options.behaviour.clone(),
                cycle_ends_at: unix_secs(SystemTime::now()) + CYCLE_SECS,
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the whole stand-in down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn mint(&self, scope: &str) -> Token {
        self.mint_named(&random_alphanumeric(50), scope)
    }

    pub fn mint_named(&self, access_token: &str, scope: &str) -> Token {
        let now = SystemTime::now();
        let expires = now + Duration::from_secs(self.lifetime_secs);
        let token = Token {
            access_token: access_token.to_string(),
            client_id: self.client_id.clone(),
            scope: scope.to_string(),
            expires,
            expires_at: unix_secs_ceil(expires),
            revoked: false,
        };
        self.lock().tokens.insert(token.access_token.clone(), token.clone());
        token
    }

    /// The token if it exists, whatever its state.
    pub fn token(&self, access_token: &str) -> Option<Token> {
        self.lock().tokens.get(access_token).cloned()
    }

    /// Revokes an active token; false if it is unknown, expired or already revoked.
    pub fn revoke(&self, access_token: &str) -> bool {
        let now = SystemTime::now();
        match self.lock().tokens.get_mut(access_token) {
            Some(token) if token.is_active(now) => {
                token.revoked = true;
                true
            }
            _ => false,
        }
    }

    pub fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn count_tls_resumed(&self) {
        self.tls_resumed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tls_resumed(&self) -> usize {
        self.tls_resumed.load(Ordering::Relaxed)
    }

    pub fn record(&self, request: RecordedRequest) {
        let mut inner = self.lock();
        if inner.log.len() == LOG_CAP {
            inner.log.pop_front();
        }
        inner.log.push_back(request);
        inner.count += 1;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.iter().cloned().collect()
    }

    pub fn request_count(&self) -> usize {
        self.lock().count
    }

    pub fn reset_log(&self) {
        let mut inner = self.lock();
        inner.log.clear();
        inner.count = 0;
        let in_flight = inner.counters.in_flight;
        inner.counters = Counters {
            in_flight,
            max_in_flight: in_flight,
            ..Counters::default()
        };
    }

    pub fn counters(&self) -> Counters {
        self.lock().counters
    }

    /// Counts a request being answered; the guard uncounts it when dropped.
    pub fn begin_request(self: &Arc<Self>) -> InFlight {
        let mut inner = self.lock();
        inner.counters.in_flight += 1;
        inner.counters.max_in_flight = inner.counters.max_in_flight.max(inner.counters.in_flight);
        InFlight(self.clone())
    }

    pub fn count_idle_close(&self) {
        self.idle_closes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn idle_closes(&self) -> usize {
        self.idle_closes.load(Ordering::Relaxed)
    }

    pub fn behaviour(&self) -> Behaviour {
        self.lock().behaviour.clone()
    }

    /// Also restarts the window and the quotas: a new behaviour starts afresh.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        let mut inner = self.lock();
        inner.behaviour = behaviour;
        inner.window_start = 0;
        inner.window_used = 0;
        inner.cycle_used = 0;
        inner.plan_used = 0;
        inner.cycle_ends_at = unix_secs(SystemTime::now()) + CYCLE_SECS;
    }

    /// Back to the behaviour the stand-in started with.
    pub fn restore_behaviour(&self) {
        self.set_behaviour(self.initial_behaviour.clone());
    }

    pub fn push_faults(&self, faults: Vec<Fault>) {
        self.lock().faults.extend(faults);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn pop_fault(&self) -> Option<Fault> {
        self.lock().faults.pop_front()
    }

    /// Counts one request against the window, the cycle and the plan (a
    /// refused request counts too), and says whether one of them refuses it.
    pub fn admit(&self) -> Admission {
        let now = unix_secs(SystemTime::now());
        let mut inner = self.lock();
        let inner = &mut *inner;
        let rule = &inner.behaviour.rate_limit;
        let window = rule.window_secs.max(1);
        let window_start = now - now % window;
        if window_start != inner.window_start {
            inner.window_start = window_start;
            inner.window_used = 0;
        }
        inner.window_used += 1;
        inner.cycle_used += 1;
        inner.plan_used += 1;
        let spent = |allowed: Option<u64>, used: u64| allowed.is_some_and(|allowed| used > allowed);
        let refusal = if spent(inner.behaviour.plan_calls, inner.plan_used) {
            Some(Refusal::PlanExceeded)
        } else if spent(inner.behaviour.cycle_calls, inner.cycle_used) {
            Some(Refusal::CycleSpent {
                limit: inner.behaviour.cycle_calls.unwrap_or_default(),
                retry_at: inner.cycle_ends_at,
            })
        } else if inner.window_used > rule.calls {
            Some(Refusal::RateLimited {
                retry_after: rule.retry_after.then_some(window_start + window),
            })
        } else {
            None
        };
        if refusal.is_some() {
            inner.counters.refused += 1;
        }
        Admission {
            limit: rule.calls,
            remaining: rule.calls.saturating_sub(inner.window_used),
            retry_at: window_start + window,
            kind: rule.kind.clone(),
            refusal,
        }
    }
}

/// A request being answered; uncounted when dropped, however its handler ends.
pub(crate) struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().counters.in_flight -= 1;
    }
}

pub(crate) fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `v-` and 18 hex digits, the shape of the live API's request ids.
pub(crate) fn request_id() -> String {
    let bytes: [u8; 9] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("v-{hex}")
}

pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn unix_secs_ceil(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
