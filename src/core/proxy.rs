//! Which proxy, if any, a client's requests go through: the configured one,
//! or the one the environment names for the base URL's scheme, read here in
//! a documented order rather than by ureq (which lets `ALL_PROXY` win over
//! `HTTPS_PROXY`, honours `HTTP_PROXY` for https targets and quietly
//! connects directly when a SOCKS proxy is named).
//!
//! Only `http://` and `https://` proxies are supported (tunnelled with
//! CONNECT, so TLS to Voucherify stays end to end). Any other scheme is
//! refused with `INVALID_ARGUMENT`: never a panic, never a silent bypass.

use std::net::IpAddr;

use ureq::{Proxy, ProxyProtocol};

use super::config::invalid;
use super::error::Error;

/// Where requests go, as far as choosing a proxy is concerned.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub is_https: bool,
}

/// The proxy variables read for a target, in order; the first that is set
/// and not empty wins. `HTTP_PROXY` in capitals is never read: in CGI
/// programs it can come from a request's `Proxy:` header ("httpoxy"), and it
/// is never used for an https target at all.
fn proxy_variables(is_https: bool) -> &'static [&'static str] {
    match is_https {
        true => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        false => &["http_proxy", "all_proxy", "ALL_PROXY"],
    }
}

const NO_PROXY_VARIABLES: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// The proxy for `target`: the configured URL if any; otherwise, when
/// `from_env`, the one the environment names (through `lookup`) unless
/// `NO_PROXY` exempts the target.
pub(crate) fn choose(
    configured: Option<&str>,
    from_env: bool,
    target: &Target,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, Error> {
    if let Some(url) = configured {
        return parse(url, "the proxy URL").map(Some);
    }
    if !from_env {
        return Ok(None);
    }
    let set = |name: &&'static str| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (*name, v));
    let Some((name, url)) = proxy_variables(target.is_https).iter().find_map(set) else {
        return Ok(None);
    };
    if let Some((_, exempt)) = NO_PROXY_VARIABLES.iter().find_map(set) {
        if no_proxy_matches(&exempt, target.host, target.port) {
            return Ok(None);
        }
    }
    parse(&url, &format!("the proxy URL in {name}")).map(Some)
}

/// Checks a proxy URL as [`choose`] will use it, for configuration time.
pub(crate) fn check(url: &str) -> Result<(), Error> {
    parse(url, "the proxy URL").map(|_| ())
}

/// A proxy URL that ureq can use: http or https, with a host. `what` names
/// it in messages, which never quote it (it may hold a password).
fn parse(url: &str, what: &str) -> Result<Proxy, Error> {
    if url.chars().any(char::is_control) {
        return Err(invalid(format!("{what} contains a control character")));
    }
    let bad = || {
        invalid(format!(
            "{what} is not valid (expected http://[user:password@]host:port)"
        ))
    };
    let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    if let Some(scheme) = scheme.filter(|s| s != "http" && s != "https") {
        // Only the scheme is quoted: it holds no secret.
        let scheme: String = scheme.chars().filter(char::is_ascii_alphanumeric).take(16).collect();
        return Err(invalid(format!(
            "{what} uses the scheme {scheme:?}: only http:// and https:// proxies are supported"
        )));
    }
    if !has_valid_authority(url) {
        return Err(bad());
    }
    let proxy = Proxy::new(url).map_err(|_| bad())?;
    match proxy.protocol() {
        ProxyProtocol::Http | ProxyProtocol::Https => Ok(proxy),
        _ => Err(bad()),
    }
}

/// `[scheme://][user:password@]host[:port][/]`, with a host name or an IP
/// address and a port of 1 to 65535: ureq's own parsing lets `[::1` or a
/// port of 99999 through.
fn has_valid_authority(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let (host_ok, port) = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((address, rest)) => (address.parse::<std::net::Ipv6Addr>().is_ok(), rest.strip_prefix(':')),
            None => return false,
        },
        None => {
            let (host, port) = host_port
                .split_once(':')
                .map_or((host_port, None), |(h, p)| (h, Some(p)));
            let name_ok = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
            (!host.is_empty() && name_ok, port)
        }
    };
    host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// Whether a `NO_PROXY` list exempts `host:port`. Entries are separated by
/// commas or spaces, and each is one of:
/// - `*`: every host;
/// - a domain, `example.com` or `.example.com` (or `*.example.com`): that
///   name and every name under it, without regard to case;
/// - an IP address, `10.1.2.3` or `::1` (or `[::1]`);
/// - a network in CIDR form, `10.0.0.0/8` or `fd00::/8`, matching IP hosts;
/// - any of the above but `*` and CIDR followed by `:port`
///   (`[v6]:port` for IPv6): only that port.
pub(crate) fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.');
    let host_ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_matches(entry, host, host_ip, port))
}

fn entry_matches(entry: &str, host: &str, host_ip: Option<IpAddr>, port: u16) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((network, prefix)) = entry.split_once('/') {
        return host_ip.is_some_and(|ip| in_network(ip, network, prefix));
    }
    let (name, entry_port) = split_port(entry);
    if entry_port.is_some_and(|p| p != port) {
        return false;
    }
    if let Ok(ip) = name.parse::<IpAddr>() {
        return host_ip == Some(ip);
    }
    let domain = name
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.');
    if domain.is_empty() || host_ip.is_some() {
        return false;
    }
    let host = host.as_bytes();
    let domain = domain.as_bytes();
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && host[host.len() - domain.len() - 1] == b'.')
}

/// `name[:port]`, `[v6][:port]` or a bare IPv6 address (no port).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(v6) = entry.strip_prefix('[') {
        let Some((address, rest)) = v6.split_once(']') else {
            return (entry, None);
        };
        return (address, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match entry.rsplit_once(':') {
        // Two colons or more: an IPv6 address without brackets, no port.
        Some((name, port)) if !name.contains(':') => (name, port.parse().ok().or(Some(0))),
        _ => (entry, None),
    }
}

fn in_network(ip: IpAddr, network: &str, prefix: &str) -> bool {
    let (Ok(network), Ok(prefix)) = (network.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::core::Status;

    const HTTPS: Target = Target {
        host: "api.voucherify.io",
        port: 443,
        is_https: true,
    };

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn chosen(target: &Target, pairs: &[(&str, &str)]) -> Option<String> {
        choose(None, true, target, env(pairs))
            .unwrap()
            .map(|p| format!("{}:{}", p.host(), p.port()))
    }

    #[test]
    fn https_targets_read_https_proxy_then_all_proxy_and_never_http_proxy() {
        let all = [
            ("HTTP_PROXY", "http://http-upper:1"),
            ("http_proxy", "http://http-lower:1"),
            ("ALL_PROXY", "http://all:3"),
            ("HTTPS_PROXY", "http://https:2"),
        ];
        assert_eq!(
            chosen(&HTTPS, &all).as_deref(),
            Some("https:2"),
            "HTTPS_PROXY wins over ALL_PROXY"
        );
        assert_eq!(chosen(&HTTPS, &all[..3]).as_deref(), Some("all:3"));
        assert_eq!(chosen(&HTTPS, &all[..2]), None, "HTTP_PROXY is never used for https");
        let both = [("HTTPS_PROXY", "http://upper:2"), ("https_proxy", "http://lower:2")];
        assert_eq!(chosen(&HTTPS, &both).as_deref(), Some("lower:2"));
        assert_eq!(
            chosen(&HTTPS, &[("HTTPS_PROXY", " "), ("all_proxy", "http://all:3")]).as_deref(),
            Some("all:3")
        );
    }

    #[test]
    fn plain_http_targets_read_only_the_lower_case_http_proxy() {
        let target = Target {
            host: "127.0.0.1",
            port: 8080,
            is_https: false,
        };
        assert_eq!(chosen(&target, &[("HTTP_PROXY", "http://cgi:1")]), None, "httpoxy");
        assert_eq!(chosen(&target, &[("http_proxy", "http://p:1")]).as_deref(), Some("p:1"));
        assert_eq!(chosen(&target, &[("HTTPS_PROXY", "http://p:2")]), None);
        assert_eq!(chosen(&target, &[("ALL_PROXY", "http://p:3")]).as_deref(), Some("p:3"));
    }

    #[test]
    fn the_environment_is_read_only_when_asked_and_the_configured_proxy_wins() {
        let pairs = [("HTTPS_PROXY", "http://env:1")];
        assert!(choose(None, false, &HTTPS, env(&pairs)).unwrap().is_none());
        let configured = choose(Some("http://conf:2"), true, &HTTPS, env(&pairs))
            .unwrap()
            .unwrap();
        assert_eq!(configured.host(), "conf");
    }

    #[test]
    fn unsupported_schemes_are_refused_never_bypassed_and_never_quoted() {
        let unsupported = [
            "socks5://u:s3cret@h:1080",
            "socks4://h:1",
            "socks5h://h:1",
            "ftp://h:1",
            "SOCKS://h",
        ];
        let malformed = [
            "http://u:s3cret@",
            "http://",
            "http://u:s3cret@:3128",
            "not a url\n",
            "http://u:s3cret@h:99999",
            "http://u:s3cret@h:0",
        ];
        for url in unsupported.into_iter().chain(malformed) {
            let err = check(url).unwrap_err();
            assert_eq!(err.status, Status::InvalidArgument, "{url:?}");
            assert!(!err.message.contains("s3cret"), "{}", err.message);
        }
        for url in unsupported {
            let message = check(url).unwrap_err().message;
            assert!(message.contains("only http:// and https://"), "{message}");
            assert!(!message.contains("h:1"), "{message}");
            let from_env = choose(None, true, &HTTPS, env(&[("ALL_PROXY", url)])).unwrap_err();
            assert_eq!(from_env.status, Status::InvalidArgument);
            assert!(from_env.message.contains("ALL_PROXY"), "{}", from_env.message);
        }
        check("http://u:p@127.0.0.1:3128").unwrap();
        check("https://proxy.example:443").unwrap();
        check("proxy.example:3128").unwrap();
    }

    #[test]
    fn no_proxy_exempts_by_domain_suffix_port_address_network_and_star() {
        // A NO_PROXY value, the host and port asked for, and whether it exempts them.
        let cases = [
            ("*", "api.voucherify.io", 443, true),
            ("voucherify.io", "api.voucherify.io", 443, true),
            (".voucherify.io", "api.voucherify.io", 443, true),
            ("*.voucherify.io", "api.voucherify.io", 443, true),
            ("VOUCHERIFY.IO", "api.voucherify.io", 443, true),
            ("api.voucherify.io", "api.voucherify.io", 443, true),
            ("other.example, voucherify.io", "api.voucherify.io", 443, true),
            ("other.example voucherify.io", "api.voucherify.io", 443, true),
            ("voucherify.io:443", "api.voucherify.io", 443, true),
            ("127.0.0.1", "127.0.0.1", 80, true),
            ("127.0.0.1:8080", "127.0.0.1", 8080, true),
            ("127.0.0.0/8", "127.9.9.9", 80, true),
            ("0.0.0.0/0", "192.0.2.1", 80, true),
            ("::1", "[::1]", 80, true),
            ("[::1]", "::1", 80, true),
            ("[::1]:80", "::1", 80, true),
            ("fd00::/8", "fd12::1", 80, true),
            ("fy.io", "api.voucherify.io", 443, false), // a suffix matches whole labels only
            ("api.voucherify.io", "voucherify.io", 443, false),
            ("voucherify.io:8443", "api.voucherify.io", 443, false),
            ("127.0.0.1", "127.0.0.2", 80, false),
            ("127.0.0.1:8080", "127.0.0.1", 8081, false),
            ("10.0.0.0/8", "127.0.0.1", 80, false),
            ("[::1]:81", "::1", 80, false),
            ("fd00::/8", "fe80::1", 80, false),
            ("127.0.0.0/8", "localhost", 80, false), // networks match addresses, not names
            ("", "api.voucherify.io", 443, false),
            (" , ", "api.voucherify.io", 443, false),
            ("10.0.0.0/99", "10.0.0.1", 80, false),
            ("fd00::/129", "fd12::1", 80, false),
            ("0.0.1", "127.0.0.1", 80, false), // names match names, not an address's digits
            (".", "api.voucherify.io", 443, false),
        ];
        for (no_proxy, host, port, exempted) in cases {
            assert_eq!(
                no_proxy_matches(no_proxy, host, port),
                exempted,
                "{no_proxy:?} for {host}:{port}"
            );
        }
    }

    #[test]
    fn no_proxy_applies_to_the_environment_proxy_only() {
        let pairs = [("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "voucherify.io")];
        assert_eq!(chosen(&HTTPS, &pairs), None);
        assert!(choose(Some("http://conf:2"), false, &HTTPS, env(&pairs))
            .unwrap()
            .is_some());
        let lower_first = [
            ("HTTPS_PROXY", "http://env:1"),
            ("no_proxy", "voucherify.io"),
            ("NO_PROXY", "x.y"),
        ];
        assert_eq!(chosen(&HTTPS, &lower_first), None);
    }
}
