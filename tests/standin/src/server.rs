//! Accept loop, per-connection serving and the `/_standin/` control endpoints.
//!
//! We drive hyper ourselves instead of `axum::serve` so a handler can drop its own
//! connection without answering (the `Close` fault), and so shutdown never waits
//! on a request that is hanging on purpose.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::state::Shared;
use crate::{oauth, Fault};

/// Lets a handler drop the connection it is being served on.
#[derive(Clone)]
pub(crate) struct ConnCloser(Arc<Notify>);

impl ConnCloser {
    pub fn close(&self) {
        // notify_one keeps a permit, so this works even before the connection task waits.
        self.0.notify_one();
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared);
    let mut connections = JoinSet::new();
    // Each connection gets its own receiver; `shutdown` is borrowed by the select.
    let for_connections = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, app.clone(), for_connections.clone()));
                }
                // Usually out of file descriptors; back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    drop(listener);
    // Let in-flight requests finish; connections still busy after that are dropped.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn serve_connection(stream: TcpStream, app: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let closer = ConnCloser(Arc::new(Notify::new()));
    let closer_for_requests = closer.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(closer_for_requests.clone());
        app.clone().oneshot(request)
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);

    let mut shutting_down = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            // Dropping the connection closes the socket without a response.
            _ = closer.0.notified() => break,
            _ = shutdown.wait_for(|stop| *stop), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_standin/requests", get(control_requests))
        .route("/_standin/stats", get(control_stats))
        .route("/_standin/reset", post(control_reset))
        .route("/_standin/faults", post(control_faults))
        .route("/_standin/mint", post(control_mint))
        // Everything else, including unknown paths and methods under /v1/.
        .fallback(oauth::handle)
        .with_state(shared)
}

async fn control_requests(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let requests: Vec<_> = shared
        .requests()
        .into_iter()
        .map(|r| {
            json!({
                "method": r.method,
                "path": r.path,
                "headers": r.headers,
                "body": String::from_utf8_lossy(&r.body),
            })
        })
        .collect();
    Json(json!(requests))
}

async fn control_stats(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "requests": shared.request_count() }))
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset_log();
    shared.clear_faults();
    StatusCode::NO_CONTENT
}

// Takes raw bytes so callers need not set a content type.
async fn control_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<Fault>>(&body) {
        Ok(faults) => {
            shared.push_faults(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("expected a JSON array of faults: {e}") })),
        )
            .into_response(),
    }
}

async fn control_mint(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<serde_json::Value> {
    let scope = query.get("scope").map_or("api", String::as_str);
    Json(json!({ "access_token": shared.mint(scope).access_token }))
}
