//! Making route connections (nats-server's `routeAcceptLoop`,
//! `solicitRoutes` and `connectToRoute`): the route listener; configured
//! routes, dialed until the server stops (waiting while the peer is
//! reached by another connection); and routes learned from gossip, dialed
//! with `connect_retries` more tries. With route TLS, both ends handshake
//! first, before any INFO.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gannet_config::options::RouteUrl;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use super::connection::{self, Outcome, Side};
use super::pool::Slot;
use crate::server::Server;

/// Pause between tries of a route (nats-server's `DEFAULT_ROUTE_RECONNECT`).
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How long a dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after a peer refused us (credentials, cluster name), so that a
/// misconfigured pair does not spin.
const REFUSED_DELAY: Duration = Duration::from_secs(2);
/// Longest pause between tries with `connect_backoff`.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Accepts route connections until the server stops.
pub(crate) async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let server2 = server.clone();
                server.spawn(async move {
                    run(server2, stream, addr, Side::Accepted).await;
                });
            }
            Err(e) => {
                tracing::error!("Temporary route accept error: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Starts dialing every configured route.
pub(crate) fn start_dialing(server: &Arc<Server>) {
    let Some(cluster_opts) = server.options().cluster.clone().filter(|c| c.is_enabled()) else {
        return;
    };
    for url in cluster_opts.routes {
        let server2 = server.clone();
        server.spawn_background(async move { dial_configured(server2, url).await });
    }
}

/// Starts dialing a route a reload added.
pub(crate) fn dial_added(server: &Arc<Server>, url: RouteUrl) {
    let server2 = server.clone();
    server.spawn_background(async move { dial_configured(server2, url).await });
}

/// Whether `url` is among the configured routes (a reload may remove it).
pub(crate) fn is_configured(server: &Server, url: &RouteUrl) -> bool {
    server
        .options()
        .cluster
        .as_ref()
        .is_some_and(|c| c.routes.contains(url))
}

/// Dials a route learned from gossip, unless it is being dialed already.
pub(crate) fn dial_implicit(server: &Arc<Server>, url: &str) {
    let Some(cluster) = server.cluster() else {
        return;
    };
    let Some(mut parsed) = parse_route_url(url) else {
        tracing::debug!("Ignoring gossiped route URL {url:?}");
        return;
    };
    // Gossip carries no credentials: the cluster's own are what its peers take.
    if let Some(c) = server.options().cluster.as_ref() {
        parsed.user.clone_from(&c.user);
        parsed.password.clone_from(&c.password);
    }
    if !cluster.start_implicit(url) {
        return;
    }
    let retries = server
        .options()
        .cluster
        .as_ref()
        .map_or(0, |c| c.connect_retries);
    let server2 = server.clone();
    let url = url.to_string();
    server.spawn_background(async move {
        // A route learned from gossip is dialed until it stands; when a
        // route it made drops, it is redialed `connect_retries` + 1 times
        // (the reference redials a vanished implicit peer once).
        let mut tries = 0u32;
        loop {
            let outcome = dial(&server2, &parsed, false, Slot::Pool(0)).await;
            match outcome {
                Some(o) if o.duplicate || o.to_self || o.refused_for_good => break,
                Some(o) if o.registered => tries = 0,
                _ => {
                    tries += 1;
                    tracing::debug!("Error trying to connect to route (attempt {tries})");
                    if tries > retries {
                        break;
                    }
                }
            }
            tokio::time::sleep(retry_delay(&server2, tries)).await;
        }
        if let Some(cluster) = server2.cluster() {
            cluster.end_implicit(&url);
        }
    });
}

/// Dials the rest of the connections to a pooling peer whose first
/// connection this server just made: the other pool indexes and one per
/// pinned account. Each is redialed while the peer is still connected.
pub(crate) fn dial_pool(server: &Arc<Server>, url: &RouteUrl, configured: bool, peer_id: &str) {
    let Some(cluster) = server.cluster() else {
        return;
    };
    let settings = cluster.settings();
    let slots = (1..settings.pool_size)
        .map(Slot::Pool)
        .chain(settings.pinned_accounts.iter().cloned().map(Slot::Pinned));
    for slot in slots {
        let (server2, url, peer_id) = (server.clone(), url.clone(), peer_id.to_string());
        server.spawn_background(async move {
            loop {
                // Spread the dials a little, as the reference does.
                tokio::time::sleep(jitter(Duration::from_millis(50))).await;
                let Some(cluster) = server2.cluster() else {
                    return;
                };
                if cluster.route_to(&peer_id).is_none()
                    || cluster.has_connection(&peer_id, &slot)
                    || (configured && !is_configured(&server2, &url))
                {
                    return;
                }
                match dial(&server2, &url, configured, slot.clone()).await {
                    Some(o) if o.refused_for_good || o.to_self => {
                        if let Slot::Pinned(account) = &slot {
                            tracing::error!(
                                "Route for account {account:?} refused by {peer_id}: \
                                 pin the same accounts on every node"
                            );
                        }
                        return;
                    }
                    // A duplicate (both ends dialed this slot at once) goes
                    // back to the check above: the slot may still be empty.
                    _ => tokio::time::sleep(jitter(RECONNECT_DELAY)).await,
                }
            }
        });
    }
}

/// The pause before the next try after `failures` failed ones in a row:
/// [`RECONNECT_DELAY`], or with `connect_backoff` doubling up to
/// [`BACKOFF_MAX`].
fn retry_delay(server: &Server, failures: u32) -> Duration {
    let backoff = server
        .options()
        .cluster
        .as_ref()
        .is_some_and(|c| c.connect_backoff);
    jitter(base_delay(backoff, failures))
}

/// [`retry_delay`] before the jitter.
fn base_delay(backoff: bool, failures: u32) -> Duration {
    if backoff && failures > 1 {
        RECONNECT_DELAY
            .saturating_mul(1u32 << (failures - 1).min(5))
            .min(BACKOFF_MAX)
    } else {
        RECONNECT_DELAY
    }
}

/// Dials a configured route for as long as the server runs and the route
/// stays configured.
async fn dial_configured(server: Arc<Server>, url: RouteUrl) {
    let mut peer_id: Option<String> = None;
    let mut attempts = 0u64;
    loop {
        if !is_configured(&server, &url) {
            return;
        }
        // While the peer's first connection is up (dialed by either side),
        // wait for it to go.
        if let (Some(id), Some(cluster)) = (&peer_id, server.cluster()) {
            let mut changes = cluster.watch();
            while cluster.has_connection(id, &Slot::Pool(0)) {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        }
        match dial(&server, &url, true, Slot::Pool(0)).await {
            Some(outcome) => {
                if outcome.to_self {
                    // Our own URL in the list (as generated configs often have).
                    return;
                }
                attempts = 0;
                let refused = outcome.refused || outcome.peer_id.is_none();
                if outcome.peer_id.is_some() {
                    peer_id = outcome.peer_id;
                }
                if refused {
                    tokio::time::sleep(jitter(REFUSED_DELAY)).await;
                    continue;
                }
            }
            None => {
                attempts += 1;
                if attempts == 1 || attempts.is_multiple_of(60) {
                    tracing::error!(
                        "Error trying to connect to route {} (attempt {attempts})",
                        connection::mask(&url)
                    );
                }
            }
        }
        let failures = u32::try_from(attempts).unwrap_or(u32::MAX);
        tokio::time::sleep(retry_delay(&server, failures)).await;
    }
}

/// One connection to `url`, run until it closes. `None` when it could not
/// be made.
async fn dial(
    server: &Arc<Server>,
    url: &RouteUrl,
    configured: bool,
    slot: Slot,
) -> Option<Outcome> {
    let cluster = server.cluster()?;
    let target = crate::server::host_port(&url.host, url.port);
    let stream = match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(&target)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            tracing::debug!("Error connecting to route {target}: {e}");
            return None;
        }
        Err(_) => return None,
    };
    let addr = stream.peer_addr().ok()?;
    let _ = stream.set_nodelay(true);
    let side = Side::Solicited {
        url: url.clone(),
        configured,
        slot,
    };
    let Some(tls) = cluster.tls_client() else {
        let (reader, writer) = stream.into_split();
        return tracked(
            server,
            connection::serve(server.clone(), reader, writer, addr, side),
        )
        .await;
    };
    let name = match url.host.parse::<std::net::IpAddr>() {
        Ok(ip) => rustls_pki_types::ServerName::IpAddress(ip.into()),
        Err(_) => rustls_pki_types::ServerName::try_from(url.host.clone()).ok()?,
    };
    let timeout = tls_timeout(server);
    let connector = tokio_rustls::TlsConnector::from(tls);
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => {
            let (reader, writer) = tokio::io::split(tls);
            tracked(
                server,
                connection::serve(server.clone(), reader, writer, addr, side),
            )
            .await
        }
        Ok(Err(e)) => {
            tracing::error!("{addr} - TLS route handshake error: {e}");
            None
        }
        Err(_) => {
            tracing::error!("{addr} - TLS route handshake timeout");
            None
        }
    }
}

/// Runs a dialed connection as one of the server's tasks, so that it ends
/// (and cleans up) on its own at shutdown even when the dialer that waits for
/// it is dropped; `None` if it could not finish.
async fn tracked<F>(server: &Arc<Server>, connection: F) -> Option<Outcome>
where
    F: std::future::Future<Output = Outcome> + Send + 'static,
{
    let (done, outcome) = tokio::sync::oneshot::channel();
    server.spawn(async move {
        let _ = done.send(connection.await);
    });
    outcome.await.ok()
}

async fn split_and_serve<S>(
    server: &Arc<Server>,
    stream: S,
    addr: SocketAddr,
    side: Side,
) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    connection::serve(server.clone(), reader, writer, addr, side).await
}

/// An accepted connection: the TLS handshake first when routes use TLS.
async fn run(server: Arc<Server>, stream: TcpStream, addr: SocketAddr, side: Side) {
    let _ = stream.set_nodelay(true);
    let Some(cluster) = server.cluster() else {
        return;
    };
    let Some(tls) = cluster.tls_server() else {
        let (reader, writer) = stream.into_split();
        connection::serve(server, reader, writer, addr, side).await;
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(tls_timeout(&server), acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            split_and_serve(&server, tls, addr, side).await;
        }
        Ok(Err(e)) => tracing::error!("{addr} - TLS route handshake error: {e}"),
        Err(_) => tracing::error!("{addr} - TLS route handshake timeout"),
    }
}

fn tls_timeout(server: &Server) -> Duration {
    server
        .options()
        .cluster
        .as_ref()
        .and_then(|c| c.tls.as_ref())
        .map_or(Duration::from_secs(2), |t| t.timeout)
}

/// `delay` give or take a fifth, so that servers dialing each other drift apart.
fn jitter(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let spread = u64::try_from(delay.as_millis() / 5).unwrap_or(0);
    let offset = random % (spread * 2 + 1);
    delay - Duration::from_millis(spread) + Duration::from_millis(offset)
}

/// A gossiped `nats-route://host:port/` URL.
fn parse_route_url(url: &str) -> Option<RouteUrl> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.trim_end_matches('/');
    let (host, port) = super::cluster::split_host_port(rest)?;
    Some(RouteUrl {
        url: url.to_string(),
        host,
        port,
        user: None,
        password: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redials_back_off_only_when_asked() {
        assert_eq!(base_delay(false, 10), RECONNECT_DELAY);
        let steps: Vec<u64> = (1..=8).map(|n| base_delay(true, n).as_secs()).collect();
        assert_eq!(steps, [1, 2, 4, 8, 16, 30, 30, 30]);
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(1));
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200));
        }
    }

    #[test]
    fn gossiped_urls_parse() {
        let url = parse_route_url("nats-route://127.0.0.1:6222/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 6222));
        let url = parse_route_url("nats-route://[::1]:6222/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 6222));
        assert!(parse_route_url("nats-route://nohost/").is_none());
    }
}
