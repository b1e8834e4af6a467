//! A one-way cancel signal that ends waits at once: a client holds one, so
//! that a thread shutting the service down never waits out a retry delay
//! or a rate-limit pause that another thread is sleeping through.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    /// Only for waking sleepers: the flag itself is the atomic.
    sleepers: Mutex<()>,
    wake: Condvar,
}

impl Cancel {
    /// Cancels for good and wakes every [`Cancel::sleep`] at once.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // Taking the lock orders this wake-up after any sleeper's check of
        // the flag, so none misses it.
        let _guard = self.sleepers.lock().unwrap_or_else(PoisonError::into_inner);
        self.wake.notify_all();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration`, or less if cancelled first: true when the
    /// whole duration passed, false when cancelled.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut guard = self.sleepers.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_cancelled() {
                return false;
            }
            // A duration too large for the clock is a wait only a cancel ends.
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return true;
            }
            guard = self
                .wake
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_runs_its_course_unless_cancelled() {
        let cancel = Cancel::default();
        let started = Instant::now();
        assert!(cancel.sleep(Duration::from_millis(30)));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(!cancel.is_cancelled());
    }

    #[test]
    fn a_cancel_from_another_thread_ends_a_long_sleep_at_once() {
        let cancel = Cancel::default();
        std::thread::scope(|scope| {
            let sleeper = scope.spawn(|| {
                let started = Instant::now();
                (cancel.sleep(Duration::MAX), started.elapsed())
            });
            std::thread::sleep(Duration::from_millis(50));
            cancel.cancel();
            let (completed, took) = sleeper.join().unwrap();
            assert!(!completed);
            assert!(
                took >= Duration::from_millis(40) && took < Duration::from_secs(2),
                "{took:?}"
            );
        });
        // Cancelled for good: later sleeps end at once.
        assert!(!cancel.sleep(Duration::from_secs(30)));
    }
}
