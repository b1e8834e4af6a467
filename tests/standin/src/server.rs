//! Accept loop, per-connection serving and the `/_standin/` control endpoints.
//!
//! We drive hyper ourselves instead of `axum::serve` so a handler can drop or reset
//! its own connection without answering (the `Close` and `Reset` faults), so TLS can
//! sit under hyper, and so shutdown never waits on a request misbehaving on purpose.
//!
//! Resets: hyper owns the stream, so the accept loop keeps a duplicate handle of the
//! socket (`dup`, via socket2). A fault asks the connection task to set SO_LINGER 0 on
//! it and drop the connection; closing the last handle then sends an RST. This works
//! the same under TLS and needs no HTTP parsing of our own.
//!
//! Idle connections: with `Behaviour::idle_close_ms`, a connection with no request
//! being answered for that long is dropped (a FIN), as a load balancer would.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
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
use socket2::{SockRef, Socket};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::rustls::HandshakeKind;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::state::Shared;
use crate::{oauth, Behaviour, Fault};

/// How often a connection looks again at whether it should close when idle,
/// when no idle limit is set (one may be set at any time).
const IDLE_RECHECK: Duration = Duration::from_millis(200);

/// Lets a handler act on the connection it is being served on.
pub(crate) struct ConnControl {
    wake: Notify,
    reset: AtomicBool,
    faulty: AtomicBool,
    /// Requests on this connection whose handler has not finished.
    busy: AtomicUsize,
    /// When the connection opened, or the latest request began or ended.
    last_active: Mutex<Instant>,
}

impl Default for ConnControl {
    fn default() -> Self {
        ConnControl {
            wake: Notify::new(),
            reset: AtomicBool::new(false),
            faulty: AtomicBool::new(false),
            busy: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }
    }
}

impl ConnControl {
    /// Drops the connection without answering (a normal FIN close).
    pub fn close(&self) {
        // notify_one keeps a permit, so this works even before the connection task waits.
        self.wake.notify_one();
    }

    /// Drops the connection with an RST.
    pub fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// At shutdown, drop this connection at once instead of letting its response
    /// finish: it hangs, trickles or never ends on purpose.
    pub fn mark_faulty(&self) {
        self.faulty.store(true, Ordering::SeqCst);
    }

    fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// When the connection will have been idle for `limit`, as things stand.
    fn idle_deadline(&self, limit: Duration) -> Instant {
        let last_active = *self.last_active.lock().unwrap_or_else(|e| e.into_inner());
        match self.busy.load(Ordering::SeqCst) {
            0 => last_active + limit,
            _ => Instant::now() + limit,
        }
    }
}

/// Marks a request busy on its connection until dropped.
struct Busy(Arc<ConnControl>);

impl Busy {
    fn new(control: &Arc<ConnControl>) -> Busy {
        control.busy.fetch_add(1, Ordering::SeqCst);
        control.touch();
        Busy(control.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs the future `server()` makes on a current-thread runtime on its own thread;
/// one thread is plenty for a test server, as nothing blocks the runtime.
pub(crate) fn spawn_server_thread<M, F>(name: &str, server: M) -> io::Result<JoinHandle<()>>
where
    M: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name(name.to_string()).spawn(move || {
        runtime.block_on(server());
        // Drop whatever connection tasks outlived the grace period.
        runtime.shutdown_timeout(Duration::from_millis(100));
    })
}

pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared.clone());
    let mut connections = JoinSet::new();
    // Each connection gets its own receiver; `shutdown` is borrowed by the select.
    let for_connections = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.count_connection();
                    connections.spawn(accept_connection(
                        stream,
                        tls.clone(),
                        app.clone(),
                        shared.clone(),
                        for_connections.clone(),
                    ));
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

async fn accept_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    app: Router,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(dup) = SockRef::from(&stream).try_clone() else {
        return;
    };
    match tls {
        None => serve_connection(stream, dup, app, shared, shutdown).await,
        // Bounded, so a client that stalls its handshake cannot hold up shutdown for long.
        // Handshake failures (e.g. a client that does not trust our CA) just end here.
        Some(acceptor) => {
            let handshake = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(stream));
            if let Ok(Ok(stream)) = handshake.await {
                if stream.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed) {
                    shared.count_tls_resumed();
                }
                serve_connection(stream, dup, app, shared, shutdown).await;
            }
        }
    }
}

/// Serves one connection; `dup` is a second handle on its TCP socket, for resets.
async fn serve_connection<I>(io: I, dup: Socket, app: Router, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let control = Arc::new(ConnControl::default());
    let control_for_requests = control.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let busy = Busy::new(&control_for_requests);
        request.extensions_mut().insert(control_for_requests.clone());
        let answer = app.clone().oneshot(request);
        async move {
            let answer = answer.await;
            drop(busy);
            answer
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);

    let mut shutting_down = false;
    loop {
        let idle_limit = shared.behaviour().idle_close_ms.map(Duration::from_millis);
        let look_again = match idle_limit {
            Some(limit) => control.idle_deadline(limit),
            None => Instant::now() + IDLE_RECHECK,
        };
        tokio::select! {
            _ = connection.as_mut() => break,
            _ = tokio::time::sleep_until(look_again) => {
                if idle_limit.is_some_and(|limit| control.idle_deadline(limit) <= Instant::now()) {
                    shared.count_idle_close();
                    break;
                }
            }
            // Dropping the connection closes the socket without (more of) a response.
            _ = control.wake.notified() => break,
            _ = shutdown.wait_for(|stop| *stop), if !shutting_down => {
                if control.faulty.load(Ordering::SeqCst) {
                    break;
                }
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    if control.reset.load(Ordering::SeqCst) {
        // With linger 0, closing the last handle sends RST and discards unsent data.
        let _ = dup.set_linger(Some(Duration::ZERO));
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_standin/requests", get(control_requests))
        .route("/_standin/stats", get(control_stats))
        .route("/_standin/reset", post(control_reset))
        .route("/_standin/faults", post(control_faults))
        .route("/_standin/mint", post(control_mint))
        .route(
            "/_standin/behaviour",
            get(control_behaviour).post(control_set_behaviour),
        )
        .route(
            "/v1/protected",
            get(crate::protected::handle).post(crate::protected::handle),
        )
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
                "refused_by_limit": r.refused_by_limit,
                "received_at_ms": r.received_at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            })
        })
        .collect();
    Json(json!(requests))
}

async fn control_stats(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let counters = shared.counters();
    Json(json!({
        "requests": shared.request_count(),
        "connections": shared.connections(),
        "refused_by_limit": counters.refused,
        "max_in_flight": counters.max_in_flight,
        "idle_closes": shared.idle_closes(),
        "tls_resumed": shared.tls_resumed(),
    }))
}

async fn control_reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset_log();
    shared.clear_faults();
    shared.restore_behaviour();
    StatusCode::NO_CONTENT
}

async fn control_behaviour(State(shared): State<Arc<Shared>>) -> Json<Behaviour> {
    Json(shared.behaviour())
}

async fn control_set_behaviour(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Behaviour>(&body) {
        Ok(behaviour) => {
            shared.set_behaviour(behaviour);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("expected a JSON behaviour: {e}") })),
        )
            .into_response(),
    }
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
