//! What stands between an unknown caller and the server's resources (issue 13):
//! the plain-HTTP accept loop with connection limits per source address and in
//! all, a time limit on request headers, a drain deadline at shutdown; request
//! bodies read in bounded time (and the sync body only after its caller is known);
//! sign-in and enrolment attempts limited per source address and in all, before any
//! Argon2id hash or database write; sign-in sessions kept alive by their use.
//!
//! These bounds protect this process's memory, CPU and sockets, so they are counted
//! in this process (with PostgreSQL, each replica has its own); the per-account
//! sign-in limit stays in the database, shared by every replica.

use crate::db::Db;
use crate::limits::Limits;
use crate::service::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tern_sync::protocol::ErrorCode;
use tokio::sync::watch;

/// What a refused connection is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
retry-after: 10\r\ncontent-length: 47\r\nconnection: close\r\n\r\n\
too many connections from here; try again soon\n";

/// Open connections, per source address and in all.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One open connection, counted until dropped.
#[derive(Debug)]
pub struct Permit {
    of: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    /// A permit for one more connection from `ip`, unless it would pass a limit.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Option<Permit> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let from_ip = open.1.get(&ip).copied().unwrap_or(0);
        if open.0 >= limits.connections || from_ip >= limits.connections_per_address {
            return None;
        }
        open.0 += 1;
        open.1.insert(ip, from_ip + 1);
        Some(Permit {
            of: self.clone(),
            ip,
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|p| p.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Sign-in and enrolment attempts in the current minute, per source address and
/// in all (a fixed window: the map holds at most the addresses of one minute, and
/// never more than the global limit).
#[derive(Debug)]
pub struct Attempts {
    start: Instant,
    window: Mutex<(u64, u32, HashMap<IpAddr, u32>)>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts {
            start: Instant::now(),
            window: Mutex::new((0, 0, HashMap::new())),
        }
    }
}

impl Attempts {
    /// Counts one attempt from `ip`, or refuses it.
    pub fn allow(&self, ip: IpAddr, limits: &Limits) -> Result<(), ApiError> {
        let minute = self.start.elapsed().as_secs() / 60;
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if w.0 != minute {
            *w = (minute, 0, HashMap::new());
        }
        if w.2.get(&ip).copied().unwrap_or(0) >= limits.logins_per_address_per_minute {
            tracing::warn!(peer = %ip, "sign-in attempts from one address limited");
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many sign-in or enrolment attempts from this address; wait a minute",
            ));
        }
        if w.1 >= limits.logins_per_minute {
            tracing::warn!("sign-in attempts limited for everyone");
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many sign-in or enrolment attempts on this server; wait a minute",
            ));
        }
        w.1 += 1;
        *w.2.entry(ip).or_insert(0) += 1;
        Ok(())
    }
}

/// The caller's source address (`0.0.0.0` when the server was not started by
/// [`serve_plain`] or axum's connect info).
pub fn peer(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Reads a body of at most `limit` bytes within `limits.body_timeout`.
pub async fn read_body(body: Body, limit: usize, limits: &Limits) -> Result<Bytes, ApiError> {
    let read = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(limits.body_timeout, read).await {
        Err(_) => Err(ApiError::bad(format!(
            "the request body did not arrive within {} s; try again on a better connection",
            limits.body_timeout.as_secs()
        ))),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            ErrorCode::TooLarge,
            format!("the request body is larger than {limit} bytes"),
        )),
        Ok(Err(e)) => Err(ApiError::bad(format!("the request body was cut off: {e}"))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Limits before the caller is known: password attempts per address
/// and in all; every body but the sync body (read by its handler once the token
/// is checked) read here, at most `json_limit` bytes, in bounded time.
pub async fn pre_auth<D: Db>(
    State(s): State<Arc<crate::api::AppState<D>>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    // Every path that checks a password: sign-in, enrolment, proofs (a device's, or a
    // hub's for its devices).
    if matches!(
        path.as_str(),
        "/v1/login" | "/v1/enroll" | "/v1/device/accounts" | "/v1/hub/prove"
    ) {
        if let Err(e) = s.attempts.allow(peer(&req), &s.limits) {
            return e.into_response();
        }
    }
    if path == "/v1/sync" {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match read_body(body, crate::api::JSON_LIMIT, &s.limits).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => e.into_response(),
    }
}

/// A sign-in session lives while it is used: every request with its token moves
/// its end to `session_idle` from now. Every answer of the API (records, reports,
/// exports: health data) is marked `Cache-Control: no-store`, so no browser or
/// proxy keeps a copy.
pub async fn keep_session<D: Db>(
    State(s): State<Arc<crate::api::AppState<D>>>,
    req: Request,
    next: Next,
) -> Response {
    let token = crate::api::bearer(req.headers()).map(crate::auth::token_hash);
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    if let (Some(hash), true) = (token, resp.status().is_success()) {
        let until = crate::service::now_ms() + s.limits.session_idle.as_millis() as i64;
        if let Err(e) = s.db.touch_session(&hash, until).await {
            tracing::warn!(error = %e, "could not extend a session");
        }
    }
    resp
}

/// Serves plain HTTP/1.1 on `listener` until `stop`: connections limited per source
/// address and in all (a refused one is told 503 and closed), request headers
/// within `limits.header_timeout` (an idle keep-alive connection is closed after as
/// long), and at shutdown requests in flight get `limits.drain` to finish before
/// their connections are closed.
pub async fn serve_plain(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let connections = Arc::new(Connections::default());
    let mut open = tokio::task::JoinSet::new();
    let (drain, draining) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let accepted = tokio::select! {
            _ = async { drop(stop.wait_for(|s| *s).await) } => break,
            accepted = listener.accept() => accepted,
        };
        while open.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, most likely: wait rather than spin.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(permit) = connections.acquire(peer.ip(), &limits) else {
            tracing::warn!(peer = %peer.ip(), "connection refused: too many open connections");
            let _ = stream.try_write(BUSY);
            continue;
        };
        let app = app.clone();
        let http = http.clone();
        let mut draining = draining.clone();
        open.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move {
                    use tower::ServiceExt;
                    app.oneshot(req.map(Body::new)).await
                }
            });
            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = async { drop(draining.wait_for(|d| *d).await) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let _ = drain.send(true);
    let drained = tokio::time::timeout(limits.drain, async {
        while open.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = open.len(),
            "requests still running at the drain deadline were cut off"
        );
        open.abort_all();
    }
}

/// The same connection limits for HTTPS (axum-server): runs before the TLS
/// handshake and refuses (closes) a connection past a limit.
#[derive(Debug, Clone)]
pub struct LimitAcceptor {
    connections: Arc<Connections>,
    limits: Limits,
}

impl LimitAcceptor {
    pub fn new(limits: Limits) -> Self {
        LimitAcceptor {
            connections: Arc::new(Connections::default()),
            limits,
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for LimitAcceptor {
    type Stream = Counted;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(Counted, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let ip = stream
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        std::future::ready(match self.connections.acquire(ip, &self.limits) {
            Some(permit) => Ok((
                Counted {
                    stream,
                    _permit: permit,
                },
                service,
            )),
            None => {
                tracing::warn!(peer = %ip, "connection refused: too many open connections");
                Err(std::io::Error::other("too many open connections"))
            }
        })
    }
}

/// A TCP stream counted against the connection limits while it is open.
#[derive(Debug)]
pub struct Counted {
    stream: tokio::net::TcpStream,
    _permit: Permit,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
