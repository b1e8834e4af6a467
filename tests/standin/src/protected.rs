//! `GET` and `POST /v1/protected`: a resource guarded by the tokens this stand-in mints,
//! as Voucherify's API is, for testing clients that send `Authorization:
//! Bearer <token>` (the Python binding's auth plugins for requests and httpx).
//!
//! 200 with `{"ok": true, "scope": ...}` for a live token of this stand-in,
//! 401 (`invalid_token`, with `WWW-Authenticate: Bearer`) for anything else:
//! no header, another scheme, an unknown, expired or revoked token. Recorded
//! in the request log like every `/v1/` request.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::Shared;
use crate::RecordedRequest;

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.record(RecordedRequest {
        method: method.to_string(),
        path: "/v1/protected".to_string(),
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
        body: body.to_vec(),
        received_at: SystemTime::now(),
        refused_by_limit: None,
    });
    let live = bearer_token(&headers)
        .and_then(|token| shared.token(token))
        .filter(|token| token.is_active(SystemTime::now()));
    match live {
        Some(token) => Json(json!({ "ok": true, "scope": token.scope })).into_response(),
        None => {
            let body = json!({
                "code": 401,
                "key": "invalid_token",
                "message": "Unauthorized",
            });
            let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            response
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is
/// case-insensitive (RFC 9110, section 11.1).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
