//! Making leaf connections (nats-server's `leafNodeAcceptLoop` and
//! `connectToRemoteLeafNode`): the listener where leafs connect to this
//! server as their hub, and, for each of `leafnodes { remotes }`, a task that
//! connects to the hub (its URLs in turn) and reconnects, after `reconnect`,
//! whenever the connection ends, for as long as the server runs.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gannet_config::options::LeafRemote;
use tokio::net::{TcpListener, TcpStream};

use super::connection::{self, Side};
use crate::server::Server;

/// How long a dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Accepts leaf connections until the server stops.
pub(crate) async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                let server2 = server.clone();
                server.spawn(async move {
                    let (reader, writer) = stream.into_split();
                    connection::serve(server2, reader, writer, addr, Side::Hub).await;
                });
            }
            Err(e) => {
                tracing::error!("Temporary leafnode accept error: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
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

/// Connects to `remote`'s hub, URL after URL, for as long as the server runs.
async fn connect_remote(server: Arc<Server>, remote: LeafRemote, reconnect: Duration) {
    let account = server.account(remote.account.as_deref());
    let mut attempt = 0u64;
    loop {
        for url in &remote.urls {
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
            };
            run_tracked(&server, stream, addr, side).await;
        }
        tokio::time::sleep(reconnect).await;
    }
}

/// Runs a dialed connection as one of the server's tasks, so that it ends
/// and cleans up on its own at shutdown.
async fn run_tracked(server: &Arc<Server>, stream: TcpStream, addr: SocketAddr, side: Side) {
    let (done, finished) = tokio::sync::oneshot::channel();
    let server2 = server.clone();
    server.spawn(async move {
        let (reader, writer) = stream.into_split();
        let _ = done.send(connection::serve(server2, reader, writer, addr, side).await);
    });
    let _ = finished.await;
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
