//! Living through `fork()`: which process this is, and connections that a
//! child never uses.
//!
//! A child inherits its parent's pooled sockets (and, over TLS, the session
//! keys). If both processes used one, their requests and answers would
//! interleave on it, and TLS would reuse nonces. So every connection
//! remembers the process that opened it, and in any other process it says
//! it is closed: the pool then drops it, which closes the child's copy of
//! the descriptor without a `shutdown(2)` or a TLS `close_notify`, so the
//! parent's connection is untouched, and the child opens its own.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::Error;

/// This process's id, kept up to date by a `pthread_atfork` child handler,
/// so that asking costs no system call. 0 until [`watch_forks`] ran.
static PID: AtomicU32 = AtomicU32::new(0);
static WATCH: Once = Once::new();
/// Whether the handler is in place; without it, every ask is a `getpid`.
static WATCHED: AtomicU32 = AtomicU32::new(0);

extern "C" fn after_fork_in_child() {
    // getpid and an atomic store: both async-signal-safe.
    PID.store(std::process::id(), Ordering::Relaxed);
}

/// Starts following forks; called before the first connection or token.
pub(crate) fn watch_forks() {
    WATCH.call_once(|| {
        PID.store(std::process::id(), Ordering::Relaxed);
        // SAFETY: registers a handler that only reads the pid and stores it.
        let registered = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) } == 0;
        WATCHED.store(registered.into(), Ordering::Release);
    });
}

/// The id of the calling process.
pub(crate) fn current_pid() -> u32 {
    watch_forks();
    match WATCHED.load(Ordering::Acquire) {
        1 => PID.load(Ordering::Relaxed),
        _ => std::process::id(),
    }
}

/// A link of the connector chain that tags each connection with the
/// process that opened it.
#[derive(Debug)]
pub(crate) struct ForkSafe;

impl<In: Transport> Connector<In> for ForkSafe {
    type Out = OwnedByProcess<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        let opened_by = current_pid();
        Ok(chained.map(|inner| OwnedByProcess { inner, opened_by }))
    }
}

#[derive(Debug)]
pub(crate) struct OwnedByProcess<T> {
    inner: T,
    opened_by: u32,
}

impl<T: Transport> Transport for OwnedByProcess<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.inner.await_input(timeout)
    }

    /// The pool asks before it reuses a connection. In another process the
    /// answer is no, before the inner probe, which would read from the
    /// socket and could take a byte of the parent's answer.
    fn is_open(&mut self) -> bool {
        self.opened_by == current_pid() && self.inner.is_open()
    }

    // Passed on, as in SteadyTransport.
    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_follows_a_fork() {
        let parent = current_pid();
        assert_eq!(parent, std::process::id());
        assert_eq!(WATCHED.load(Ordering::Acquire), 1, "the handler is in place");
        // SAFETY: the child only does async-signal-safe work and _exits.
        unsafe {
            let child = libc::fork();
            assert!(child >= 0);
            if child == 0 {
                let ok = current_pid() == libc::getpid() as u32 && current_pid() != parent;
                libc::_exit(if ok { 0 } else { 1 });
            }
            let mut status = 0;
            assert_eq!(libc::waitpid(child, &mut status, 0), child);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "status {status}"
            );
        }
        assert_eq!(current_pid(), parent);
    }
}
