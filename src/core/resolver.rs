//! A resolver that remembers answers for a while, for the whole process.
//!
//! ureq resolves the host on every request, before it looks in its pool,
//! and with a total timeout set it does so on a new thread each time, even
//! for an IP address. An address is answered here at once; a name's answer
//! is kept for [`TTL`] and shared by every client of the process, so that
//! neither a pooled call nor a client made for one call pays a thread and
//! a DNS lookup. Each client also keeps its own latest answer, found by
//! comparing the host, not by parsing or hashing it, on every call.

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
    /// The latest answer (a client talks to one host, or to its proxy).
    latest: Mutex<Option<Latest>>,
}

#[derive(Debug)]
struct Latest {
    authority: String,
    addrs: ResolvedSocketAddrs,
    /// `None` for an IP address, which never changes.
    expires: Option<Instant>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        if let Some(answer) = self.remembered(key) {
            return Ok(answer);
        }
        let (answer, expires) = match ip_literal(uri) {
            Some(addr) => {
                let mut answer = self.empty();
                answer.push(addr);
                (answer, None)
            }
            None => self.lookup(key, uri, config, timeout)?,
        };
        if let Ok(mut latest) = self.latest.try_lock() {
            let addrs = answer.clone();
            *latest = Some(Latest {
                authority: key.to_owned(),
                addrs,
                expires,
            });
        }
        Ok(answer)
    }
}

impl CachingResolver {
    /// The latest answer if it is for `authority` and still fresh. A lock
    /// held by another thread costs this call the shortcut, never a wait.
    fn remembered(&self, authority: &str) -> Option<ResolvedSocketAddrs> {
        let latest = self.latest.try_lock().ok()?;
        let latest = latest.as_ref().filter(|l| l.authority == authority)?;
        let fresh = latest.expires.is_none_or(|at| Instant::now() < at);
        fresh.then(|| latest.addrs.clone())
    }

    /// A name's answer from the process's shared answers, or a lookup.
    fn lookup(
        &self,
        key: &str,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<(ResolvedSocketAddrs, Option<Instant>), ureq::Error> {
        if let Some((addrs, at)) = answers().as_ref().and_then(|answers| answers.get(key).cloned()) {
            if at.elapsed() < TTL {
                let mut answer = self.empty();
                addrs.iter().for_each(|a| answer.push(*a));
                return Ok((answer, Some(at + TTL)));
            }
        }
        let answer = self.inner.resolve(uri, config, timeout)?;
        let now = Instant::now();
        if let Some(mut answers) = answers() {
            answers.insert(key.to_owned(), (answer.to_vec(), now));
        }
        Ok((answer, Some(now + TTL)))
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

    fn remember(resolver: &CachingResolver, authority: &str, addr: &str, expires: Option<Instant>) {
        let mut addrs = resolver.empty();
        addrs.push(addr.parse().unwrap());
        let authority = authority.to_owned();
        *resolver.latest.lock().unwrap() = Some(Latest {
            authority,
            addrs,
            expires,
        });
    }

    #[test]
    fn the_latest_answer_serves_only_its_own_host_and_only_while_fresh() {
        let resolver = CachingResolver::default();
        assert!(resolver.remembered("127.0.0.1:8080").is_none());
        remember(&resolver, "127.0.0.1:8080", "127.0.0.1:8080", None);
        let answer = resolver.remembered("127.0.0.1:8080").expect("remembered");
        assert_eq!(answer[..], ["127.0.0.1:8080".parse().unwrap()]);
        assert!(resolver.remembered("127.0.0.1:8081").is_none());
        assert!(resolver.remembered("127.0.0.10:8080").is_none());

        let now = Instant::now();
        remember(&resolver, "api.example:443", "127.0.0.7:443", Some(now + TTL));
        assert!(resolver.remembered("api.example:443").is_some());
        remember(&resolver, "api.example:443", "127.0.0.7:443", Some(now));
        assert!(
            resolver.remembered("api.example:443").is_none(),
            "an expired answer was reused"
        );
    }

    fn lookup(resolver: &CachingResolver, url: &str) -> (Vec<SocketAddr>, Option<Instant>) {
        let uri: Uri = url.parse().unwrap();
        let key = uri.authority().unwrap().as_str();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::Exact(Duration::from_secs(5)),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        };
        let (answer, expires) = resolver.lookup(key, &uri, &Config::default(), timeout).unwrap();
        (answer.to_vec(), expires)
    }

    #[test]
    fn a_names_answer_is_shared_for_its_ttl_then_looked_up_again() {
        // localhost, found in /etc/hosts: no DNS query leaves the machine.
        // An answer this test planted (127.0.0.9) can only come from the map.
        let resolver = CachingResolver::default();
        let planted: SocketAddr = "127.0.0.9:1".parse().unwrap();
        let fresh = Instant::now()
            .checked_sub(Duration::from_secs(30))
            .expect("up for a minute");
        let stale = Instant::now()
            .checked_sub(TTL + Duration::from_secs(1))
            .expect("up for a minute");
        let mut answers = ANSWERS.lock().unwrap();
        answers.insert("localhost:61001".into(), (vec![planted], fresh));
        answers.insert("localhost:61002".into(), (vec![planted], stale));
        drop(answers);

        assert_eq!(
            lookup(&resolver, "http://localhost:61001/x"),
            (vec![planted], Some(fresh + TTL)),
            "a fresh shared answer is reused until it expires"
        );
        let before = Instant::now();
        let (addrs, expires) = lookup(&resolver, "http://localhost:61002/x");
        assert!(
            !addrs.is_empty() && !addrs.contains(&planted),
            "a stale answer was reused: {addrs:?}"
        );
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 61002),
            "{addrs:?}"
        );
        assert!(expires.unwrap() >= before + TTL, "a new answer is kept for the TTL");
        let (kept, at) = ANSWERS.lock().unwrap()["localhost:61002"].clone();
        assert_eq!((kept, at >= before), (addrs, true), "and shared");
    }

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
