//! The HTTP server loop: accepts connections with hyper-util (HTTP/1.1 and HTTP/2), limits how
//! long a client may take to send its request head, and stops gracefully — on SIGTERM or
//! Ctrl-C it stops accepting, ends the server-sent event streams (live seats, assistant
//! replies) through [`AppState::shutdown`], lets requests in flight finish within the grace
//! (`EVENTHUB_SHUTDOWN_GRACE_SECS`), and returns; what still runs after the grace is cut off.
//! A booking that was answered is committed (the writer answers after the commit), so a stop
//! loses nothing acknowledged.
use crate::AppState;
use crate::rate::parse_limit;
use anyhow::{Context, Result};
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::time::Duration;
use tower::ServiceExt;

/// Limits of connections and streams.
#[derive(Clone, Debug)]
pub struct Serving {
    /// How long a client may take to send a request's head (`EVENTHUB_HEADER_TIMEOUT_SECS`,
    /// 10; `off` for no limit): a client that trickles its headers cannot hold a connection.
    pub header_timeout: Option<Duration>,
    /// Live-seat streams one client address may hold open (`EVENTHUB_STREAMS_PER_ADDRESS`, 20;
    /// `off` for no cap); one more is answered `429`.
    pub streams_per_address: Option<usize>,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            header_timeout: Some(Duration::from_secs(10)),
            streams_per_address: Some(20),
        }
    }
}

impl Serving {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let positive = |name: &str, default: u64| -> Result<Option<u64>> {
            match parse_limit(name, var(name).as_deref(), default)? {
                Some(0) => anyhow::bail!("{name} must be positive or `off`"),
                value => Ok(value),
            }
        };
        Ok(Serving {
            header_timeout: positive("EVENTHUB_HEADER_TIMEOUT_SECS", 10)?.map(Duration::from_secs),
            streams_per_address: positive("EVENTHUB_STREAMS_PER_ADDRESS", 20)?.map(|n| n as usize),
        })
    }
}

/// Serves `state` on its configured address until SIGTERM or Ctrl-C.
pub async fn run(state: AppState) -> Result<()> {
    let addr = state.config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("EventHub is serving at http://{addr}");
    serve(listener, state, stop_signal()).await
}

/// Serves on `listener` until `stop` completes, then shuts down gracefully.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let grace = state.config.shutdown_grace;
    let shutdown = state.shutdown.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.serving.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let router = crate::router(state);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        ?grace,
        "stopped accepting; ending streams and finishing requests"
    );
    shutdown.cancel();
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection finished"),
        () = tokio::time::sleep(grace) => tracing::warn!(
            ?grace,
            "requests still running after the shutdown grace: exiting"
        ),
    }
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn stop_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.ok() };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_limits_have_settings_and_off() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let default = Serving::from_vars(vars(&[])).unwrap();
        assert_eq!(default.header_timeout, Some(Duration::from_secs(10)));
        assert_eq!(default.streams_per_address, Some(20));
        let set = Serving::from_vars(vars(&[
            ("EVENTHUB_HEADER_TIMEOUT_SECS", "3"),
            ("EVENTHUB_STREAMS_PER_ADDRESS", "off"),
        ]))
        .unwrap();
        assert_eq!(set.header_timeout, Some(Duration::from_secs(3)));
        assert_eq!(set.streams_per_address, None);
        let zero = Serving::from_vars(vars(&[("EVENTHUB_STREAMS_PER_ADDRESS", "0")]));
        assert!(zero.unwrap_err().to_string().contains("positive or `off`"));
    }
}
