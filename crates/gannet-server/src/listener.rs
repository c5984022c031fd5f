//! The client listener: accepts connections, does the TLS part of the connection
//! start-up in the reference's order (INFO in clear with `tls_required`, then the
//! handshake; or the handshake first with `handshake_first`; or either, decided by
//! the client's first byte, when plain-text clients are allowed too), and hands the
//! stream to a client task (nats-server's `AcceptLoop` and `createClient`).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use gannet_proto::encode;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::client::{self, Setup};
use crate::server::Server;

/// Longest pause between failed accepts (for example when out of descriptors).
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

pub(crate) async fn accept_loop(server: Arc<Server>, listener: TcpListener) {
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                backoff = Duration::from_millis(10);
                start_connection(&server, stream, addr);
            }
            Err(e) => {
                tracing::error!("Temporary accept error: {e}, sleeping {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
            }
        }
    }
}

/// Whether the client's leaf certificate has a public key `pinned_certs` names
/// (SHA-256 of its SubjectPublicKeyInfo, hex).
fn is_pinned(chain: &[rustls_pki_types::CertificateDer<'static>], pinned: &[String]) -> bool {
    use sha2::{Digest, Sha256};
    let Some(leaf) = chain.first() else {
        return false;
    };
    let Ok(spki) = gannet_auth::public_key_info(leaf) else {
        return false;
    };
    let hex: String = Sha256::digest(&spki)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    pinned.iter().any(|p| p.eq_ignore_ascii_case(&hex))
}

/// Waits up to `wait` for the client's first byte; `None` when it sent nothing.
async fn first_byte(stream: &TcpStream, wait: Duration) -> Option<u8> {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(wait, stream.peek(&mut byte)).await {
        Ok(Ok(1)) => Some(byte[0]),
        _ => None,
    }
}

/// Starts a client task for an accepted connection. A plain connection's
/// task is the client's own future, spawned as it is: a task is as large as
/// its future, and an `async` wrapper would hold a second copy of it. The
/// TLS start, several KiB more, is a task of its own kind.
fn start_connection(server: &Arc<Server>, stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    crate::idle_spin::register(&stream);
    let cid = server.next_client_id();
    let info = Box::new(server.client_info(cid, addr));
    let setup = Setup {
        cid,
        addr,
        info,
        info_sent: false,
        tls: false,
        peer_certs: Vec::new(),
    };
    match server.tls_config() {
        None => {
            let mut setup = setup;
            // The INFO straight onto the fresh socket, which has room for
            // it: no outbound buffer is made just for it.
            let mut line = BytesMut::new();
            encode::write_info(&mut line, &setup.info.to_json());
            match stream.try_write(&line) {
                Ok(n) if n == line.len() => setup.info_sent = true,
                // Queued by the client task instead.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // A part only (a send buffer smaller than an INFO), or the
                // client is gone already.
                _ => return,
            }
            let (reader, writer) = stream.into_split();
            server.spawn(client::serve(server.clone(), reader, writer, setup));
        }
        Some(tls_config) => {
            server.spawn(start_tls(server.clone(), stream, setup, tls_config));
        }
    }
}

/// The TLS part of a connection's start, then the client task over TLS (or
/// in the clear, where the configuration lets a client choose).
async fn start_tls(
    server: Arc<Server>,
    mut stream: TcpStream,
    mut setup: Setup,
    tls_config: Arc<rustls::ServerConfig>,
) {
    let (cid, addr) = (setup.cid, setup.addr);
    let opts = server.options();
    let Some(tls_opts) = opts.tls.as_ref() else {
        return;
    };
    let tls_first = match tls_opts.handshake_first {
        None => false,
        Some(None) => true,
        // Wait a moment for a client hello; a client that waits for INFO instead
        // gets the usual order.
        Some(Some(fallback)) => first_byte(&stream, fallback).await == Some(TLS_HANDSHAKE_RECORD),
    };
    if !tls_first {
        let mut line = BytesMut::new();
        encode::write_info(&mut line, &setup.info.to_json());
        if stream.write_all(&line).await.is_err() {
            return;
        }
        setup.info_sent = true;
        let plain_allowed = opts.allow_non_tls || tls_opts.allow_legacy_clients;
        if plain_allowed {
            let wait = opts.auth_timeout.max(tls_opts.timeout);
            if first_byte(&stream, wait).await != Some(TLS_HANDSHAKE_RECORD) {
                let (reader, writer) = stream.into_split();
                return client::serve(server, reader, writer, setup).await;
            }
        }
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    let handshake = tokio::time::timeout(tls_opts.timeout, acceptor.accept(stream)).await;
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::error!("{addr} - cid:{cid} - TLS handshake error: {e}");
            return;
        }
        Err(_) => {
            tracing::error!("{addr} - cid:{cid} - TLS handshake timeout");
            return;
        }
    };
    setup.tls = true;
    setup.peer_certs = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    if !tls_opts.pinned_certs.is_empty() && !is_pinned(&setup.peer_certs, &tls_opts.pinned_certs) {
        tracing::error!("{addr} - cid:{cid} - TLS handshake error: certificate not pinned");
        return;
    }
    tracing::debug!("{addr} - cid:{cid} - TLS handshake complete");
    let (reader, writer) = tokio::io::split(tls);
    client::serve(server, reader, writer, setup).await;
}
