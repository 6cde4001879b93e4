//! The hub's accept loop: each connection served by hyper's HTTP/1.1 with a header read
//! timeout, over plain TCP or rustls. Written here rather than taken from `axum::serve` or
//! axum-server because both first wait, without any timeout, for the bytes that tell HTTP/1
//! from HTTP/2: a client that opens a connection and sends nothing would hold it for good.
//! The hub's clients speak HTTP/1.1 only.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt;

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` until `stop` completes, serving `app` on each; with `tls`,
/// each connection shakes hands first (bounded by [`HANDSHAKE_TIMEOUT`]). A connection that does
/// not send a request's headers within `header_timeout` (its first, or its next while kept
/// alive) is closed.
pub async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let http = Arc::new(http);
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => return Ok(()),
        };
        let _ = tcp.set_nodelay(true);
        let (app, http, tls) = (app.clone(), http.clone(), tls.clone());
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    // Enrolment counts attempts per address, as `into_make_service_with_connect_info`
                    // would tell it.
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let app = app.clone();
                    async move { app.oneshot(request).await }
                });
            match tls {
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}
