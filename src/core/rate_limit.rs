//! Voucherify's rate-limit headers, read by one function, and the one
//! allowance that every thread of a client draws on: a limit is per
//! project, so when the server says "wait", nobody using the client sends
//! until the time it named.
//!
//! Every number here comes from a server and meets a clock: arithmetic
//! saturates or is checked, and a wait is never longer than
//! [`MAX_SERVER_WAIT`].

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::cancel::Cancel;
use super::error::Error;
use super::status::Status;

/// The longest wait a server can ask for and be believed: a spent
/// billing-cycle quota clears within a month; anything longer is noise.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(32 * 24 * 3600);

/// Longest `X-Rate-Limit-Type` kept: Voucherify's values are short words.
const MAX_KIND_LEN: usize = 64;

/// The `X-Rate-Limit-Type` of a limit that lasts the whole billing cycle.
pub const CYCLE_LIMIT_TYPE: &str = "api_calls_cycle";

/// The rate-limit headers of an answer; `None` where a header was absent
/// or unreadable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-Rate-Limit-Limit`: calls allowed per period.
    pub limit: Option<i64>,
    /// `X-Rate-Limit-Remaining`: calls left in this period.
    pub remaining: Option<i64>,
    /// `X-Rate-Limit-Retry`: when calls are allowed again, Unix seconds
    /// (sent as seconds or, leniently read, as an HTTP date).
    pub retry_at: Option<i64>,
    /// `Retry-After`: seconds to wait, sent once a limit was hit (an HTTP
    /// date is given as the seconds left until it, rounded up).
    pub retry_after: Option<i64>,
    /// `X-Rate-Limit-Type`: which limit, such as `api_calls` or
    /// `api_calls_cycle`.
    pub kind: Option<String>,
    /// `Retry-After` as a wait from the answer's arrival, to the
    /// millisecond for a date; at most [`MAX_SERVER_WAIT`].
    pub retry_after_wait: Option<Duration>,
    /// When `X-Rate-Limit-Remaining` is 0: the wait until
    /// `X-Rate-Limit-Retry` (zero if that is past); at most
    /// [`MAX_SERVER_WAIT`].
    pub reset_wait: Option<Duration>,
}

impl RateLimit {
    /// Reads the rate-limit headers out of any list of headers (names in
    /// any case, values as raw bytes), as of `now`. Unknown headers,
    /// unreadable values and absurd numbers never fail: they are skipped
    /// or saturated. This runs on every answer.
    pub fn parse<'a>(headers: impl IntoIterator<Item = (&'a str, &'a [u8])>, now: SystemTime) -> RateLimit {
        let mut r = RateLimit::default();
        let mut retry_at_time = None;
        for (name, value) in headers {
            let header = match name.len() {
                11 if name.eq_ignore_ascii_case("retry-after") => Header::RetryAfter,
                18 if name.eq_ignore_ascii_case("x-rate-limit-limit") => Header::Limit,
                18 if name.eq_ignore_ascii_case("x-rate-limit-retry") => Header::RetryAt,
                17 if name.eq_ignore_ascii_case("x-rate-limit-type") => Header::Kind,
                22 if name.eq_ignore_ascii_case("x-rate-limit-remaining") => Header::Remaining,
                _ => continue,
            };
            let Some(text) = std::str::from_utf8(value).ok().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            match header {
                Header::Limit => r.limit = parse_integer(text),
                Header::Remaining => r.remaining = parse_integer(text),
                Header::Kind => r.kind = kind(text),
                Header::RetryAfter => {
                    // Seconds (never negative), or an HTTP date.
                    let wait = match parse_integer(text) {
                        Some(secs) => u64::try_from(secs).ok().map(Duration::from_secs),
                        None => httpdate::parse_http_date(text).ok().map(|at| time_until(at, now)),
                    };
                    r.retry_after_wait = wait.map(|w| w.min(MAX_SERVER_WAIT));
                    r.retry_after = wait.map(ceil_secs);
                }
                Header::RetryAt => {
                    // Unix seconds, or leniently an HTTP date (never taken
                    // for "seconds from now").
                    let at = match parse_integer(text) {
                        Some(secs) => Some((secs, unix_time(secs))),
                        None => httpdate::parse_http_date(text).ok().map(|at| (unix_secs(at), Some(at))),
                    };
                    r.retry_at = at.map(|(secs, _)| secs);
                    retry_at_time = at.map(|(_, time)| time);
                }
            }
        }
        if r.remaining == Some(0) {
            // A time too far to represent is as good as never.
            r.reset_wait = retry_at_time.map(|at| {
                at.map_or(MAX_SERVER_WAIT, |at| time_until(at, now))
                    .min(MAX_SERVER_WAIT)
            });
        }
        r
    }

    /// How long the server asked this call to wait before trying again:
    /// `Retry-After`, else until `X-Rate-Limit-Retry` once the limit is spent.
    pub fn wait(&self) -> Option<Duration> {
        self.retry_after_wait.or(self.reset_wait)
    }

    /// The wait every caller of the client keeps: after a 429 the wait it
    /// asked for, after any answer the wait until the spent window resets.
    pub fn shared_wait(&self, http_status: u16) -> Option<Duration> {
        match http_status {
            429 => self.wait(),
            _ => self.reset_wait,
        }
    }

    /// Whether the limit that was hit lasts the billing cycle, so that
    /// waiting minutes cannot help.
    pub fn is_cycle_limit(&self) -> bool {
        self.kind.as_deref() == Some(CYCLE_LIMIT_TYPE)
    }
}

enum Header {
    Limit,
    Remaining,
    RetryAt,
    RetryAfter,
    Kind,
}

/// An optionally signed decimal integer; too many digits saturate.
fn parse_integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Built with its sign, so that i64::MIN is reached exactly.
    let sign = if negative { -1 } else { 1 };
    Some(digits.bytes().fold(0i64, |n, d| {
        n.saturating_mul(10).saturating_add(sign * i64::from(d - b'0'))
    }))
}

/// `X-Rate-Limit-Type`, kept only when it is a short printable word.
fn kind(text: &str) -> Option<String> {
    let printable = text.len() <= MAX_KIND_LEN && text.bytes().all(|b| b.is_ascii_graphic());
    printable.then(|| text.to_owned())
}

/// The moment `secs` after the Unix epoch, if the platform can hold it.
fn unix_time(secs: i64) -> Option<SystemTime> {
    match u64::try_from(secs) {
        Ok(after) => UNIX_EPOCH.checked_add(Duration::from_secs(after)),
        Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs())),
    }
}

fn unix_secs(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn time_until(at: SystemTime, now: SystemTime) -> Duration {
    at.duration_since(now).unwrap_or_default()
}

fn ceil_secs(d: Duration) -> i64 {
    let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// `a + b`, or the far future when that cannot be represented.
pub(crate) fn instant_after(a: Instant, b: Duration) -> Instant {
    a.checked_add(b).or_else(|| a.checked_add(MAX_SERVER_WAIT)).unwrap_or(a)
}

/// The project's allowance as one client sees it: the latest headers, a
/// pause every caller keeps, and the calls believed left in the window.
#[derive(Debug, Default)]
pub(crate) struct Allowance {
    state: Mutex<State>,
    /// Signalled when an answer arrives or the pause changes.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The latest rate-limit headers seen (without `Retry-After`, which
    /// belongs to one answer).
    latest: RateLimit,
    pause: Option<Pause>,
    /// Calls that may still be sent in this window: the latest
    /// `X-Rate-Limit-Remaining`, less every request in flight (which the
    /// server may not have counted yet) and every one sent since. `None`
    /// when unknown.
    credits: Option<i64>,
    in_flight: usize,
    /// Callers asleep in [`Allowance::wait`].
    waiting: usize,
}

#[derive(Clone, Copy, Debug)]
struct Pause {
    until: Instant,
    /// The same moment on the wall clock, to tell people.
    until_wall: SystemTime,
    /// What a call refused during the pause fails with.
    status: Status,
}

impl Allowance {
    /// Waits until a request may be sent without breaking the limit, and
    /// counts it as in flight. Fails at once, with `RATE_LIMITED` (or
    /// `QUOTA_EXCEEDED`), when that moment is at or past `deadline`, and
    /// with `CANCELLED` when `cancel` ends the wait.
    pub fn admit(&self, deadline: Instant, cancel: &Cancel) -> Result<Admitted<'_>, Error> {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            // Until when this caller must hold back, if it must.
            let hold_until = match state.pause {
                Some(pause) if pause.until > now => {
                    if pause.until >= deadline {
                        return Err(paused_error(&pause, &state.latest));
                    }
                    Some(pause.until)
                }
                Some(_) => {
                    // The window the server named is over: its count starts afresh.
                    state.pause = None;
                    state.credits = None;
                    continue;
                }
                // The last calls of the window are in flight: their answers
                // will say whether any is left, or when the next one begins.
                None if state.credits.is_some_and(|c| c <= 0) && state.in_flight > 0 => {
                    if now >= deadline {
                        return Err(refused(
                            Status::RateLimited,
                            "not sent: the calls left in the rate limit's window were all in flight until this call's deadline",
                            &state.latest,
                        ));
                    }
                    Some(deadline)
                }
                None => None,
            };
            let Some(until) = hold_until else { break };
            if cancel.is_cancelled() {
                return Err(refused(
                    Status::Cancelled,
                    "cancelled while waiting for the rate limit",
                    &state.latest,
                ));
            }
            state = self.wait(state, until);
        }
        if let Some(credits) = &mut state.credits {
            *credits = credits.saturating_sub(1);
        }
        state.in_flight += 1;
        Ok(Admitted { allowance: self })
    }

    /// The latest rate-limit headers seen by this client.
    pub fn latest(&self) -> RateLimit {
        self.lock().latest.clone()
    }

    /// When the current pause ends, on the wall clock; `None` when calls
    /// may be sent now.
    pub fn paused_until(&self) -> Option<SystemTime> {
        let pause = self.lock().pause;
        pause.filter(|p| p.until > Instant::now()).map(|p| p.until_wall)
    }

    /// Wakes every caller waiting in [`Allowance::admit`] to look again
    /// (after a cancel).
    pub fn wake_all(&self) {
        // Under the lock, so that no waiter is between its check and its wait.
        let _state = self.lock();
        self.changed.notify_all();
    }

    /// When the current pause ends, if one is on.
    pub fn pause_end(&self) -> Option<Instant> {
        self.lock()
            .pause
            .map(|p| p.until)
            .filter(|until| *until > Instant::now())
    }

    /// Sleeps until `until` or until something changes. The one place a
    /// caller waits for the limit: a cancel would wake it here.
    fn wait<'a>(&self, mut state: MutexGuard<'a, State>, until: Instant) -> MutexGuard<'a, State> {
        let left = until.saturating_duration_since(Instant::now());
        state.waiting += 1;
        let mut state = match self.changed.wait_timeout(state, left) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        };
        state.waiting -= 1;
        state
    }

    /// Unlocks, and wakes the callers asleep in [`Allowance::wait`] to look
    /// again, if there are any: a wake that finds nobody still costs a
    /// system call, on every answer. (A caller counts itself under the
    /// lock, before it sleeps, so none is missed.)
    fn unlock_and_wake(&self, state: MutexGuard<'_, State>) {
        let anyone_waiting = state.waiting > 0;
        drop(state);
        if anyone_waiting {
            self.changed.notify_all();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is numbers that are each valid alone: a panic elsewhere
        // cannot leave them broken.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A request counted as in flight until its answer is taken in, or until
/// this is dropped (it failed without an answer).
pub(crate) struct Admitted<'a> {
    allowance: &'a Allowance,
}

impl Admitted<'_> {
    /// Takes in the answer's headers: keeps them, and pauses every caller
    /// when the server said to wait (see [`RateLimit::shared_wait`]).
    /// `refusal` is the status of calls refused during that pause. Returns
    /// when the pause ends, on the wall clock, if this answer began or
    /// lengthened it: an event to tell.
    pub fn answered(
        self,
        http_status: u16,
        r: &RateLimit,
        received_at: Instant,
        refusal: Status,
    ) -> Option<SystemTime> {
        let allowance = self.allowance;
        // Counted out here, under the same lock, rather than on drop.
        std::mem::forget(self);
        let mut state = allowance.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        // Answers on parallel connections arrive in any order: one from an
        // earlier window says nothing of this one, and within a window the
        // lowest count left is the truest (a late answer's higher count
        // would let more calls out than the window has).
        let (window, latest_window) = (r.retry_at, state.latest.retry_at);
        let stale = matches!((window, latest_window), (Some(this), Some(latest)) if this < latest);
        let same_window = window.is_some() && window == latest_window;
        if stale {
            // Neither the headers nor the credits of a past window.
        } else {
            if r.limit.is_some() || r.remaining.is_some() || r.retry_at.is_some() || r.kind.is_some() {
                state.latest = RateLimit {
                    retry_after: None,
                    retry_after_wait: None,
                    ..r.clone()
                };
            }
            // Without the header, nothing is known about what is left.
            let left = r.remaining.map(|left| left.saturating_sub(state.in_flight as i64));
            state.credits = match (same_window, state.credits, left) {
                (true, Some(credits), Some(left)) => Some(credits.min(left)),
                _ => left,
            };
        }
        let mut paused_until = None;
        if let Some(wait) = r.shared_wait(http_status).filter(|w| !w.is_zero()) {
            let until = instant_after(received_at, wait);
            // A later answer may lengthen the pause, never shorten it.
            if state.pause.is_none_or(|p| p.until < until) {
                let now = SystemTime::now();
                let until_wall = now
                    .checked_add(until.saturating_duration_since(Instant::now()))
                    .unwrap_or(now);
                // Told once per pause: not again for each answer in flight
                // that moves its end by a few milliseconds.
                let told_end = state.pause.map(|p| p.until).filter(|end| *end > Instant::now());
                if told_end.is_none_or(|end| until.saturating_duration_since(end) >= Duration::from_secs(1)) {
                    paused_until = Some(until_wall);
                }
                state.pause = Some(Pause {
                    until,
                    until_wall,
                    status: refusal,
                });
            }
        }
        allowance.unlock_and_wake(state);
        paused_until
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let mut state = self.allowance.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        self.allowance.unlock_and_wake(state);
    }
}

fn paused_error(pause: &Pause, latest: &RateLimit) -> Error {
    let until = httpdate::fmt_http_date(pause.until_wall);
    let message = format!("not sent: the rate limit paused this client until {until}, after this call's deadline");
    refused(pause.status, message, latest)
}

/// A call refused before sending, with the latest rate-limit headers.
fn refused(status: Status, message: impl Into<String>, latest: &RateLimit) -> Error {
    let mut e = Error::new(status, message);
    e.rate_limit = latest.clone();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_answer_never_raises_the_calls_left_in_its_window() {
        let allowance = Allowance::default();
        let (cancel, deadline) = (Cancel::default(), Instant::now() + Duration::from_secs(5));
        let answer = |remaining, retry_at| RateLimit {
            remaining: Some(remaining),
            retry_at: Some(retry_at),
            ..RateLimit::default()
        };
        let credits = || allowance.lock().credits;
        let now = Instant::now();
        let [first, second, third] = [(); 3].map(|_| allowance.admit(deadline, &cancel).unwrap());
        second.answered(204, &answer(4, 1_000), now, Status::RateLimited);
        assert_eq!(credits(), Some(2), "4 left, less the two in flight");
        first.answered(204, &answer(5, 1_000), now, Status::RateLimited);
        assert_eq!(credits(), Some(2), "an earlier request's answer, arriving late");
        third.answered(204, &answer(9, 999), now, Status::RateLimited);
        assert_eq!(credits(), Some(2), "an answer from the window before");
        assert_eq!(allowance.latest().retry_at, Some(1_000));
        let next = allowance.admit(deadline, &cancel).unwrap();
        next.answered(204, &answer(9, 1_001), now, Status::RateLimited);
        assert_eq!(credits(), Some(9), "a new window starts afresh");
    }

    #[test]
    fn with_the_last_calls_in_flight_a_caller_waits_for_their_answers() {
        let allowance = Allowance::default();
        let cancel = Cancel::default();
        let far = Instant::now() + Duration::from_secs(5);
        let [first, second] = [(); 2].map(|_| allowance.admit(far, &cancel).unwrap());
        let one_left = RateLimit {
            remaining: Some(1),
            retry_at: Some(1_000),
            ..RateLimit::default()
        };
        // One left, and that one is `second`, still in flight.
        first.answered(204, &one_left, Instant::now(), Status::RateLimited);
        let started = Instant::now();
        let err = allowance
            .admit(started + Duration::from_millis(50), &cancel)
            .err()
            .expect("sent while the window's last call was in flight");
        assert_eq!(err.status, Status::RateLimited);
        assert!(started.elapsed() >= Duration::from_millis(50), "gave up early");
        // Its answer says calls are left: the next caller goes at once.
        let more = RateLimit {
            remaining: Some(5),
            ..one_left
        };
        second.answered(204, &more, Instant::now(), Status::RateLimited);
        assert!(allowance.admit(far, &cancel).is_ok());
    }

    #[test]
    fn a_request_that_failed_unanswered_is_no_longer_in_flight() {
        let allowance = Allowance::default();
        let far = Instant::now() + Duration::from_secs(5);
        let [answered, unanswered] = [(); 2].map(|_| allowance.admit(far, &Cancel::default()).unwrap());
        let one_left = RateLimit {
            remaining: Some(1),
            ..RateLimit::default()
        };
        answered.answered(204, &one_left, Instant::now(), Status::RateLimited);
        // No answer will come for it: the next caller need not wait for one.
        drop(unanswered);
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(allowance.admit(soon, &Cancel::default()).is_ok());
    }

    #[test]
    fn any_one_header_updates_the_latest() {
        let allowance = Allowance::default();
        let far = Instant::now() + Duration::from_secs(5);
        let only_remaining = RateLimit {
            remaining: Some(7),
            ..RateLimit::default()
        };
        let admitted = allowance.admit(far, &Cancel::default()).unwrap();
        admitted.answered(204, &only_remaining, Instant::now(), Status::RateLimited);
        assert_eq!(allowance.latest(), only_remaining);
    }

    #[test]
    fn a_pause_is_lengthened_never_shortened_and_told_when_it_moves_a_second() {
        let allowance = Allowance::default();
        let far = Instant::now() + Duration::from_secs(5);
        // Four requests in flight, answered one after the other.
        let mut in_flight = [(); 4]
            .map(|_| allowance.admit(far, &Cancel::default()).unwrap())
            .into_iter();
        let mut pause_for = |ms: u64| {
            let r = RateLimit {
                retry_after_wait: Some(Duration::from_millis(ms)),
                ..RateLimit::default()
            };
            let admitted = in_flight.next().unwrap();
            let told = admitted.answered(429, &r, Instant::now(), Status::RateLimited);
            let end = allowance.pause_end().expect("paused");
            (told.is_some(), end.saturating_duration_since(Instant::now()))
        };
        let (told, left) = pause_for(60_000);
        assert!(told && left > Duration::from_secs(59), "{left:?}");
        let (told, left) = pause_for(60_500);
        assert!(!told, "moved by half a second: not told again");
        assert!(left > Duration::from_millis(60_400), "lengthened: {left:?}");
        let (told, left) = pause_for(10_000);
        assert!(!told && left > Duration::from_millis(60_300), "shortened: {left:?}");
        let (told, _) = pause_for(62_000);
        assert!(told, "moved by more than a second: told");
    }

    fn parse(headers: &[(&str, &str)]) -> RateLimit {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        RateLimit::parse(headers.iter().map(|(n, v)| (*n, v.as_bytes())), now)
    }

    #[test]
    fn extreme_numbers_saturate() {
        let r = parse(&[("Retry-After", "9223372036854775807")]);
        assert_eq!(r.retry_after, Some(i64::MAX));
        assert_eq!(r.retry_after_wait, Some(MAX_SERVER_WAIT));
        let r = parse(&[("Retry-After", "1000000000000000000000000000000")]);
        assert_eq!(r.retry_after, Some(i64::MAX));
        let r = parse(&[("Retry-After", "-1")]);
        assert_eq!((r.retry_after, r.wait()), (None, None));
        let r = parse(&[
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Retry", "-9223372036854775808"),
        ]);
        assert_eq!((r.retry_at, r.reset_wait), (Some(i64::MIN), Some(Duration::ZERO)));
        let r = parse(&[
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Retry", "9223372036854775807"),
        ]);
        assert_eq!((r.retry_at, r.reset_wait), (Some(i64::MAX), Some(MAX_SERVER_WAIT)));
    }

    #[test]
    fn unix_seconds_round_trip_on_both_sides_of_the_epoch() {
        for secs in [-5, 0, 1_800_000_000] {
            assert_eq!(unix_time(secs).map(unix_secs), Some(secs));
        }
    }

    #[test]
    fn a_wait_is_believed_up_to_32_days() {
        let day = 24 * 3600;
        let r = parse(&[("Retry-After", &(31 * day).to_string())]);
        assert_eq!(r.retry_after_wait, Some(Duration::from_secs(31 * day)));
        let r = parse(&[("Retry-After", &(33 * day).to_string())]);
        assert_eq!(r.retry_after_wait, Some(Duration::from_secs(32 * day)));
    }

    #[test]
    fn dates_are_dates_in_either_header() {
        let r = parse(&[
            ("x-rate-limit-remaining", "0"),
            ("X-RATE-LIMIT-RETRY", "Fri, 15 Jan 2027 08:00:30 GMT"),
        ]);
        assert_eq!(r.retry_at, Some(1_800_000_030));
        assert_eq!(r.reset_wait, Some(Duration::from_secs(30)));
        let r = parse(&[("retry-after", "Fri, 15 Jan 2027 08:00:05 GMT")]);
        assert_eq!(
            (r.retry_after, r.retry_after_wait),
            (Some(5), Some(Duration::from_secs(5)))
        );
    }

    #[test]
    fn a_date_keeps_its_fraction_of_a_second() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_250);
        let r = RateLimit::parse([("Retry-After", &b"Fri, 15 Jan 2027 08:00:02 GMT"[..])], now);
        assert_eq!(r.retry_after_wait, Some(Duration::from_millis(1750)));
        assert_eq!(r.retry_after, Some(2), "reported seconds round up");
    }

    #[test]
    fn remaining_above_zero_asks_no_wait() {
        let r = parse(&[
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "3"),
            ("X-Rate-Limit-Retry", "1800000060"),
            ("X-Rate-Limit-Type", "api_calls"),
        ]);
        assert_eq!(
            (r.limit, r.remaining, r.retry_at),
            (Some(100), Some(3), Some(1_800_000_060))
        );
        assert_eq!((r.kind.as_deref(), r.wait()), (Some("api_calls"), None));
        // Signs are read, leniently.
        let r = parse(&[("X-Rate-Limit-Limit", "+100"), ("X-Rate-Limit-Remaining", "-3")]);
        assert_eq!((r.limit, r.remaining), (Some(100), Some(-3)));
    }

    #[test]
    fn garbage_is_skipped() {
        let r = parse(&[
            ("Retry-After", "soon"),
            ("X-Rate-Limit-Limit", "1e3"),
            ("X-Rate-Limit-Remaining", ""),
        ]);
        assert_eq!(r, RateLimit::default());
        // Names as long as the ones read, but other names.
        let r = parse(&[
            ("Retry-Later", "5"),
            ("X-Rate-Limit-Other", "5"),
            ("X-Rate-Limit-Typo", "5"),
            ("X-Rate-Limit-Remainder", "0"),
        ]);
        assert_eq!(r, RateLimit::default());
        let r = RateLimit::parse([("x-rate-limit-type", &b"\xff\xfe"[..])], SystemTime::now());
        assert_eq!(r.kind, None);
    }
}
