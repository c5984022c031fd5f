//! Making leaf connections (nats-server's `leafNodeAcceptLoop` and
//! `connectToRemoteLeafNode`): the listener where leafs connect to this
//! server as their hub, and, for each of `leafnodes { remotes }`, a task that
//! connects to the hub (its URLs in turn) and reconnects, after `reconnect`,
//! whenever the connection ends, for as long as the server runs.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gannet_config::options::LeafRemote;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::connection::{self, Side, Start};
use crate::server::Server;

/// How long a dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a TLS handshake (and the INFO before it) may take.
const TLS_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts leaf connections until the server stops.
pub(crate) async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                let server2 = server.clone();
                server.spawn(accept_one(server2, stream, addr));
            }
            Err(e) => {
                tracing::error!("Temporary leafnode accept error: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One accepted leaf connection: with `leafnodes { tls }`, the INFO goes
/// first in clear (saying `tls_required`), then the TLS handshake.
async fn accept_one(server: Arc<Server>, mut stream: TcpStream, addr: SocketAddr) {
    let mut start = Start::new(&server);
    let Some(tls) = server.leafs().tls_server() else {
        let (reader, writer) = stream.into_split();
        connection::serve(server, reader, writer, addr, Side::Hub, start).await;
        return;
    };
    let info = connection::info_line(&server, start.lid, None, start.nonce.as_deref());
    if stream.write_all(&info).await.is_err() {
        return;
    }
    start.info_sent = true;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(TLS_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            let (reader, writer) = tokio::io::split(tls);
            connection::serve(server, reader, writer, addr, Side::Hub, start).await;
        }
        Ok(Err(e)) => tracing::error!("{addr} - TLS leafnode handshake error: {e}"),
        Err(_) => tracing::error!("{addr} - TLS leafnode handshake timeout"),
    }
}

/// Reads the hub's first INFO line (before a TLS handshake), at most 64 KiB.
async fn read_info_line(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 64 * 1024 {
        match tokio::time::timeout(TLS_TIMEOUT, stream.read(&mut byte)).await {
            Ok(Ok(1)) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Some(line);
                }
            }
            _ => return None,
        }
    }
    None
}

/// Starts connecting to every configured remote hub.
pub(crate) fn start_remotes(server: &Arc<Server>) {
    let Some(leaf_opts) = server.options().leafnodes.clone() else {
        return;
    };
    for remote in leaf_opts.remotes {
        let server2 = server.clone();
        let reconnect = leaf_opts.reconnect.max(Duration::from_millis(100));
        server.spawn_background(async move { connect_remote(server2, remote, reconnect).await });
    }
}

/// Starts connecting to a remote a reload added.
pub(crate) fn connect_added(server: &Arc<Server>, remote: LeafRemote) {
    let Some(leaf_opts) = server.options().leafnodes.clone() else {
        return;
    };
    let reconnect = leaf_opts.reconnect.max(Duration::from_millis(100));
    let server2 = server.clone();
    server.spawn_background(async move { connect_remote(server2, remote, reconnect).await });
}

/// The configured remote with these URLs, if a reload has not removed it.
fn configured_remote(server: &Server, urls: &[String]) -> Option<LeafRemote> {
    server
        .options()
        .leafnodes
        .as_ref()?
        .remotes
        .iter()
        .find(|r| r.urls == urls)
        .cloned()
}

/// Whether a remote with these URLs is configured.
pub(crate) fn is_configured(server: &Server, urls: &[String]) -> bool {
    configured_remote(server, urls).is_some()
}

/// A remote's URL split for dialing: host, port, user, password.
struct HubUrl {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

fn parse_hub_url(url: &str) -> Option<HubUrl> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (hostport, 7422),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
            None => (Some(u.to_string()), None),
        },
        None => (None, None),
    };
    Some(HubUrl {
        host,
        port,
        user,
        password,
    })
}

/// Connects to `remote`'s hub, URL after URL, for as long as the server runs
/// and the remote stays configured (with the TLS settings of the latest
/// reload).
async fn connect_remote(server: Arc<Server>, remote: LeafRemote, reconnect: Duration) {
    let account = server.account(remote.account.as_deref());
    let mut attempt = 0u64;
    loop {
        for url in &remote.urls {
            let Some(remote) = configured_remote(&server, &remote.urls) else {
                return;
            };
            let Some(hub) = parse_hub_url(url) else {
                tracing::error!("Invalid leafnode remote URL");
                return;
            };
            let target = crate::server::host_port(&hub.host, hub.port);
            let stream = match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(&target)).await
            {
                Ok(Ok(stream)) => stream,
                _ => {
                    attempt += 1;
                    if attempt == 1 || attempt.is_multiple_of(60) {
                        tracing::error!(
                                "Error trying to connect as leafnode to remote server {target} (attempt {attempt})"
                            );
                    }
                    continue;
                }
            };
            attempt = 0;
            let _ = stream.set_nodelay(true);
            let Ok(addr) = stream.peer_addr() else {
                continue;
            };
            let side = Side::Leaf {
                user: hub.user,
                password: hub.password,
                account: account.clone(),
                deny_imports: remote.deny_imports.clone(),
                deny_exports: remote.deny_exports.clone(),
                tls: false,
                hub: remote.hub,
                credentials: remote.credentials.clone(),
                remote_urls: remote.urls.clone(),
            };
            let wants_tls = remote.tls.is_some() || url.starts_with("tls://");
            if !wants_tls {
                run_tracked(&server, stream, addr, side, Start::new(&server)).await;
                continue;
            }
            let Some(tls) = remote
                .tls
                .as_ref()
                .and_then(|t| crate::tls::leaf_client_config(t).ok())
            else {
                tracing::error!("Leafnode remote {target} needs a tls block with a ca_file");
                continue;
            };
            let mut stream = stream;
            let Some(info) = read_info_line(&mut stream).await else {
                continue;
            };
            let name = match hub.host.parse::<std::net::IpAddr>() {
                Ok(ip) => rustls_pki_types::ServerName::IpAddress(ip.into()),
                Err(_) => match rustls_pki_types::ServerName::try_from(hub.host.clone()) {
                    Ok(name) => name,
                    Err(_) => continue,
                },
            };
            let connector = tokio_rustls::TlsConnector::from(tls);
            match tokio::time::timeout(TLS_TIMEOUT, connector.connect(name, stream)).await {
                Ok(Ok(tls)) => {
                    let mut start = Start::new(&server);
                    start.read = info;
                    let mut side = side;
                    if let Side::Leaf { tls, .. } = &mut side {
                        *tls = true;
                    }
                    run_tracked(&server, tls, addr, side, start).await;
                }
                Ok(Err(e)) => tracing::error!("{target} - TLS leafnode handshake error: {e}"),
                Err(_) => tracing::error!("{target} - TLS leafnode handshake timeout"),
            }
        }
        tokio::time::sleep(reconnect).await;
    }
}

/// Runs a dialed connection as one of the server's tasks, so that it ends
/// and cleans up on its own at shutdown.
async fn run_tracked<S>(server: &Arc<Server>, stream: S, addr: SocketAddr, side: Side, start: Start)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (done, finished) = tokio::sync::oneshot::channel();
    let server2 = server.clone();
    server.spawn(async move {
        let (reader, writer) = tokio::io::split(stream);
        let _ = done.send(connection::serve(server2, reader, writer, addr, side, start).await);
    });
    if let Ok(ended) = finished.await {
        if ended.looped {
            tokio::time::sleep(connection::LOOP_DELAY).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls() {
        let u = parse_hub_url("nats-leaf://app:secret@10.0.0.1:7422").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("10.0.0.1", 7422));
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (Some("app"), Some("secret"))
        );
        let u = parse_hub_url("nats://hub.example").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.user),
            ("hub.example", 7422, None)
        );
        let u = parse_hub_url("nats://[::1]:7000").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 7000));
    }
}
