//! State shared by the server and the `StandIn` handle: tokens, request log,
//! fault queue and the rate-limit counter.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::RngExt;

use crate::{Fault, Options, RecordedRequest};

const LOG_CAP: usize = 10_000;
pub(crate) const RATE_LIMIT: u32 = 2000;
const RATE_WINDOW_SECS: u64 = 60;

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

/// Values for the `X-Rate-Limit-*` headers of one response.
pub(crate) struct RateInfo {
    pub remaining: u32,
    pub retry_at: u64,
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
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Token>,
    log: VecDeque<RecordedRequest>,
    count: usize,
    faults: VecDeque<Fault>,
    rate_window_start: u64,
    rate_used: u32,
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
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the whole stand-in down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn mint(&self, scope: &str) -> Token {
        let now = SystemTime::now();
        let expires = now + Duration::from_secs(self.lifetime_secs);
        let token = Token {
            access_token: random_alphanumeric(50),
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

    /// Counts one request against a fixed one-minute window, like a plan's per-minute limit.
    pub fn take_rate(&self) -> RateInfo {
        let now = unix_secs(SystemTime::now());
        let mut inner = self.lock();
        if now >= inner.rate_window_start + RATE_WINDOW_SECS {
            inner.rate_window_start = now;
            inner.rate_used = 0;
        }
        inner.rate_used = inner.rate_used.saturating_add(1);
        RateInfo {
            remaining: RATE_LIMIT.saturating_sub(inner.rate_used),
            retry_at: inner.rate_window_start + RATE_WINDOW_SECS,
        }
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
