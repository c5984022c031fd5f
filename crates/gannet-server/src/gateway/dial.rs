//! Making gateway connections (nats-server's `startGatewayAcceptLoop`,
//! `solicitGateway` and `processImplicitGateway`): the listener where other
//! clusters' servers connect, and, for each other cluster, one task that
//! connects to one of its servers (its URLs in random order) and connects
//! again whenever the connection ends. A configured gateway is dialed for as
//! long as the server runs; a gateway learned from another (gossip) gets
//! `connect_retries` more tries, and more while it is connected to us.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use super::connection::{self, Outcome, Side};
use super::RemoteGateway;
use crate::server::Server;

/// How long a dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a TLS handshake may take.
const TLS_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between rounds of attempts (and after a connection ends).
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// The longest pause with `connect_backoff`.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Accepts gateway connections until the server stops.
pub(crate) async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let server2 = server.clone();
                server.spawn(accept_one(server2, stream, addr));
            }
            Err(e) => {
                tracing::error!("Temporary gateway accept error: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One accepted connection: the TLS handshake first when gateways use TLS.
async fn accept_one(server: Arc<Server>, stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = server.gateways().and_then(|g| g.tls_server()) else {
        split_and_serve(server, stream, addr, Side::Accepted).await;
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(TLS_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            split_and_serve(server, tls, addr, Side::Accepted).await;
        }
        Ok(Err(e)) => tracing::error!("{addr} - TLS gateway handshake error: {e}"),
        Err(_) => tracing::error!("{addr} - TLS gateway handshake timeout"),
    }
}

async fn split_and_serve<S>(server: Arc<Server>, stream: S, addr: SocketAddr, side: Side) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    connection::serve(server, reader, writer, addr, side).await
}

/// Starts dialing every configured gateway.
pub(crate) fn start_dialing(server: &Arc<Server>) {
    let Some(gateways) = server.gateways() else {
        return;
    };
    for remote in gateways.remotes() {
        let server2 = server.clone();
        server.spawn_background(dial_remote(server2, remote));
    }
}

/// Learns of gateway `name` at `urls` (told by another server), and dials
/// it if it is new.
pub(crate) fn learn_and_dial(server: &Arc<Server>, name: &str, urls: &[String]) {
    let Some(gateways) = server.gateways() else {
        return;
    };
    if let Some(remote) = gateways.learn(name, urls) {
        tracing::info!("Connecting to implicit gateway {name:?}");
        let server2 = server.clone();
        server.spawn_background(dial_remote(server2, remote));
    }
}

/// Connects to `remote`, again and again, while the server runs (an
/// implicit one only while it answers, or is connected to us).
async fn dial_remote(server: Arc<Server>, remote: Arc<RemoteGateway>) {
    let Some(gateways) = server.gateways() else {
        return;
    };
    let opts = server.options();
    let gw_opts = opts.gateway.clone().unwrap_or_default();
    let retries = u64::try_from(gw_opts.connect_retries).unwrap_or(0);
    let mut failures = 0u64;
    let mut delay = RECONNECT_DELAY;
    loop {
        let mut urls = remote.urls();
        urls.shuffle(&mut rand::rngs::StdRng::from_os_rng());
        let mut connected = false;
        for url in &urls {
            let target = super::url_host_port(url).to_string();
            let stream = match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(&target)).await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    log_failure(&remote, &target, failures + 1, &e.to_string());
                    continue;
                }
                Err(_) => {
                    log_failure(&remote, &target, failures + 1, "i/o timeout");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let Ok(addr) = stream.peer_addr() else {
                continue;
            };
            tracing::info!(
                "Creating outbound gateway connection to {:?} at {target}",
                remote.name
            );
            let side = Side::Solicited {
                remote: remote.clone(),
                url: url.clone(),
            };
            let Some(outcome) = run_tracked(&server, stream, addr, side, &remote, &target).await
            else {
                continue;
            };
            connected = outcome.registered;
            if outcome.duplicate {
                // Another connection to that cluster is up: try again later,
                // in case it ends.
                tokio::time::sleep(RECONNECT_DELAY * 5).await;
            }
            if outcome.refused {
                tokio::time::sleep(RECONNECT_DELAY * 2).await;
            }
            break;
        }
        if connected {
            failures = 0;
            delay = RECONNECT_DELAY;
        } else {
            failures += 1;
            if remote.implicit && failures > retries && !gateways.has_inbound_from(&remote.name) {
                tracing::info!("Giving up on implicit gateway {:?}", remote.name);
                gateways.forget(&remote.name);
                return;
            }
        }
        if *server.shutdown_signal().borrow() {
            return;
        }
        tokio::time::sleep(delay).await;
        if gw_opts.connect_backoff && !connected {
            delay = (delay * 2).min(MAX_BACKOFF);
        }
    }
}

fn log_failure(remote: &RemoteGateway, target: &str, attempt: u64, error: &str) {
    let kind = if remote.implicit {
        "implicit"
    } else {
        "explicit"
    };
    if attempt == 1 || attempt.is_multiple_of(60) {
        tracing::error!(
            "Error connecting to {kind} gateway {:?} ({target}) (attempt {attempt}): {error}",
            remote.name
        );
    } else {
        tracing::debug!(
            "Error connecting to {kind} gateway {:?} ({target}) (attempt {attempt}): {error}",
            remote.name
        );
    }
}

/// Runs a dialed connection (after its TLS handshake, when the remote uses
/// TLS) as one of the server's tasks, and waits for its end.
async fn run_tracked(
    server: &Arc<Server>,
    stream: TcpStream,
    addr: SocketAddr,
    side: Side,
    remote: &RemoteGateway,
    target: &str,
) -> Option<Outcome> {
    let (done, outcome) = tokio::sync::oneshot::channel();
    let server2 = server.clone();
    match remote.tls() {
        None => {
            server.spawn(async move {
                let _ = done.send(split_and_serve(server2, stream, addr, side).await);
            });
        }
        Some(tls) => {
            let host = target
                .rsplit_once(':')
                .map_or(target, |(h, _)| h)
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let name = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => rustls_pki_types::ServerName::IpAddress(ip.into()),
                Err(_) => rustls_pki_types::ServerName::try_from(host).ok()?,
            };
            let connector = tokio_rustls::TlsConnector::from(tls);
            let tls = match tokio::time::timeout(TLS_TIMEOUT, connector.connect(name, stream)).await
            {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::error!("{target} - TLS gateway handshake error: {e}");
                    return None;
                }
                Err(_) => {
                    tracing::error!("{target} - TLS gateway handshake timeout");
                    return None;
                }
            };
            server.spawn(async move {
                let _ = done.send(split_and_serve(server2, tls, addr, side).await);
            });
        }
    }
    outcome.await.ok()
}
