//! A CONNECT proxy on 127.0.0.1, for testing clients configured with a proxy.
//!
//! hyper parses the CONNECT request and, after our 200, hands over the raw
//! connection (`hyper::upgrade::on`), which we splice to the target. Only
//! 127.0.0.1 and localhost are reachable through it; anything but CONNECT gets 405.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::server::spawn_server_thread;

/// One CONNECT request the proxy received, whatever its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRecord {
    /// The request target, `host:port`.
    pub target: String,
    /// Whether the credentials matched (always true without credentials).
    pub authorized: bool,
}

struct State {
    /// `user:pass` expected in `Proxy-Authorization: Basic`, if any.
    credentials: Option<String>,
    records: Mutex<Vec<ConnectRecord>>,
}

/// A running proxy. Dropping it stops it and cuts open tunnels.
pub struct Proxy {
    port: u16,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1 (free port) that requires these credentials, if any.
    pub fn start(credentials: Option<(String, String)>) -> io::Result<Proxy> {
        let listener = StdListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            credentials: credentials.map(|(user, pass)| format!("{user}:{pass}")),
            records: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let server_state = state.clone();
        let thread = spawn_server_thread("vf-standin-proxy", move || async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => accept_loop(listener, server_state, shutdown_rx).await,
                Err(e) => eprintln!("vf-standin proxy: cannot register listener: {e}"),
            }
        })?;
        Ok(Proxy {
            port,
            state,
            shutdown,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without credentials.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// CONNECT requests received so far, oldest first.
    pub fn connects(&self) -> Vec<ConnectRecord> {
        lock(&self.state.records).clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not take the proxy down with it.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Tasks, tunnels included, are dropped with the runtime at shutdown.
                    tokio::spawn(serve_connection(stream, state.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
    let service = hyper::service::service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(request, &state).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn handle(request: Request<Incoming>, state: &State) -> Response<Body> {
    if request.method() != Method::CONNECT {
        let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("CONNECT"));
        return response;
    }
    let target = request.uri().authority().map_or_else(String::new, |a| a.to_string());
    let authorized = match &state.credentials {
        None => true,
        Some(expected) => request
            .headers()
            .get(header::PROXY_AUTHORIZATION)
            .and_then(|value| basic_credentials(value.as_bytes()))
            .is_some_and(|given| given == expected.as_bytes()),
    };
    lock(&state.records).push(ConnectRecord {
        target: target.clone(),
        authorized,
    });
    if !authorized {
        let mut response = status(StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        response.headers_mut().insert(
            header::PROXY_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"standin\""),
        );
        return response;
    }

    // Loopback only: tests must never be able to tunnel anywhere else.
    let port = match request.uri().authority() {
        Some(a) if matches!(a.host(), "127.0.0.1" | "localhost") => a.port_u16(),
        _ => None,
    };
    let Some(port) = port else {
        return status(StatusCode::FORBIDDEN);
    };
    // Connect before answering, so a dead target is a 502 rather than a closed tunnel.
    let Ok(mut upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await else {
        return status(StatusCode::BAD_GATEWAY);
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(request).await {
            let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(upgraded), &mut upstream).await;
        }
    });
    status(StatusCode::OK)
}

/// The decoded `user:pass` of a `Basic` authorization value.
fn basic_credentials(value: &[u8]) -> Option<Vec<u8>> {
    let value = std::str::from_utf8(value).ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    STANDARD.decode(encoded.trim()).ok()
}

fn status(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
