//! The `/v1/` endpoints, their errors and the fault tokens.
//!
//! Fault tokens: on introspect and revoke, once credentials and content type have
//! passed, an `access_token` starting with `fault-` picks the answer:
//! - `fault-status-NNN` (200..=599): status NNN with the standard JSON error body
//!   (`{}` for 2xx but an empty 204; 429 adds `Retry-After: 1`), optionally suffixed with
//!   `-html`, `-empty`, `-stringcode`, `-badjson` or `-binary`;
//! - `fault-hang`: never answer (the connection is dropped at shutdown);
//! - `fault-close`: drop the connection without answering;
//! - `fault-reset`: reset the connection (RST) without answering;
//! - `fault-reset-mid-body`: 200 announcing 1000 bytes, 10 sent, then RST;
//! - `fault-trickle`: 200 with a 200-byte JSON body, one byte every 100 ms;
//! - `fault-endless-body`: 500 with a chunked body that never ends;
//! - `fault-huge-body`: 500 with a 50 MiB `Content-Length` body;
//! - `fault-redirect`: 307 to `http://127.0.0.1:9/elsewhere`.
//!
//! Any other `fault-...` value is an ordinary unknown token.
//!
//! Before any of that, every `/v1/` request counts against the limits of the
//! [`Behaviour`](crate::Behaviour), which may answer it instead: 402 when the
//! plan is exceeded, 429 when the billing cycle or the window is spent.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use crate::faults::misbehave;
use crate::server::ConnControl;
use crate::state::{request_id, unix_secs, Admission, Refusal, Shared, Token};
use crate::{ErrorBodies, Fault, RecordedRequest};

/// The 42 scope values the spec lists for `POST /v1/oauth/token`.
const KNOWN_SCOPES: [&str; 42] = [
    "api",
    "assets",
    "async-actions",
    "campaigns",
    "categories",
    "client_api",
    "client_consents",
    "client_customers",
    "client_events",
    "client_promotions",
    "client_publish",
    "client_qualifications",
    "client_redeem",
    "client_redemptions",
    "client_validate",
    "client_validations",
    "client_vouchers",
    "consents",
    "customers",
    "events",
    "exports",
    "locations",
    "loyalties",
    "metadata-schemas",
    "orders",
    "product-collections",
    "products",
    "promotions",
    "publications",
    "qualifications",
    "redemptions",
    "referrals",
    "rewards",
    "segments",
    "skus",
    "task-results",
    "templates",
    "trash-bin",
    "validation-rules-assignments",
    "validation-rules",
    "validations",
    "vouchers",
];

const FORM_TYPE: &str = "application/x-www-form-urlencoded";
const REDIRECT_TARGET: &str = "http://127.0.0.1:9/elsewhere";

#[derive(Clone, Copy)]
enum Endpoint {
    Generate,
    Introspect,
    Revoke,
}

/// What to do with a request: answer it, or misbehave on purpose.
enum Outcome {
    Answer(Response),
    Misbehave(Fault),
}

/// Fallback handler: every path the control routes do not claim.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<Arc<ConnControl>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    // Bytes buffers the whole body, however the client split its writes.
    body: Bytes,
) -> Response {
    if !uri.path().starts_with("/v1/") {
        return api_error(StatusCode::NOT_FOUND, "not_found", "Resource not found", "");
    }
    let admission = shared.admit();
    shared.record(RecordedRequest {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |pq| pq.to_string()),
        headers: headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        body: body.to_vec(),
        received_at: SystemTime::now(),
        refused_by_limit: admission.refusal.as_ref().map(Refusal::status),
    });
    let _in_flight = shared.begin_request();
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }

    let scripted = if admission.refusal.is_none() && uri.path().starts_with("/v1/oauth/") {
        shared.pop_fault()
    } else {
        None
    };
    let outcome = match (scripted, &admission.refusal) {
        (Some(fault), _) => Outcome::Misbehave(fault),
        (None, Some(refusal)) => Outcome::Answer(refused(refusal)),
        (None, None) => dispatch(&shared, &method, uri.path(), &headers, &body),
    };
    let outcome = match outcome {
        Outcome::Answer(mut response) => {
            add_rate_headers(&mut response, &admission);
            Outcome::Answer(response)
        }
        other => other,
    };
    match outcome {
        Outcome::Answer(response) => response,
        Outcome::Misbehave(fault) => misbehave(fault, &conn).await,
    }
}

fn dispatch(shared: &Shared, method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Outcome {
    let endpoint = match path {
        "/v1/oauth/token" => Endpoint::Generate,
        "/v1/oauth/introspect" => Endpoint::Introspect,
        "/v1/oauth/token/revoke" => Endpoint::Revoke,
        _ => {
            return Outcome::Answer(api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "Resource not found",
                "No such endpoint.",
            ))
        }
    };
    if method != Method::POST {
        let mut response = api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method Not Allowed",
            "This endpoint only accepts POST.",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Outcome::Answer(response);
    }
    if !credentials_ok(shared, headers) {
        return Outcome::Answer(unauthorized());
    }
    if !is_form(headers) {
        return Outcome::Answer(api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported Media Type",
            "Send the body as application/x-www-form-urlencoded.",
        ));
    }
    let Some(form) = parse_form(body) else {
        return Outcome::Answer(bad_request(
            shared,
            "invalid_payload",
            "Invalid payload",
            "The body is not valid application/x-www-form-urlencoded data.",
        ));
    };
    match endpoint {
        Endpoint::Generate => Outcome::Answer(generate(shared, &form)),
        Endpoint::Introspect | Endpoint::Revoke => {
            let access_token = field(&form, "access_token").unwrap_or("");
            if access_token.is_empty() {
                return Outcome::Answer(missing_parameters(shared, "access_token"));
            }
            if let Some(outcome) = token_fault(access_token) {
                return outcome;
            }
            Outcome::Answer(match endpoint {
                Endpoint::Introspect => introspect(shared, access_token),
                _ => revoke(shared, access_token),
            })
        }
    }
}

fn generate(shared: &Shared, form: &[(String, String)]) -> Response {
    if field(form, "grant_type") != Some("client_credentials") {
        return bad_request(
            shared,
            "invalid_grant_type",
            "Invalid grant_type",
            "grant_type must be client_credentials.",
        );
    }
    // Only spaces separate values, so "a,b" or "a\tb" stay one (invalid) value.
    let scopes: Vec<&str> = field(form, "scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() {
        return missing_parameters(shared, "scope");
    }
    let unknown: Vec<&str> = scopes.iter().copied().filter(|s| !KNOWN_SCOPES.contains(s)).collect();
    if !unknown.is_empty() {
        return bad_request(
            shared,
            "invalid_scope",
            &format!("Invalid scope: {}", unknown.join(" ")),
            "Scope values are space separated and must be known scopes.",
        );
    }
    let token = shared.mint(&scopes.join(" "));
    json_response(StatusCode::OK, token_json(&token, shared.lifetime_secs, None))
}

fn introspect(shared: &Shared, access_token: &str) -> Response {
    let now = SystemTime::now();
    let body = match shared.token(access_token) {
        Some(token) if token.is_active(now) => {
            // Rounded up, so an active token never reports 0 seconds left.
            let left = token.expires.duration_since(now).unwrap_or_default();
            let left = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            token_json(&token, left, Some(true))
        }
        _ => json!({ "active": false }),
    };
    json_response(StatusCode::OK, body)
}

fn revoke(shared: &Shared, access_token: &str) -> Response {
    let status = if shared.revoke(access_token) {
        StatusCode::NO_CONTENT
    } else {
        // The live API answers 404 with an empty body, not a JSON error.
        StatusCode::NOT_FOUND
    };
    plain_response(status, None, Body::empty())
}

fn token_json(token: &Token, expires_in: u64, active: Option<bool>) -> serde_json::Value {
    let mut body = json!({
        "access_token": token.access_token,
        "client_id": token.client_id,
        "expires_at": token.expires_at,
        "expires_in": expires_in,
        "scope": token.scope,
        "token_type": "Bearer",
    });
    if let Some(active) = active {
        body["active"] = json!(active);
    }
    body
}

// ---- faults ----------------------------------------------------------------

/// The outcome a `fault-...` token asks for, or None if it names no fault.
fn token_fault(token: &str) -> Option<Outcome> {
    let fault = match token {
        "fault-hang" => Fault::Hang,
        "fault-close" => Fault::Close,
        "fault-reset" => Fault::Reset,
        "fault-reset-mid-body" => Fault::ResetMidBody,
        "fault-trickle" => Fault::Trickle {
            interval_ms: crate::default_trickle_ms(),
        },
        "fault-endless-body" => Fault::EndlessBody,
        "fault-huge-body" => Fault::HugeBody {
            bytes: crate::default_huge_bytes(),
        },
        "fault-redirect" => {
            let mut response = plain_response(StatusCode::TEMPORARY_REDIRECT, None, Body::empty());
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static(REDIRECT_TARGET));
            return Some(Outcome::Answer(response));
        }
        _ => return status_fault(token),
    };
    Some(Outcome::Misbehave(fault))
}

/// `fault-status-NNN[-variant]`, or None.
fn status_fault(token: &str) -> Option<Outcome> {
    let rest = token.strip_prefix("fault-status-")?;
    let (code, variant) = match rest.split_once('-') {
        Some((code, variant)) => (code, Some(variant)),
        None => (rest, None),
    };
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let status = StatusCode::from_u16(code.parse().ok()?).ok()?;
    if !(200..=599).contains(&status.as_u16()) {
        return None;
    }
    let mut response = match variant {
        // 204 has no body, as the revoke that worked.
        None if status == StatusCode::NO_CONTENT => plain_response(status, None, Body::empty()),
        None if status.is_success() => plain_response(status, Some("application/json"), Body::from("{}")),
        None => api_error(
            status,
            error_key(status),
            reason(status),
            "Fault requested by the test.",
        ),
        Some("html") => {
            let page = format!(
                "<html><body><h1>{} {}</h1></body></html>",
                status.as_u16(),
                reason(status)
            );
            plain_response(status, Some("text/html"), Body::from(page))
        }
        Some("empty") => plain_response(status, None, Body::empty()),
        Some("stringcode") => {
            let mut body = error_body(
                status,
                error_key(status),
                reason(status),
                "Fault requested by the test.",
            );
            body["code"] = json!(status.as_u16().to_string());
            json_response(status, body)
        }
        Some("badjson") => plain_response(status, Some("application/json"), Body::from("{\"code\": 4")),
        // Declared as JSON so a client really has to cope with the bytes.
        Some("binary") => plain_response(
            status,
            Some("application/json"),
            Body::from(vec![0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0xa0, 0xa1]),
        ),
        Some(_) => return None,
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert("x-rate-limit-remaining", HeaderValue::from_static("0"));
    }
    Some(Outcome::Answer(response))
}

fn error_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "missing_required_permission",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        409 => "conflict",
        415 => "unsupported_media_type",
        423 => "locked",
        429 => "too_many_requests",
        500 => "internal_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "error",
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

// ---- request checks ---------------------------------------------------------

fn credentials_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    let matches = |name: &str, expected: &str| headers.get(name).is_some_and(|v| v.as_bytes() == expected.as_bytes());
    matches("x-app-id", &shared.app_id) && matches("x-app-token", &shared.secret_key)
}

/// Compares the media type only, so `; charset=utf-8` and the like are fine.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(FORM_TYPE))
}

/// Parses a form body, or None if it is not valid form encoding.
fn parse_form(body: &[u8]) -> Option<Vec<(String, String)>> {
    // serde_urlencoded silently passes bad escapes through and replaces bad
    // UTF-8, so check those first: well-formed %XX escapes, UTF-8 once decoded.
    let mut decoded = Vec::with_capacity(body.len());
    let mut bytes = body.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' {
            let hi = (*bytes.next()? as char).to_digit(16)?;
            let lo = (*bytes.next()? as char).to_digit(16)?;
            decoded.push((hi * 16 + lo) as u8);
        } else {
            decoded.push(b);
        }
    }
    std::str::from_utf8(&decoded).ok()?;
    serde_urlencoded::from_bytes(body).ok()
}

/// The first value of a form field, as the live API reads it.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

// ---- responses ---------------------------------------------------------------

fn error_body(status: StatusCode, key: &str, message: &str, details: &str) -> serde_json::Value {
    json!({
        "code": status.as_u16(),
        "key": key,
        "message": message,
        "details": details,
        "request_id": request_id(),
    })
}

fn api_error(status: StatusCode, key: &str, message: &str, details: &str) -> Response {
    json_response(status, error_body(status, key, message, details))
}

/// A 400 of the stand-in's own: as the spec's examples have it (`code`, `key`
/// and `message` only) unless every error is to carry details and a request id.
fn bad_request(shared: &Shared, key: &str, message: &str, details: &str) -> Response {
    let status = StatusCode::BAD_REQUEST;
    match shared.behaviour().error_bodies {
        ErrorBodies::Full => api_error(status, key, message, details),
        ErrorBodies::Spec => json_response(
            status,
            json!({ "code": status.as_u16(), "key": key, "message": message }),
        ),
    }
}

/// The answer of a limit or a spent quota, with the headers that say which.
fn refused(refusal: &Refusal) -> Response {
    let (status, details) = match refusal {
        Refusal::PlanExceeded => (
            StatusCode::PAYMENT_REQUIRED,
            "You have exceeded your current pricing plan.",
        ),
        Refusal::CycleSpent { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "The API calls of this billing cycle are spent.",
        ),
        Refusal::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "Too many API calls; try again later."),
    };
    let mut response = api_error(status, error_key(status), reason(status), details);
    let now = unix_secs(SystemTime::now());
    let mut headers: Vec<(&str, String)> = Vec::new();
    match refusal {
        Refusal::PlanExceeded => {}
        Refusal::CycleSpent { limit, retry_at } => {
            headers.extend([
                ("x-rate-limit-limit", limit.to_string()),
                ("x-rate-limit-remaining", "0".to_string()),
                ("x-rate-limit-retry", retry_at.to_string()),
                ("x-rate-limit-type", "api_calls_cycle".to_string()),
                ("retry-after", retry_at.saturating_sub(now).to_string()),
            ]);
        }
        Refusal::RateLimited { retry_after: None } => {}
        Refusal::RateLimited {
            retry_after: Some(retry_at),
        } => headers.push(("retry-after", retry_at.saturating_sub(now).to_string())),
    }
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn unauthorized() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "Cannot authenticate with the provided credentials.",
    )
}

fn missing_parameters(shared: &Shared, name: &str) -> Response {
    bad_request(
        shared,
        "missing_parameters",
        "Missing parameters",
        &format!("Missing required parameter: {name}."),
    )
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    plain_response(status, Some("application/json"), Body::from(body.to_string()))
}

fn plain_response(status: StatusCode, content_type: Option<&'static str>, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// Adds the live API's rate-limit headers, keeping any already set.
fn add_rate_headers(response: &mut Response, admission: &Admission) {
    let headers = response.headers_mut();
    let values = [
        ("x-rate-limit-limit", admission.limit.to_string()),
        ("x-rate-limit-remaining", admission.remaining.to_string()),
        ("x-rate-limit-retry", admission.retry_at.to_string()),
        ("x-rate-limit-type", admission.kind.clone()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.entry(name).or_insert(value);
        }
    }
}
