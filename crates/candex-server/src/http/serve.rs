//! The connection-level HTTP server: owns the accept loop, the connection cap, the per-connection
//! idle and first-request watchdog, and the time-bounded graceful shutdown, so that no client
//! can hold the server's connections or stall its shutdown.
//!
//! Bounds, from [`HttpLimits`]:
//! - at most `max_connections` connections are served at once; one beyond is answered a
//!   complete `503` (`Retry-After: 1`, `Connection: close`) and closed, by a bounded number of
//!   short-lived tasks, so the accept loop never waits on a client;
//! - HTTP/1: hyper's `header_read_timeout` bounds every request head, including the wait for
//!   the next request on a kept-alive connection;
//! - every connection (HTTP/1 and HTTP/2) that has no request in flight and moves no bytes for
//!   `idle_timeout` is closed, and one whose first request has not started within
//!   `header_read_timeout` is closed (this also covers the protocol sniffing before hyper's own
//!   HTTP/1 timer starts, and HTTP/2 clients that never send a request);
//! - after the shutdown signal, connections are asked to finish and are dropped when
//!   `shutdown_grace` has passed.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::config::HttpLimits;

/// HTTP/2 streams one connection may have open at once.
const H2_MAX_CONCURRENT_STREAMS: u32 = 100;
/// How long an HTTP/2 keep-alive ping may go unanswered before the connection is closed.
const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// `503` refusals being written at once; a connection beyond is closed without an answer.
const MAX_REFUSALS: usize = 64;
/// Time a refused client has to send its request head before it is answered anyway.
const REFUSAL_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// Time to write a refusal.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Time to read (and discard) what a refused client sent, so that closing the socket with
/// unread data does not reset the connection before the client reads the `503`.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Most bytes read from a refused client (before and after answering).
const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;
/// Pause after an accept error that is not about one connection (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(500);
/// Bounds of the watchdog's tick (a quarter of the shortest limit it enforces).
const WATCHDOG_TICK_MIN: Duration = Duration::from_millis(50);
const WATCHDOG_TICK_MAX: Duration = Duration::from_secs(5);
/// hyper's smallest allowed HTTP/1 buffer.
const H1_MIN_BUF_SIZE: usize = 8192;

/// The whole answer to a connection beyond `max_connections`.
static REFUSAL: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = r#"{"code":"UNAVAILABLE","message":"too many connections; retry shortly"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then stops
/// accepting, asks every connection to finish its requests and returns once they have, or when
/// `limits.shutdown_grace` has passed (dropping the connections still open).
///
/// Each request carries the peer address as `ConnectInfo<SocketAddr>` in its extensions.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let builder = Arc::new(connection_builder(&limits));
    let watch = WatchdogLimits::new(&limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections.min(Semaphore::MAX_PERMITS)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let draining = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                report_task(done);
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_connection_error(&e) => {
                tracing::debug!(error = %e, "a connection failed before it was accepted");
                continue;
            }
            Err(e) => {
                // E.g. EMFILE: retrying at once would spin; connections closing frees descriptors.
                tracing::error!(error = %e, backoff = ?ACCEPT_BACKOFF, "accept failed; pausing");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        // A streamed response (an attachment) is written as a head and then body chunks; with
        // Nagle's algorithm the first small chunk waited for the client's delayed ACK, adding
        // about 40 ms to every small download.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                connections.spawn(serve_connection(Connection {
                    stream,
                    peer,
                    router: router.clone(),
                    builder: builder.clone(),
                    watch,
                    draining: draining.clone(),
                    _permit: permit,
                }));
            }
            Err(_) => refuse(stream, peer, &refusals),
        }
    }

    drop(listener);
    draining.cancel();
    tracing::debug!(open = connections.len(), grace = ?limits.shutdown_grace, "stopped accepting; draining connections");
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while let Some(done) = connections.join_next().await {
            report_task(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            dropped = connections.len(),
            grace = ?limits.shutdown_grace,
            "connections still open at the shutdown deadline were dropped"
        );
        connections.shutdown().await;
    }
}

fn connection_builder(limits: &HttpLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(H1_MIN_BUF_SIZE));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // Pings move bytes, which the idle watchdog counts as activity: pinging less often than
        // twice the idle limit lets an idle connection reach that limit between pings.
        .keep_alive_interval(limits.idle_timeout.saturating_mul(2))
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    builder
}

/// One accepted connection and what serving it needs.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    watch: WatchdogLimits,
    draining: CancellationToken,
    /// Held for the connection's whole life.
    _permit: OwnedSemaphorePermit,
}

async fn serve_connection(c: Connection) {
    let Connection { stream, peer, router, builder, watch, draining, _permit } = c;
    let activity = Arc::new(Activity::default());
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |mut request: Request<Incoming>| {
            let in_flight = InFlight::start(activity.clone());
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let _in_flight = in_flight;
                router.oneshot(request).await
            }
        }
    });
    let mut connection = pin!(builder.serve_connection(io, service));
    let mut watchdog = Watchdog::new(watch, Instant::now());
    let mut tick = tokio::time::interval(watch.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    report_connection_error(peer, e.as_ref());
                }
                return;
            }
            () = draining.cancelled(), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                if let Some(reason) = watchdog.check(&activity, Instant::now()) {
                    tracing::debug!(%peer, reason, "closing connection");
                    return;
                }
            }
        }
    }
}

/// Answers a connection beyond `max_connections` with a `503` and closes it, in a task of its
/// own; when too many refusals are being written already, just closes it.
fn refuse(mut stream: TcpStream, peer: SocketAddr, refusals: &Arc<Semaphore>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        tracing::debug!(%peer, "too many connections and refusals; connection dropped");
        return;
    };
    tracing::debug!(%peer, "too many connections; answering 503");
    tokio::spawn(async move {
        let _permit = permit;
        // Answering before the request arrives makes HTTP clients that are still writing it
        // discard the answer as unexpected: wait (briefly) for the request head first.
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        let _ = tokio::time::timeout(REFUSAL_READ_TIMEOUT, async {
            while head.len() < REFUSAL_DRAIN_BYTES && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        let written = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            stream.write_all(&REFUSAL).await?;
            stream.shutdown().await
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            return;
        }
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            let mut drained = 0;
            while drained < REFUSAL_DRAIN_BYTES {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        })
        .await;
    });
}

/// Accept errors about one connection (it went away before it was accepted), not the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

fn report_task(done: Result<(), JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!(error = %e, "a connection task panicked");
        }
    }
}

/// Logs a connection's end by error once: debug for what clients ordinarily cause (going away,
/// timing out, sending garbage), warn for the rest.
fn report_connection_error(peer: SocketAddr, e: &(dyn std::error::Error + 'static)) {
    if is_client_caused(e) {
        tracing::debug!(%peer, error = %e, "connection closed");
    } else {
        tracing::warn!(%peer, error = %e, error.cause_chain = ?e, "connection failed");
    }
}

fn is_client_caused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    let mut hyper_error = false;
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::NotConnected
                    // The protocol sniffing was cancelled by a graceful shutdown.
                    | io::ErrorKind::Interrupted
            );
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_user() {
                return false;
            }
            hyper_error = true;
        }
        cause = e.source();
    }
    // Parse errors, header timeouts, incomplete messages and HTTP/2 protocol errors.
    hyper_error
}

/// What the watchdog of one connection reads: bumped by its IO and its requests.
#[derive(Default)]
struct Activity {
    /// Reads and writes that moved at least one byte.
    io: AtomicU64,
    /// Requests whose handler is running.
    in_flight: AtomicUsize,
    /// Requests started on the connection.
    started: AtomicU64,
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.started.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The limits one connection's watchdog enforces.
#[derive(Clone, Copy, Debug)]
struct WatchdogLimits {
    first_request: Duration,
    idle: Duration,
    tick: Duration,
}

impl WatchdogLimits {
    fn new(limits: &HttpLimits) -> Self {
        let shortest = limits.header_read_timeout.min(limits.idle_timeout);
        Self {
            first_request: limits.header_read_timeout,
            idle: limits.idle_timeout,
            tick: (shortest / 4).clamp(WATCHDOG_TICK_MIN, WATCHDOG_TICK_MAX),
        }
    }
}

/// Decides, on each tick, whether a connection has been idle or silent too long.
struct Watchdog {
    limits: WatchdogLimits,
    accepted: Instant,
    seen_io: u64,
    last_active: Instant,
}

impl Watchdog {
    fn new(limits: WatchdogLimits, now: Instant) -> Self {
        Self { limits, accepted: now, seen_io: 0, last_active: now }
    }

    /// Why the connection should be closed now, if it should.
    fn check(&mut self, activity: &Activity, now: Instant) -> Option<&'static str> {
        if activity.started.load(Ordering::Relaxed) == 0
            && now.saturating_duration_since(self.accepted) >= self.limits.first_request
        {
            return Some("no request within the header read timeout");
        }
        let io = activity.io.load(Ordering::Relaxed);
        if io != self.seen_io || activity.in_flight.load(Ordering::Relaxed) > 0 {
            self.seen_io = io;
            self.last_active = now;
            return None;
        }
        (now.saturating_duration_since(self.last_active) >= self.limits.idle).then_some("idle timeout")
    }
}

/// A TCP stream that counts the reads and writes that moved bytes, for the idle watchdog (one
/// relaxed atomic add per IO call).
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl Tracked {
    fn moved(&self, bytes: usize) {
        if bytes > 0 {
            self.activity.io.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn wrote(&self, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = &poll {
            self.moved(*n);
        }
        poll
    }
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.moved(buf.filled().len() - before);
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.wrote(poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.wrote(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(&REFUSAL).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(head.contains("\r\nretry-after: 1"));
        assert!(head.contains("\r\nconnection: close"));
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
    }

    #[test]
    fn the_watchdog_closes_silent_and_idle_connections_only() {
        let limits = WatchdogLimits {
            first_request: Duration::from_secs(2),
            idle: Duration::from_secs(5),
            tick: WATCHDOG_TICK_MIN,
        };
        let start = Instant::now();
        let activity = Activity::default();
        let mut dog = Watchdog::new(limits, start);
        assert_eq!(dog.check(&activity, start + Duration::from_secs(1)), None);
        assert!(dog.check(&activity, start + Duration::from_secs(2)).is_some(), "no first request");

        let mut dog = Watchdog::new(limits, start);
        let request = InFlight::start(Arc::new(Activity::default()));
        let activity = request.0.clone();
        // A request in flight keeps the connection however long it takes.
        assert_eq!(dog.check(&activity, start + Duration::from_secs(30)), None);
        drop(request);
        assert_eq!(dog.check(&activity, start + Duration::from_secs(34)), None);
        activity.io.fetch_add(1, Ordering::Relaxed);
        assert_eq!(dog.check(&activity, start + Duration::from_secs(36)), None, "bytes moved");
        assert_eq!(dog.check(&activity, start + Duration::from_secs(40)), None);
        assert_eq!(dog.check(&activity, start + Duration::from_secs(41)), Some("idle timeout"));
    }
}
