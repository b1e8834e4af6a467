//! One TLS configuration per trust, shared by every client of the process
//! that trusts the same roots.
//!
//! ureq builds a rustls configuration per agent: each new client parsed
//! the whole root store again, and kept its own cache of TLS sessions, so
//! a client made for one call (a script, a worker) always paid a full
//! handshake. Shared, the store is parsed once and a new client resumes a
//! session an earlier one made, skipping the certificate chain's checks.
//! Clients with different trust never share (the key is the trust itself,
//! not a hash of it), and neither do processes: after a fork the child
//! starts its own, so that it never inherits a cache another thread of the
//! parent held locked at the fork.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;
use ureq::unversioned::transport::{ConnectionDetails, Connector, RustlsConnector, Transport};
use ureq::Error;

use super::config::TlsRoots;
use super::fork_safe::current_pid;

/// What a client trusts: the base store and the extra certificates (DER).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Trust {
    pub roots: TlsRoots,
    pub extra: Vec<Vec<u8>>,
}

/// Distinct trusts a process shares at most; past them a client keeps its
/// own configuration, so a program that makes clients with ever new CA
/// files cannot grow this without bound.
const MAX_SHARED: usize = 16;

type Shared = HashMap<(u32, Trust), Arc<RustlsConnector>>;
static BY_TRUST: Lazy<Mutex<Shared>> = Lazy::new(Mutex::default);

/// The TLS link of a client's connector chain.
#[derive(Debug)]
pub(crate) struct SharedTls(Arc<RustlsConnector>);

impl SharedTls {
    /// A connector of the client's own (plain `http`: TLS only to a proxy).
    pub(crate) fn unshared() -> SharedTls {
        SharedTls(Arc::default())
    }

    /// The connector every client of this process with `trust` uses.
    pub(crate) fn for_trust(trust: Trust) -> SharedTls {
        let key = (current_pid(), trust);
        // try_lock: a lock held elsewhere (or inherited locked by a forked
        // child) costs this client its sharing, never a wait.
        let shared = BY_TRUST.try_lock().ok().and_then(|mut by_trust| {
            if by_trust.len() >= MAX_SHARED && !by_trust.contains_key(&key) {
                // Entries of parent processes are dead weight in a child.
                let pid = key.0;
                by_trust.retain(|(owner, _), _| *owner == pid);
            }
            match by_trust.len() < MAX_SHARED || by_trust.contains_key(&key) {
                true => Some(Arc::clone(by_trust.entry(key).or_default())),
                false => None,
            }
        });
        SharedTls(shared.unwrap_or_default())
    }
}

impl<In: Transport> Connector<In> for SharedTls {
    type Out = <RustlsConnector as Connector<In>>::Out;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        self.0.connect(details, chained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(n: u8) -> Trust {
        Trust {
            roots: TlsRoots::Mozilla,
            extra: vec![vec![0xee, n]],
        }
    }

    fn shared(a: &SharedTls, b: &SharedTls) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    #[test]
    fn a_full_map_makes_room_by_dropping_other_processes_entries_only() {
        // Full of another process's entries (as a forked child finds it):
        // they go, and this process's trust is shared.
        let other_pid = current_pid().wrapping_add(1);
        let mut by_trust = BY_TRUST.lock().unwrap();
        by_trust.retain(|(owner, _), _| *owner != other_pid);
        for n in 0..MAX_SHARED {
            by_trust.insert((other_pid, trust(n as u8)), Arc::default());
        }
        drop(by_trust);
        let first = SharedTls::for_trust(trust(200));
        assert!(shared(&first, &SharedTls::for_trust(trust(200))));
        assert!(BY_TRUST.lock().unwrap().keys().all(|(owner, _)| *owner != other_pid));

        // Full of this process's own: they stay shared, and one more trust
        // gets a connector of its own rather than growing the map.
        for n in 0..MAX_SHARED as u8 {
            SharedTls::for_trust(trust(n));
        }
        assert!(shared(&SharedTls::for_trust(trust(0)), &SharedTls::for_trust(trust(0))));
        assert!(!shared(
            &SharedTls::for_trust(trust(201)),
            &SharedTls::for_trust(trust(201))
        ));
        assert!(BY_TRUST.lock().unwrap().len() <= MAX_SHARED);
    }
}
