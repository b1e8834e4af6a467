//! A resolver that remembers answers for a while, for the whole process.
//!
//! ureq resolves the host on every request, before it looks in its pool,
//! and with a total timeout set it does so on a new thread each time, even
//! for an IP address. An address is answered here at once; a name's answer
//! is kept for [`TTL`] and shared by every client of the process, so that
//! neither a pooled call nor a client made for one call pays a thread and
//! a DNS lookup.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is reused: short enough to follow a DNS change.
const TTL: Duration = Duration::from_secs(60);

type Answers = HashMap<String, (Vec<SocketAddr>, Instant)>;
static ANSWERS: Lazy<Mutex<Answers>> = Lazy::new(Mutex::default);

#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut answer = self.empty();
        if let Some(addr) = ip_literal(uri) {
            answer.push(addr);
            return Ok(answer);
        }
        let key = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if let Some((addrs, at)) = answers().as_ref().and_then(|answers| answers.get(key).cloned()) {
            if at.elapsed() < TTL {
                addrs.iter().for_each(|a| answer.push(*a));
                return Ok(answer);
            }
        }
        let answer = self.inner.resolve(uri, config, timeout)?;
        if let Some(mut answers) = answers() {
            answers.insert(key.to_owned(), (answer.to_vec(), Instant::now()));
        }
        Ok(answer)
    }
}

/// The shared answers, or None when another thread holds them (or held
/// them when this process was forked from it): then the lookup is made
/// afresh rather than waited for.
fn answers() -> Option<MutexGuard<'static, Answers>> {
    match ANSWERS.try_lock() {
        Ok(answers) => Some(answers),
        // The map holds plain data, so a panic elsewhere cannot leave it torn.
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The address of a URL whose host is an IP literal (`[::1]` included).
fn ip_literal(uri: &Uri) -> Option<SocketAddr> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    Some(SocketAddr::new(ip, uri.port_u16().unwrap_or(default_port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_are_answered_without_a_lookup() {
        let cases = [
            ("http://127.0.0.1:8080/x", Some("127.0.0.1:8080")),
            ("https://[::1]/x", Some("[::1]:443")),
            ("http://10.0.0.1/x", Some("10.0.0.1:80")),
            ("https://api.voucherify.io/x", None),
            ("https://localhost:1/x", None),
        ];
        for (url, want) in cases {
            let got = ip_literal(&url.parse().unwrap());
            assert_eq!(got, want.map(|w| w.parse().unwrap()), "{url}");
        }
    }
}
