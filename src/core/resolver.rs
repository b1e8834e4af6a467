//! A resolver that remembers answers for a while.
//!
//! ureq resolves the host on every request, before it looks in its pool,
//! and with a total timeout set it does so on a new thread each time. A
//! client talks to one host, so the answer is kept for [`TTL`] and a pooled
//! call costs no resolver work at all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is reused: short enough to follow a DNS change.
const TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
    answers: Mutex<HashMap<String, (Vec<SocketAddr>, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if let Some((addrs, at)) = self.lock().get(key) {
            if at.elapsed() < TTL {
                let mut answer = self.empty();
                addrs.iter().for_each(|a| answer.push(*a));
                return Ok(answer);
            }
        }
        let answer = self.inner.resolve(uri, config, timeout)?;
        self.lock().insert(key.to_owned(), (answer.to_vec(), Instant::now()));
        Ok(answer)
    }
}

impl CachingResolver {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<SocketAddr>, Instant)>> {
        // The map holds plain data, so a panic elsewhere cannot leave it torn.
        self.answers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
