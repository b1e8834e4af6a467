//! Errors the Rust core returns, with what Voucherify said about them.

use std::fmt;

use super::rate_limit::RateLimit;
use super::status::Status;

/// Longest server-provided string kept in an error, in bytes: an HTML page
/// from a load balancer must not become a multi-kilobyte log line.
const MAX_FIELD_LEN: usize = 512;

/// What Voucherify's JSON error body said. Every field is optional: the body
/// may be empty, HTML, or JSON with only some of these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// `code`, which the API sends as a number or as a numeric string.
    pub code: Option<i64>,
    pub key: Option<String>,
    pub message: Option<String>,
    pub details: Option<String>,
    pub request_id: Option<String>,
    /// `error.message`: a message configured by the project's owner.
    pub custom_message: Option<String>,
}

impl ApiErrorBody {
    /// Parses an error body leniently; anything that is not a JSON object
    /// yields `None`, and fields of unexpected types are skipped.
    pub fn parse(body: &[u8]) -> Option<ApiErrorBody> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(|s| truncate(s).to_owned());
        let code = object
            .get("code")
            .and_then(|c| c.as_i64().or_else(|| c.as_str().and_then(|s| s.trim().parse().ok())));
        Some(ApiErrorBody {
            code,
            key: text(object.get("key")),
            message: text(object.get("message")),
            details: text(object.get("details")),
            request_id: text(object.get("request_id")),
            custom_message: text(object.get("error").and_then(|e| e.get("message"))),
        })
    }

    /// Whether the body says the subscription plan has ended or is
    /// exceeded (a 429 that, like a 402, no wait can fix).
    pub fn says_plan_ended(&self) -> bool {
        [&self.key, &self.message, &self.details, &self.custom_message]
            .into_iter()
            .flatten()
            .any(|text| text.to_ascii_lowercase().contains("plan"))
    }
}

/// A failed call: a status to branch on, a message to log, and what the
/// server said. It never holds the secret key or an access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
    /// The HTTP status of the answer, or 0 when there was none.
    pub http_status: u16,
    /// The parsed error body, when there was one.
    pub body: ApiErrorBody,
    /// Requests sent, retries included; 0 when bad input stopped the call.
    pub attempts: u32,
    /// The rate-limit headers of the last answer.
    pub rate_limit: RateLimit,
}

impl Error {
    /// An error that happened before or instead of an HTTP answer.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            http_status: 0,
            body: ApiErrorBody::default(),
            attempts: 0,
            rate_limit: RateLimit::default(),
        }
    }

    /// An error for an HTTP answer: the message names the endpoint, the
    /// HTTP status and what the body said, ending with the request id that
    /// Voucherify support asks for.
    pub fn from_http(status: Status, what: &str, http_status: u16, raw_body: &[u8]) -> Error {
        // The revoke 404 has an empty body: nothing to parse.
        let body = match raw_body.is_empty() {
            true => ApiErrorBody::default(),
            false => ApiErrorBody::parse(raw_body).unwrap_or_default(),
        };
        let mut message = format!("{what}: HTTP {http_status}");
        if let Some(key) = &body.key {
            message.push(' ');
            push_one_line(&mut message, key);
        }
        let said: Vec<&str> = [&body.message, &body.details, &body.custom_message]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !said.is_empty() {
            message.push_str(": ");
            push_one_line(&mut message, &said.join("; "));
        } else if !raw_body.is_empty() && body == ApiErrorBody::default() {
            message.push_str(" (the body was not a Voucherify JSON error)");
        }
        if let Some(id) = &body.request_id {
            message.push_str(" [request_id ");
            push_one_line(&mut message, id);
            message.push(']');
        }
        Error {
            http_status,
            body,
            ..Error::new(status, message)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for Error {}

/// [`push_one_line`] on its own: what a server said, fit for one log line.
pub(crate) fn one_line(said: &str) -> String {
    let mut line = String::with_capacity(said.len());
    push_one_line(&mut line, said);
    line
}

/// Appends what a server said, with control characters (newlines, escape
/// sequences) and Unicode line separators escaped: a message stays one line,
/// and a server cannot forge lines or colours in the caller's log. The raw
/// fields of [`ApiErrorBody`] keep the text as sent.
fn push_one_line(message: &mut String, said: &str) {
    for c in said.chars() {
        match c {
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => message.extend(c.escape_default()),
            c => message.push(c),
        }
    }
}

fn truncate(s: &str) -> &str {
    if s.len() <= MAX_FIELD_LEN {
        return s;
    }
    let mut end = MAX_FIELD_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_body() {
        let body = br#"{"code":401,"key":"unauthorized","message":"Unauthorized","details":"bad key",
            "request_id":"v-0a88","resource_id":"x","error":{"message":"custom"},"extra":[1]}"#;
        let parsed = ApiErrorBody::parse(body).unwrap();
        assert_eq!(parsed.code, Some(401));
        assert_eq!(parsed.key.as_deref(), Some("unauthorized"));
        assert_eq!(parsed.message.as_deref(), Some("Unauthorized"));
        assert_eq!(parsed.details.as_deref(), Some("bad key"));
        assert_eq!(parsed.request_id.as_deref(), Some("v-0a88"));
        assert_eq!(parsed.custom_message.as_deref(), Some("custom"));
    }

    #[test]
    fn code_may_be_a_numeric_string_and_fields_may_be_missing_or_odd() {
        let parsed = ApiErrorBody::parse(br#"{"code":" 429 ","message":7}"#).unwrap();
        assert_eq!(parsed.code, Some(429));
        assert_eq!(parsed.message, None);
        assert_eq!(ApiErrorBody::parse(br#"{"code":"four"}"#).unwrap().code, None);
    }

    #[test]
    fn non_json_bodies_are_not_error_bodies() {
        for body in [&b""[..], b"<html>502</html>", b"{\"code\": 4", b"[1,2]", b"\xff\xfe"] {
            assert_eq!(ApiErrorBody::parse(body), None);
        }
    }

    #[test]
    fn message_carries_what_the_server_said_and_the_request_id() {
        let e = Error::from_http(
            Status::Unauthorized,
            "revoke",
            401,
            br#"{"code":401,"key":"unauthorized","message":"Unauthorized","request_id":"v-1"}"#,
        );
        assert_eq!(
            e.message,
            "revoke: HTTP 401 unauthorized: Unauthorized [request_id v-1]"
        );
        let html = Error::from_http(Status::ServerError, "revoke", 502, b"<html>bad gateway</html>");
        assert_eq!(
            html.message,
            "revoke: HTTP 502 (the body was not a Voucherify JSON error)"
        );
        // No body, or a JSON body with only a key: nothing said, nothing to excuse.
        let empty = Error::from_http(Status::TokenNotFound, "revoke", 404, b"");
        assert_eq!(empty.message, "revoke: HTTP 404");
        let key_only = Error::from_http(Status::TokenNotFound, "revoke", 404, br#"{"key":"not_found"}"#);
        assert_eq!(key_only.message, "revoke: HTTP 404 not_found");
    }

    #[test]
    fn one_line_escapes_what_would_break_the_line_and_keeps_the_rest() {
        assert_eq!(one_line("v-0c5\r\n\u{2028}é"), "v-0c5\\r\\n\\u{2028}é");
        assert_eq!(one_line("v-0c5a1b"), "v-0c5a1b");
    }

    #[test]
    fn the_message_is_one_line_whatever_the_server_sends() {
        let body = r#"{"key":"k\r\nINFO forged","message":"a\nb\u001b[31mred\u2028c","details":"tab\there é","request_id":"v-1\n"}"#.as_bytes();
        let e = Error::from_http(Status::BadRequest, "revoke", 400, body);
        assert!(
            !e.message.chars().any(|c| c.is_control() || c == '\u{2028}'),
            "{:?}",
            e.message
        );
        assert_eq!(
            e.message,
            r"revoke: HTTP 400 k\r\nINFO forged: a\nb\u{1b}[31mred\u{2028}c; tab\there é [request_id v-1\n]"
        );
        assert_eq!(
            e.body.message.as_deref(),
            Some("a\nb\u{1b}[31mred\u{2028}c"),
            "the raw field keeps the text"
        );
    }

    #[test]
    fn long_fields_are_cut_on_a_char_boundary() {
        // One ASCII byte first, so that byte 512 falls inside an "é".
        let long = format!("a{}", "é".repeat(400));
        let body = format!(r#"{{"message":"{long}"}}"#);
        let parsed = ApiErrorBody::parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.message.as_deref(), Some(&long[..MAX_FIELD_LEN - 1]));
    }
}
