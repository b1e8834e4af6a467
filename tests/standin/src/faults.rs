//! Carrying out a [`Fault`]: scripted answers, dropped or reset connections and
//! bodies that stall, never end or are too large.
//!
//! All of it goes through hyper: odd bodies are streams (hyper keeps a
//! `Content-Length` header we set even when the stream is shorter), and connection
//! level misbehaviour goes through [`ConnControl`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::stream::{self, StreamExt};

use crate::server::ConnControl;
use crate::Fault;

/// Length of the `Trickle` body.
const TRICKLE_LEN: usize = 200;
/// What `ResetMidBody` announces, and how much of it it sends.
const MID_BODY_ANNOUNCED: u64 = 1000;
const MID_BODY_SENT: &[u8] = b"{\"active\":";

/// 16 KiB of `x`, shared by every large body.
static CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

pub(crate) async fn misbehave(fault: Fault, conn: &Arc<ConnControl>) -> Response {
    match fault {
        Fault::Respond { status, headers, body } => scripted_response(status, &headers, body).unwrap_or_else(|| {
            response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                Body::from("vf-standin: scripted fault has an invalid status or header"),
            )
        }),
        Fault::Hang => {
            // Never answers; the connection task drops the connection at shutdown.
            conn.mark_faulty();
            std::future::pending().await
        }
        Fault::Close => {
            conn.close();
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
        Fault::Reset => {
            conn.reset();
            std::future::pending().await
        }
        Fault::ResetMidBody => reset_mid_body(conn),
        Fault::Trickle { interval_ms } => {
            conn.mark_faulty();
            trickle(Duration::from_millis(interval_ms))
        }
        Fault::EndlessBody => {
            conn.mark_faulty();
            let chunks = stream::repeat(Bytes::from_static(&CHUNK)).map(Ok::<_, io::Error>);
            // No length, so hyper sends it chunked; it stops when a write fails.
            response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                Body::from_stream(chunks),
            )
        }
        Fault::HugeBody { bytes } => {
            conn.mark_faulty();
            huge_body(bytes)
        }
    }
}

fn scripted_response(status: u16, headers: &[(String, String)], body: String) -> Option<Response> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).ok()?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_str(value).ok()?;
        response.headers_mut().append(name, value);
    }
    Some(response)
}

fn reset_mid_body(conn: &Arc<ConnControl>) -> Response {
    conn.mark_faulty();
    let conn = conn.clone();
    let first = stream::once(async { Ok(Bytes::from_static(MID_BODY_SENT)) });
    let then_reset = stream::once(async move {
        // Give hyper time to flush the head and first bytes before the RST,
        // which would otherwise discard them from the send buffer.
        tokio::time::sleep(Duration::from_millis(50)).await;
        conn.reset();
        std::future::pending::<io::Result<Bytes>>().await
    });
    let mut response = response(
        StatusCode::OK,
        "application/json",
        Body::from_stream(first.chain(then_reset)),
    );
    set_length(&mut response, MID_BODY_ANNOUNCED);
    response
}

fn trickle(interval: Duration) -> Response {
    // Valid JSON, so a patient client can parse what it finally gets.
    let prefix = "{\"active\":false,\"padding\":\"";
    let body = format!("{prefix}{}\"}}", ".".repeat(TRICKLE_LEN - prefix.len() - 2));
    let bytes = Bytes::from(body);
    let len = bytes.len() as u64;
    let chunks = stream::iter(0..bytes.len()).then(move |i| {
        let byte = bytes.slice(i..i + 1);
        async move {
            tokio::time::sleep(interval).await;
            Ok::<_, io::Error>(byte)
        }
    });
    let mut response = response(StatusCode::OK, "application/json", Body::from_stream(chunks));
    set_length(&mut response, len);
    response
}

fn huge_body(bytes: u64) -> Response {
    let size = CHUNK.len() as u64;
    let chunks = (0..bytes).step_by(CHUNK.len()).map(move |start| {
        let len = (bytes - start).min(size) as usize;
        Ok::<_, io::Error>(Bytes::from_static(&CHUNK[..len]))
    });
    let mut response = response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/plain",
        Body::from_stream(stream::iter(chunks)),
    );
    set_length(&mut response, bytes);
    response
}

fn response(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A stream body has no known length; hyper sends this header as given.
fn set_length(response: &mut Response, len: u64) {
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
}
