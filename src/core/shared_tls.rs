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
