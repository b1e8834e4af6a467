//! Access tokens as Voucherify hands them out and describes them.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use super::error::Error;
use super::status::Status;

/// The only token type Voucherify hands out, as the `Authorization` scheme spells it.
const BEARER: &str = "Bearer";

/// Longest lifetime taken from a server (ten years); Voucherify's is 900 s.
const MAX_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// An access token and what Voucherify said about it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// `Bearer`.
    pub token_type: String,
    /// When the token expires by the server's clock, in Unix seconds.
    pub expires_at: i64,
    /// Seconds the token had left when the answer arrived.
    pub expires_in: i64,
    /// When the answer arrived, by this machine's monotonic clock.
    pub received_at: Instant,
    /// The same moment by the wall clock, which keeps counting while the
    /// machine is suspended (the monotonic clock stops).
    pub received_at_wall: SystemTime,
}

impl Token {
    /// When the token expires by this machine's clock: arrival plus
    /// `expires_in`, so a server clock that is off cannot mislead us.
    pub fn expires(&self) -> Instant {
        self.received_at + self.lifetime()
    }

    /// How long the token has left by the more pessimistic of two clocks:
    /// the monotonic one (immune to clock changes) and the wall clock
    /// (which keeps counting while the machine is suspended).
    pub fn time_left(&self, now: Instant, wall_now: SystemTime) -> Duration {
        let by_monotonic = self.expires().saturating_duration_since(now);
        let by_wall = self
            .received_at_wall
            .checked_add(self.lifetime())
            .and_then(|expiry| expiry.duration_since(wall_now).ok())
            .unwrap_or(Duration::ZERO);
        by_monotonic.min(by_wall)
    }

    /// `expires_in` as a duration, within sane bounds: a server that sends
    /// a lifetime of centuries must not overflow the clock.
    pub(crate) fn lifetime(&self) -> Duration {
        Duration::from_secs(self.expires_in.clamp(0, MAX_LIFETIME_SECS) as u64)
    }

    /// `Bearer <access_token>`, for an `Authorization` header.
    pub fn authorization(&self) -> String {
        format!("{BEARER} {}", self.access_token)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The answer to an introspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Introspection {
    /// The token is active; the server described it.
    Active(Token),
    /// The token is unknown, expired or revoked: a normal answer.
    Inactive,
}

/// The JSON of a token, as generate and introspect send it.
#[derive(Deserialize)]
struct TokenJson {
    #[serde(default)]
    active: Option<bool>,
    access_token: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_at: i64,
    expires_in: Option<i64>,
}

fn parse_token_json(what: &str, body: &[u8]) -> Result<TokenJson, Error> {
    // serde's own text quotes the body; the message stays short without it.
    serde_json::from_slice(body).map_err(|e| {
        let kind = format!("{:?}", e.classify()).to_lowercase();
        let at = format!("line {}, column {}", e.line(), e.column());
        Error::new(
            Status::UnexpectedResponse,
            format!("{what}: the answer is not a token ({kind} error at {at})"),
        )
    })
}

fn into_token(what: &str, json: TokenJson, received_at: Instant) -> Result<Token, Error> {
    let missing = |field| Error::new(Status::UnexpectedResponse, format!("{what}: the answer has no {field}"));
    // Documented as `Bearer`, whose spelling an official SDK marks as
    // uncertain: any case is a bearer token (RFC 6749 7.1). Another type
    // would make the `Authorization: Bearer` header we build a lie.
    if !json.token_type.is_empty() && !json.token_type.eq_ignore_ascii_case(BEARER) {
        return Err(Error::new(
            Status::UnexpectedResponse,
            format!("{what}: the token type is not Bearer"),
        ));
    }
    Ok(Token {
        access_token: json
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing("access_token"))?,
        expires_in: json.expires_in.ok_or_else(|| missing("expires_in"))?,
        client_id: json.client_id,
        scope: json.scope,
        // One spelling for callers who compare it.
        token_type: BEARER.to_owned(),
        expires_at: json.expires_at,
        received_at,
        received_at_wall: SystemTime::now(),
    })
}

/// Reads the 200 answer of `POST /v1/oauth/token`.
pub(crate) fn parse_generated(body: &[u8], received_at: Instant) -> Result<Token, Error> {
    into_token("generate", parse_token_json("generate", body)?, received_at)
}

/// Reads the 200 answer of `POST /v1/oauth/introspect`.
pub(crate) fn parse_introspection(body: &[u8], received_at: Instant) -> Result<Introspection, Error> {
    let json = parse_token_json("introspect", body)?;
    match json.active {
        Some(true) => Ok(Introspection::Active(into_token("introspect", json, received_at)?)),
        Some(false) => Ok(Introspection::Inactive),
        None => Err(Error::new(
            Status::UnexpectedResponse,
            "introspect: the answer has no \"active\" field",
        )),
    }
}

/// Joins scopes given as a list, each of which may itself be a
/// space-separated list, into the single-space form the API takes. Values
/// are not checked against a list: the server knows which exist.
pub(crate) fn join_scopes<S: AsRef<str>>(scopes: &[S]) -> String {
    scopes
        .iter()
        .flat_map(|s| s.as_ref().split_whitespace())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_generated_token_and_computes_expiry_locally() {
        let now = Instant::now();
        let body = br#"{"access_token":"abc","client_id":"cl_1","expires_at":1,"expires_in":900,"scope":"api","token_type":"Bearer"}"#;
        let token = parse_generated(body, now).unwrap();
        assert_eq!(token.access_token, "abc");
        assert_eq!(token.expires(), now + Duration::from_secs(900));
        assert_eq!(token.authorization(), "Bearer abc");
        // Debug output says what it is and that the token is withheld.
        let shown = format!("{token:?}");
        assert!(!shown.contains("abc\""), "{shown}");
        assert!(
            shown.starts_with(r#"Token { access_token: "<redacted>", client_id: "cl_1", scope: "api""#),
            "{shown}"
        );
    }

    #[test]
    fn a_lifetime_is_believed_up_to_ten_years() {
        let year = 365 * 24 * 3600;
        for (expires_in, believed) in [
            (-5, 0),
            (9 * year, 9 * year),
            (11 * year, 10 * year),
            (i64::MAX, 10 * year),
        ] {
            let body = format!(r#"{{"access_token":"abc","expires_in":{expires_in},"token_type":"Bearer"}}"#);
            let token = parse_generated(body.as_bytes(), Instant::now()).unwrap();
            assert_eq!(token.lifetime(), Duration::from_secs(believed as u64), "{expires_in}");
        }
    }

    #[test]
    fn the_token_type_is_compared_without_regard_to_case() {
        for spelling in ["Bearer", "bearer", "BEARER", ""] {
            let body = format!(r#"{{"access_token":"abc","expires_in":900,"token_type":"{spelling}"}}"#);
            let token = parse_generated(body.as_bytes(), Instant::now()).unwrap();
            assert_eq!(token.token_type, "Bearer", "{spelling:?}");
            assert_eq!(token.authorization(), "Bearer abc");
        }
        let mac = br#"{"access_token":"abc","expires_in":900,"token_type":"mac"}"#;
        let err = parse_generated(mac, Instant::now()).unwrap_err();
        assert_eq!(err.status, Status::UnexpectedResponse);
        assert!(!err.message.contains("abc"), "{}", err.message);
        let introspected = br#"{"active":true,"access_token":"abc","expires_in":9,"token_type":"bEaReR"}"#;
        assert!(matches!(
            parse_introspection(introspected, Instant::now()),
            Ok(Introspection::Active(_))
        ));
    }

    #[test]
    fn inactive_introspection_is_an_answer_not_an_error() {
        assert_eq!(
            parse_introspection(br#"{"active":false}"#, Instant::now()).unwrap(),
            Introspection::Inactive
        );
        let err = parse_introspection(b"{}", Instant::now()).unwrap_err();
        assert_eq!(err.status, Status::UnexpectedResponse);
        assert_eq!(
            parse_generated(br#"{"expires_in":5}"#, Instant::now())
                .unwrap_err()
                .status,
            Status::UnexpectedResponse
        );
        assert_eq!(
            parse_generated(b"<html>", Instant::now()).unwrap_err().status,
            Status::UnexpectedResponse
        );
    }

    #[test]
    fn hostile_answers_neither_overflow_nor_bloat_messages() {
        let now = Instant::now();
        let body = br#"{"access_token":"abc","expires_in":9223372036854775807}"#;
        let token = parse_generated(body, now).unwrap();
        assert!(token.expires() > now);
        let long = format!(r#"{{"access_token":"abc","expires_in":"{}"}}"#, "x".repeat(4000));
        let err = parse_generated(long.as_bytes(), now).unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message);
    }

    #[test]
    fn scopes_join_with_single_spaces_never_commas() {
        assert_eq!(join_scopes(&["api", " vouchers  campaigns "]), "api vouchers campaigns");
        assert_eq!(join_scopes(&["vouchers,campaigns"]), "vouchers,campaigns");
        assert_eq!(join_scopes::<&str>(&[]), "");
    }
}
