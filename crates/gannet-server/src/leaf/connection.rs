//! One leaf node connection (nats-server's `createLeafNode`,
//! `processLeafnodeInfo`, `processLeafNodeConnect`, `processLeafSub` and
//! `processInboundLeafMsg`).
//!
//! The hub sends INFO; the leaf answers CONNECT (its credentials, its name,
//! `remote_account`, no compression); the hub checks the credentials, binds
//! the connection to the account they lead to, and sends a second INFO with
//! `connect_info` and `remote_account`. Then each side sends its bound
//! account's interest as `LS+` and a PING. The other side's `LS+`/`LS-`
//! become subscriptions of the [`Leaf`] in the bound account; its messages
//! go to this server's subscribers and routes, never back to it.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use gannet_auth::Credentials;
use gannet_proto::encode;
use gannet_proto::route::{QueueList, RouteOp, RouteParser};

use crate::msgtrace;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::Instant;

use super::{Leaf, LeafPeer};
use crate::accounts::Account;
use crate::client::outbound::DeadlinePolicy;
use crate::client::CloseReason;
use crate::fanout::{Fanout, Message};
use crate::server::{Server, ACCOUNT_CONNS_EXCEEDED};
use crate::subscription::{Subscriber, Subscription};

const READ_BUF: usize = 64 * 1024;
/// The longest pause between PINGs on a leaf connection.
const PING_MAX: Duration = Duration::from_secs(30);
/// Leaf lines carry replies and queue lists: 16 times a client's limit.
const CONTROL_LINE_FACTOR: usize = 16;

/// Which side of the link this server is.
#[derive(Debug, Clone)]
pub(crate) enum Side {
    /// The hub: the leaf dialed us.
    Hub,
    /// The leaf: we dialed the hub with these credentials, for this account.
    Leaf {
        user: Option<String>,
        password: Option<String>,
        account: Arc<Account>,
        deny_imports: Vec<String>,
        deny_exports: Vec<String>,
        /// The link runs over TLS.
        tls: bool,
        /// `hub: true`: this side is the hub of the link it dialed.
        hub: bool,
        /// `credentials`: a creds file whose JWT and seed log in to an
        /// operator-mode hub.
        credentials: Option<std::path::PathBuf>,
        /// The remote's URLs, by which a reload finds it (or finds it gone).
        remote_urls: Vec<String>,
    },
}

/// Why a leaf connection ended, for the dialer's pacing.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Ended {
    /// A loop was detected: wait before connecting again.
    pub(crate) looped: bool,
}

/// How long a leaf waits after a loop was detected (the reference's delay).
pub(crate) const LOOP_DELAY: Duration = Duration::from_secs(30);

/// The fields of the other side's INFO and CONNECT this server reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Hello {
    server_id: String,
    server_name: String,
    /// In CONNECT, the leaf's server name.
    name: String,
    cluster: String,
    headers: bool,
    /// The other side's protocol version: `proto` in INFO, `protocol` in CONNECT.
    #[serde(alias = "protocol")]
    proto: u32,
    user: Option<String>,
    pass: Option<String>,
    /// In CONNECT, the leaf's local account; in the hub's second INFO, the
    /// hub's.
    remote_account: Option<String>,
    connect_info: bool,
    /// In the hub's INFO: the hub takes only TLS.
    tls_required: bool,
    /// In CONNECT: the dialer is the hub of this link (its remote has `hub: true`).
    is_hub: bool,
    /// In CONNECT (operator mode): the leaf's user JWT and its signature
    /// of the hub's nonce.
    jwt: Option<String>,
    sig: Option<String>,
    /// In the hub's INFO: what a leaf with credentials signs.
    nonce: Option<String>,
}

/// How a connection reached [`serve`]: its id, and what was already
/// exchanged before a TLS handshake (the hub's INFO, sent or read).
#[derive(Debug)]
pub(crate) struct Start {
    pub(crate) lid: u64,
    /// The hub already sent its first INFO (in clear, before TLS).
    pub(crate) info_sent: bool,
    /// Bytes already read from the other side (the hub's INFO line).
    pub(crate) read: Vec<u8>,
    /// The nonce of the hub's INFO, when leafs log in by signing it
    /// (operator mode).
    pub(crate) nonce: Option<String>,
}

impl Start {
    pub(crate) fn new(server: &Server) -> Start {
        Start {
            lid: server.next_client_id(),
            info_sent: false,
            read: Vec::new(),
            nonce: server
                .authenticator()
                .needs_nonce()
                .then(crate::server::new_nonce),
        }
    }
}

/// Runs one leaf connection until it closes. Returns how it ended (for the
/// dialer's pacing).
pub(crate) async fn serve<R, W>(
    server: Arc<Server>,
    reader: R,
    writer: W,
    addr: SocketAddr,
    side: Side,
    start: Start,
) -> Ended
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let opts = server.options();
    let lid = start.lid;
    let spoke = matches!(side, Side::Leaf { hub: false, .. });
    let leaf = Arc::new(Leaf::new(lid, addr, spoke, opts.max_pending));
    if let Side::Leaf {
        deny_imports,
        deny_exports,
        ..
    } = &side
    {
        if let Err(e) = leaf.set_denies(deny_imports, deny_exports) {
            tracing::error!("{addr} - Invalid leafnode deny_imports/deny_exports: {e}");
        }
    }
    let prefix = format!("{addr} - lid:{lid}");
    let write_deadline = opts.write_deadline;
    let writer_leaf = leaf.clone();
    // A missed write deadline is retried, not cut, as on routes.
    let writer_task = tokio::spawn(async move {
        writer_leaf
            .outbound
            .run_writer_with(writer, write_deadline, DeadlinePolicy::Retry)
            .await
    });
    if matches!(side, Side::Hub) && !start.info_sent {
        leaf.send_line(&info_line(&server, lid, None, start.nonce.as_deref()));
    }
    let mut conn = LeafConnection {
        user: None,
        looped: false,
        payload_limit_set: false,
        fanout: Fanout::new(lid),
        ready: false,
        pings_out: 0,
        ping_sent: None,
        nonce: start.nonce.clone(),
        jwt_login: None,
        jwt_expires: None,
        fetch_account: None,
        fetched: false,
        prefix,
        side,
        leaf: leaf.clone(),
        server: server.clone(),
    };
    let reason = conn.run(reader, start.read).await;
    conn.fanout.wake_all();
    conn.forget_interest();
    leaf.outbound.close(reason);
    let _ = tokio::time::timeout(write_deadline + Duration::from_secs(1), writer_task).await;
    if conn.ready {
        server.leafs().remove(&leaf);
        if let Some(account) = leaf.account() {
            account.leaf_left();
            if !leaf.is_spoke() {
                let facts = leaf.event_facts(conn.user.clone());
                server.leaf_disconnect_event(account, &facts, reason);
            }
        }
        tracing::info!("{} - Leafnode connection closed: {reason}", conn.prefix);
    } else {
        tracing::debug!("{} - Leafnode connection closed: {reason}", conn.prefix);
    }
    Ended {
        looped: conn.looped,
    }
}

/// This server's INFO line on leaf connection `lid`; after the leaf's
/// CONNECT, with `connect_info` and the account the connection was bound to.
pub(crate) fn info_line(
    server: &Server,
    lid: u64,
    bound: Option<&str>,
    nonce: Option<&str>,
) -> BytesMut {
    let opts = server.options();
    let leaf_opts = opts.leafnodes.clone().unwrap_or_default();
    let auth_required = leaf_opts.user.is_some()
        || !leaf_opts.users.is_empty()
        || server.authenticator().auth_required();
    let cluster = server
        .cluster()
        .map_or_else(|| server.name().to_string(), |c| c.name());
    // The address leafs are told: `advertise`, else the listen host.
    let leaf_url = leaf_opts
        .advertise
        .clone()
        .unwrap_or_else(|| crate::server::host_port(&leaf_opts.host, server.leaf_port()));
    let leaf_host = crate::route::split_host(&leaf_url);
    let mut info = serde_json::json!({
        "server_id": server.id(),
        "server_name": server.name(),
        "version": crate::info::COMPAT_VERSION,
        "proto": crate::msgtrace::TRACE_PROTO,
        "go": crate::info::GO_VERSION,
        "host": leaf_host,
        "port": server.leaf_port(),
        "headers": !opts.no_header_support,
        "max_payload": opts.max_payload,
        "client_id": lid,
        "cluster": cluster,
        "api_lvl": crate::info::JS_API_LEVEL,
        // What tells a dialing leaf it reached a leaf node port.
        "info_on_connect": true,
        "leafnode_urls": [leaf_url],
    });
    if let Some(map) = info.as_object_mut() {
        if auth_required {
            map.insert("auth_required".into(), true.into());
        }
        if let Some(nonce) = nonce {
            map.insert("nonce".into(), nonce.into());
        }
        if let Some(account) = bound {
            map.insert("connect_info".into(), true.into());
            map.insert("remote_account".into(), account.into());
        }
        if leaf_opts.tls.is_some() {
            map.insert("tls_required".into(), true.into());
            map.insert(
                "tls_verify".into(),
                leaf_opts
                    .tls
                    .as_ref()
                    .is_some_and(crate::tls::requires_client_certs)
                    .into(),
            );
        }
    }
    let mut line = BytesMut::new();
    encode::write_info(&mut line, &serde_json::to_vec(&info).unwrap_or_default());
    line
}

/// The read side of one leaf connection.
struct LeafConnection {
    server: Arc<Server>,
    leaf: Arc<Leaf>,
    side: Side,
    prefix: String,
    /// The handshake is done: the account is bound and interest flows.
    ready: bool,
    /// The user the leaf logged in as (on the hub), for events.
    user: Option<String>,
    /// This server's own loop detection subject came back.
    looped: bool,
    /// The parser takes full-size messages (after the handshake).
    payload_limit_set: bool,
    fanout: Fanout,
    pings_out: u32,
    /// When the PING whose PONG measures the round trip went out.
    ping_sent: Option<Instant>,
    /// The nonce this hub sent the leaf (operator mode).
    nonce: Option<String>,
    /// A leaf logged in with a user JWT: its JWT and nonce signature, to
    /// check it again after claim updates; and when the JWT expires.
    jwt_login: Option<(String, String)>,
    jwt_expires: Option<Instant>,
    /// An account the leaf's user JWT names that this hub does not know:
    /// asked of the cluster before the CONNECT is handled (once: `fetched`).
    fetch_account: Option<String>,
    fetched: bool,
}

impl LeafConnection {
    async fn run<R: AsyncRead + Unpin>(&mut self, mut reader: R, read: Vec<u8>) -> CloseReason {
        let opts = self.server.options();
        let leaf_opts = opts.leafnodes.clone().unwrap_or_default();
        let ping_interval = opts.ping_interval.min(PING_MAX);
        let ping_timer = tokio::time::sleep(ping_interval);
        tokio::pin!(ping_timer);
        let auth_timer = tokio::time::sleep(leaf_opts.auth_timeout.max(Duration::from_secs(1)));
        tokio::pin!(auth_timer);
        let closing = self.leaf.clone();
        let mut shutdown = self.server.shutdown_signal();
        let mut reloads = self.server.reload_signal();
        // Armed when a leaf logged in with a user JWT that expires.
        let expiry_timer = tokio::time::sleep(Duration::from_secs(86_400 * 365));
        tokio::pin!(expiry_timer);
        let mut expiry_armed = false;
        // Before the handshake, nothing large is taken from an unknown peer;
        // after it, messages up to this server's max_payload.
        let mut parser = RouteParser::for_leaf(
            opts.max_control_line.max(4096) * CONTROL_LINE_FACTOR,
            opts.max_control_line.max(4096),
        );

        let mut buf = BytesMut::with_capacity(READ_BUF.max(read.len()));
        buf.extend_from_slice(&read);
        if !buf.is_empty() {
            if let Err(reason) = self.process(&mut parser, &mut buf) {
                return reason;
            }
            if let Err(reason) = self.resume_after_fetch(&mut parser, &mut buf).await {
                return reason;
            }
        }
        loop {
            if buf.capacity() - buf.len() < READ_BUF / 4 {
                buf.reserve(READ_BUF);
            }
            if !expiry_armed {
                if let Some(at) = self.jwt_expires {
                    expiry_timer.as_mut().reset(at);
                    expiry_armed = true;
                }
            }
            tokio::select! {
                biased;
                reason = closing.outbound.closed() => return reason,
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = &mut expiry_timer, if expiry_armed => {
                    tracing::info!("{} - Leafnode User Authentication Expired", self.prefix);
                    self.send_err("User Authentication Expired");
                    return CloseReason::AuthenticationExpired;
                }
                _ = reloads.changed(), if self.jwt_login.is_some() || matches!(self.side, Side::Leaf { .. }) => {
                    // A reload that removed the remote this link was
                    // dialed for closes it.
                    if let Side::Leaf { remote_urls, .. } = &self.side {
                        if !super::is_configured(&self.server, remote_urls) {
                            tracing::info!("{} - Leafnode remote removed from the configuration", self.prefix);
                            return CloseReason::ClientClosed;
                        }
                    }
                    // A claim update or a reload: the leaf's user JWT is
                    // checked again (revoked, account gone).
                    if let Err(reason) = self.jwt_recheck() {
                        tracing::error!("{} - leafnode authentication error: {reason}", self.prefix);
                        self.send_err("Authorization Violation");
                        return CloseReason::AuthenticationViolation;
                    }
                }
                _ = &mut auth_timer, if !self.ready => {
                    tracing::error!("{} - Leafnode handshake timeout", self.prefix);
                    self.send_err("Authentication Timeout");
                    return CloseReason::AuthenticationTimeout;
                }
                read = reader.read_buf(&mut buf) => {
                    match read {
                        Ok(0) => return CloseReason::ClientClosed,
                        Ok(_) => {}
                        Err(_) => return CloseReason::ReadError,
                    }
                    let outcome = self.process(&mut parser, &mut buf);
                    self.fanout.wake_all();
                    let stats = crate::stats::BatchStats {
                        out_msgs: std::mem::take(&mut self.fanout.out_msgs),
                        out_bytes: std::mem::take(&mut self.fanout.out_bytes),
                        routed_msgs: std::mem::take(&mut self.fanout.routed_msgs),
                        routed_bytes: std::mem::take(&mut self.fanout.routed_bytes),
                        ..Default::default()
                    };
                    self.server.stats().add(&stats);
                    if let Err(reason) = outcome {
                        return reason;
                    }
                    if let Err(reason) = self.resume_after_fetch(&mut parser, &mut buf).await {
                        return reason;
                    }
                    for client in self.fanout.take_stalled() {
                        client.outbound.wait_drained().await;
                    }
                    for link in self.fanout.take_stalled_links() {
                        link.wait_drained().await;
                    }
                }
                _ = &mut ping_timer => {
                    ping_timer.as_mut().reset(Instant::now() + ping_interval);
                    if self.pings_out >= opts.ping_max.max(1) {
                        return CloseReason::StaleConnection;
                    }
                    self.pings_out += 1;
                    self.ping_sent = Some(Instant::now());
                    self.leaf.send_line(encode::PING);
                }
            }
        }
    }

    /// When [`Self::process`] stopped at a CONNECT naming an account this
    /// hub does not know: asks the cluster for it, then goes on.
    async fn resume_after_fetch(
        &mut self,
        parser: &mut RouteParser,
        buf: &mut BytesMut,
    ) -> Result<(), CloseReason> {
        match self.fetch_account.take() {
            Some(key) => {
                crate::resolver::fetch(&self.server, &key).await;
                self.process(parser, buf)
            }
            None => Ok(()),
        }
    }

    fn process(&mut self, parser: &mut RouteParser, buf: &mut BytesMut) -> Result<(), CloseReason> {
        let mut consumed = 0;
        let result = loop {
            match parser.parse(&buf[consumed..]) {
                Ok(Some((op, n))) => {
                    if let RouteOp::Connect { json } = &op {
                        if let Some(key) = self.account_to_fetch(json) {
                            // Left unconsumed: handled again once the
                            // account has been asked for.
                            self.fetch_account = Some(key);
                            break Ok(());
                        }
                    }
                    consumed += n;
                    if let Err(reason) = self.handle(op) {
                        break Err(reason);
                    }
                    if self.ready && !self.payload_limit_set {
                        parser.set_max_payload(self.server.options().max_payload);
                        self.payload_limit_set = true;
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => {
                    tracing::error!("{} - Leafnode parser ERROR: {e}", self.prefix);
                    self.send_err("Unknown Protocol Operation");
                    break Err(CloseReason::ParseError);
                }
            }
        };
        buf.advance(consumed);
        result
    }

    fn send_err(&self, text: &str) {
        let mut line = BytesMut::new();
        encode::write_err(&mut line, text);
        self.leaf.send_line(&line);
    }

    fn handle(&mut self, op: RouteOp<'_>) -> Result<(), CloseReason> {
        match op {
            RouteOp::Info { json } => self.info(json),
            RouteOp::Connect { json } => self.connect(json),
            RouteOp::Ping => {
                self.leaf.send_line(encode::PONG);
                Ok(())
            }
            RouteOp::Pong => {
                self.pings_out = 0;
                if let Some(sent) = self.ping_sent.take() {
                    let rtt = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    self.leaf
                        .rtt_ns
                        .store(rtt.max(1), std::sync::atomic::Ordering::Relaxed);
                }
                Ok(())
            }
            RouteOp::Ok => Ok(()),
            // Account interest is for gateways only.
            RouteOp::AccountSub { .. } | RouteOp::AccountUnsub { .. } => Ok(()),
            RouteOp::Err { text } => {
                tracing::error!(
                    "{} - Leafnode Error '{}'",
                    self.prefix,
                    String::from_utf8_lossy(text)
                );
                Ok(())
            }
            RouteOp::Sub { subject, queue, .. } => {
                let account = self.bound()?;
                if subject == self.server.leafs().loop_subject().as_bytes() {
                    let text = format!(
                        "Loop detected for leafnode account={:?}. Delaying attempt to reconnect for {}s",
                        account.name,
                        LOOP_DELAY.as_secs()
                    );
                    tracing::error!("{} - {text}", self.prefix);
                    self.send_err(&text);
                    self.looped = true;
                    return Err(CloseReason::ProtocolViolation);
                }
                if !self.leaf.may_export(subject) {
                    return Ok(());
                }
                self.leaf_sub(&account, subject, queue);
                Ok(())
            }
            RouteOp::Unsub { subject, queue, .. } => {
                let account = self.bound()?;
                let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
                // Out of the account first, then out of the leaf's own (so
                // no change in between counts it as someone else's).
                let sub = self.leaf.subs_lock().get(&key).cloned();
                if let Some(sub) = sub {
                    account.unsubscribe(&sub);
                    self.leaf.subs_lock().remove(&key);
                    let cluster = self.leaf.cluster().unwrap_or_default();
                    self.server
                        .leafs()
                        .count_cluster_sub(cluster, &account.name, &key, -1);
                }
                Ok(())
            }
            RouteOp::Msg {
                subject,
                reply,
                queues,
                headers,
                payload,
                ..
            } => {
                let account = self.bound()?;
                self.leaf
                    .count_in(payload.len() + headers.map_or(0, <[u8]>::len));
                if let Some(h) = headers.filter(|h| msgtrace::may_ask(h, &account)) {
                    self.receive_traced(&account, subject, reply, h, payload, queues);
                } else {
                    self.receive(&account, subject, reply, headers, payload, queues);
                }
                Ok(())
            }
        }
    }

    /// A message whose headers may ask for a trace ([`crate::msgtrace`]).
    #[cold]
    fn receive_traced(
        &mut self,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: &[u8],
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let peer = self.leaf.peer();
        let from = msgtrace::Ingress {
            kind: msgtrace::Kind::Leaf,
            cid: self.leaf.lid,
            name: &peer.name,
            account,
            subject,
            size: headers.len() + payload.len(),
            log: &self.prefix,
        };
        let leaf = self.leaf.clone();
        let may_publish = |dest: &[u8]| {
            if leaf.is_spoke() {
                leaf.may_import(dest)
            } else {
                leaf.may_export(dest)
            }
        };
        let start =
            msgtrace::start_from_link(&self.server, &mut self.fanout, headers, &from, may_publish);
        if let msgtrace::LinkStart::Denied(dest) = &start {
            self.send_err(&format!("Permissions Violation for Publish to \"{dest}\""));
        }
        if let Some(h) = start.headers(headers) {
            self.receive(account, subject, reply, Some(h), payload, queues);
        }
        if start.traced() {
            self.fanout.end_trace(&self.server);
        }
    }

    /// A message from the other side, on the subject it was sent on: the
    /// account's subject mappings apply to it, as to what a client
    /// publishes, then the link's import rules.
    fn receive(
        &mut self,
        account: &Arc<Account>,
        published: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let Some(subject) = account.mapped_subject(published, || self.server.cluster_name()) else {
            return;
        };
        let subject: &[u8] = &subject;
        if let Some(trace) = self.fanout.trace().filter(|_| subject != published) {
            trace.mapped(subject);
        }
        if !self.leaf.may_import(subject) {
            return;
        }
        self.deliver(account, subject, reply, headers, payload, queues);
    }

    /// The bound account; interest and messages before it are refused.
    fn bound(&self) -> Result<Arc<Account>, CloseReason> {
        match (self.ready, self.leaf.account()) {
            (true, Some(account)) => Ok(account.clone()),
            _ => {
                self.send_err("Authorization Violation");
                Err(CloseReason::AuthenticationViolation)
            }
        }
    }

    /// A message from the other side: to this server's subscribers (other
    /// leafs included), its routes, and the queue groups the sender named;
    /// never back to this leaf.
    fn deliver(
        &mut self,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let local = account.sublist.matches(subject);
        // A spoke passes the hub's messages to its own subscribers only,
        // never to its routes (as the reference does).
        let remote = if self.leaf.is_spoke() {
            None
        } else {
            account.remote_matches(subject)
        };
        let mut msg = Message::new(subject, reply, headers, payload)
            .only_queues(queues)
            .with_leaf_cluster(self.leaf.cluster());
        if subject.starts_with(crate::gateway::REPLY_PREFIX)
            && self.fanout.gateway_reply(
                &self.server,
                account,
                &mut msg,
                crate::fanout::ReplyFrom::Local,
            )
        {
            return;
        }
        // Accounts that import the subject get it too, as from a client.
        if let Some(routes) = account.routes() {
            self.fanout
                .cross_accounts(&self.server, account, &routes, &msg);
        }
        if !local.is_empty() || remote.is_some() {
            self.fanout.fan_out_cluster(
                &self.server,
                account,
                &local,
                remote.as_deref(),
                &mut msg,
                Some(self.leaf.lid),
            );
        }
        // Other clusters get it too (from a hub, not a spoke's relay).
        if !self.leaf.is_spoke() {
            self.fanout.send_to_gateways(
                &self.server,
                account,
                &mut msg,
                &local,
                remote.as_deref(),
            );
        }
    }

    /// On a hub in operator mode with a directory resolver, the account of
    /// the leaf's user JWT when this server does not know it yet (asked of
    /// the cluster once per connection).
    fn account_to_fetch(&mut self, json: &[u8]) -> Option<String> {
        if self.fetched || self.ready || !matches!(self.side, Side::Hub) {
            return None;
        }
        let key = crate::resolver::unknown_account(&self.server, json)?;
        self.fetched = true;
        Some(key)
    }

    /// The hub's check of the leaf's CONNECT: credentials, and the account
    /// they bind the connection to.
    fn connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        if !matches!(self.side, Side::Hub) || self.ready {
            return Ok(());
        }
        let Ok(hello) = serde_json::from_slice::<Hello>(json) else {
            self.send_err("Invalid CONNECT");
            return Err(CloseReason::ProtocolViolation);
        };
        let Some(account) = self.authorize(&hello) else {
            tracing::error!(
                "{} - authentication error - User \"{}\"",
                self.prefix,
                hello.user.as_deref().unwrap_or_default()
            );
            self.send_err("Authorization Violation");
            return Err(CloseReason::AuthenticationViolation);
        };
        if let Some(max) = self.server.account_leafs_full(&account) {
            tracing::error!(
                "{} - {ACCOUNT_CONNS_EXCEEDED} ({max} leaf nodes) for account {}",
                self.prefix,
                account.name
            );
            self.send_err(ACCOUNT_CONNS_EXCEEDED);
            return Err(CloseReason::MaxAccountConnectionsExceeded);
        }
        if let (Some(jwt), Some(sig)) = (&hello.jwt, &hello.sig) {
            self.jwt_login = Some((jwt.clone(), sig.clone()));
            if let Ok(expires) = self.jwt_recheck() {
                self.jwt_expires = expires;
            }
        }
        self.set_peer(&hello);
        // A leaf that dialed as the hub of the link: this side is its spoke.
        if hello.is_hub {
            self.leaf.become_spoke();
        }
        self.user.clone_from(&hello.user);
        self.leaf.send_line(&info_line(
            &self.server,
            self.leaf.lid,
            Some(&account.name),
            None,
        ));
        self.start(account);
        Ok(())
    }

    /// Checks the leaf's user JWT again (operator mode); `Ok` gives when it
    /// expires.
    fn jwt_recheck(&self) -> Result<Option<Instant>, String> {
        let Some((jwt, sig)) = &self.jwt_login else {
            return Ok(None);
        };
        let creds = Credentials {
            user: None,
            pass: None,
            token: None,
            nkey: None,
            sig: Some(sig),
            nonce: self.nonce.as_deref().map(str::as_bytes),
            peer_certs: None,
            jwt: Some(jwt),
            client_ip: Some(self.leaf.addr.ip()),
            connection_type: "LEAFNODE",
        };
        let identity = self
            .server
            .authenticator()
            .authenticate(&creds)
            .map_err(|f| f.reason)?;
        let expires = match (identity.expires, identity.account_expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(expires.and_then(|exp| {
            let now = gannet_auth::operator::unix_now();
            Instant::now().checked_add(Duration::from_secs(exp.saturating_sub(now)))
        }))
    }

    /// The account a leaf's credentials lead to: the `leafnodes`
    /// authorization's users, else its single user, else the server's own
    /// users (as a client's), else `$G` when no authentication is asked for.
    fn authorize(&self, hello: &Hello) -> Option<Arc<Account>> {
        let opts = self.server.options();
        let leaf_opts = opts.leafnodes.clone().unwrap_or_default();
        let (user, pass) = (hello.user.as_deref(), hello.pass.as_deref());
        if !leaf_opts.users.is_empty() {
            let found = leaf_opts
                .users
                .iter()
                .find(|u| Some(u.user.as_str()) == user && Some(u.password.as_str()) == pass)?;
            return Some(self.server.account(found.account.as_deref()));
        }
        if let Some(expected) = &leaf_opts.user {
            if user != Some(expected.as_str()) || pass != leaf_opts.password.as_deref() {
                return None;
            }
            return Some(self.server.account(leaf_opts.account.as_deref()));
        }
        let creds = Credentials {
            user,
            pass,
            token: None,
            nkey: None,
            sig: hello.sig.as_deref(),
            nonce: self.nonce.as_deref().map(str::as_bytes),
            peer_certs: None,
            jwt: hello.jwt.as_deref(),
            client_ip: Some(self.leaf.addr.ip()),
            connection_type: "LEAFNODE",
        };
        let identity = self.server.authenticator().authenticate(&creds).ok()?;
        if let Some(perms) = &identity.permissions {
            // What the user may publish is what the leaf may send here; what
            // it may subscribe to is what may be sent to the leaf.
            let source = perms.source();
            let swapped = gannet_config::options::Permissions {
                publish: source.subscribe.clone(),
                subscribe: source.publish.clone(),
                allow_responses: None,
            };
            match gannet_auth::Permissions::compile(&swapped, None, false) {
                Ok(rules) => self.leaf.set_rules(rules),
                Err(e) => tracing::error!("{} - Leafnode user permissions: {e}", self.prefix),
            }
        }
        Some(self.server.account(identity.account.as_deref()))
    }

    /// The leaf's reading of the hub's INFOs: the first gets our CONNECT,
    /// the one with `connect_info` completes the handshake.
    fn info(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let Side::Leaf {
            user,
            password,
            account,
            tls,
            hub,
            credentials,
            ..
        } = self.side.clone()
        else {
            return Ok(());
        };
        let Ok(hello) = serde_json::from_slice::<Hello>(json) else {
            return Err(CloseReason::ProtocolViolation);
        };
        if hello.tls_required && !tls {
            // Never the credentials in clear to a hub that wants TLS.
            tracing::error!(
                "{} - The hub requires TLS: give the remote a tls block with its ca_file",
                self.prefix
            );
            return Err(CloseReason::ProtocolViolation);
        }
        if self.ready {
            return Ok(());
        }
        if hello.server_id == self.server.id() {
            tracing::warn!("{} - Leafnode connection to self, closing", self.prefix);
            return Err(CloseReason::DuplicateRoute);
        }
        self.set_peer(&hello);
        if hello.connect_info {
            self.start(account);
            return Ok(());
        }
        let cluster = self
            .server
            .cluster()
            .map_or_else(|| self.server.name().to_string(), |c| c.name());
        let mut connect = serde_json::json!({
            "version": crate::info::COMPAT_VERSION,
            "server_id": self.server.id(),
            "name": self.server.name(),
            "cluster": cluster,
            "headers": !self.server.options().no_header_support,
            "compress_mode": "off",
            "remote_account": account.name,
            "protocol": crate::msgtrace::TRACE_PROTO,
        });
        if let Some(map) = connect.as_object_mut() {
            if hub {
                map.insert("is_hub".into(), true.into());
            }
            if let Some(path) = &credentials {
                let (jwt, sig) = sign_with_creds(path, hello.nonce.as_deref().unwrap_or(""))
                    .map_err(|e| {
                        tracing::error!(
                            "{} - Leafnode credentials {}: {e}",
                            self.prefix,
                            path.display()
                        );
                        CloseReason::AuthenticationViolation
                    })?;
                map.insert("jwt".into(), jwt.into());
                map.insert("sig".into(), sig.into());
            }
            if let Some(user) = user {
                map.insert("user".into(), user.into());
            }
            if let Some(password) = password {
                map.insert("pass".into(), password.into());
            }
        }
        let mut line = BytesMut::from(&b"CONNECT "[..]);
        line.extend_from_slice(&serde_json::to_vec(&connect).unwrap_or_default());
        line.extend_from_slice(b"\r\n");
        self.leaf.send_line(&line);
        Ok(())
    }

    fn set_peer(&self, hello: &Hello) {
        let name = if hello.server_name.is_empty() {
            hello.name.clone()
        } else {
            hello.server_name.clone()
        };
        let cluster = if hello.cluster.is_empty() {
            name.clone()
        } else {
            hello.cluster.clone()
        };
        self.leaf.set_cluster(&cluster);
        self.leaf.set_peer(LeafPeer {
            id: hello.server_id.clone(),
            name,
            cluster: hello.cluster.clone(),
            headers: hello.headers,
            proto: hello.proto,
        });
    }

    /// Binds the connection to `account`, registers it, and sends the
    /// account's interest and a PING.
    fn start(&mut self, account: Arc<Account>) {
        let _ = self.leaf.account.set(account.clone());
        self.ready = true;
        self.server.leafs().add(&self.leaf);
        account.leaf_joined();
        if !self.leaf.is_spoke() {
            let facts = self.leaf.event_facts(self.user.clone());
            self.server.leaf_connect_event(&account, &facts);
        }
        tracing::info!(
            "{} - Leafnode connection created for account: {} (peer {:?})",
            self.prefix,
            account.name,
            self.leaf.peer().name
        );
        // This server's interest and its cluster peers' (under the account's
        // ordering lock, so no change falls between the listing and the lines).
        account.with_interest(|local| {
            let mut keys = local;
            keys.extend(account.remote.interest());
            keys.extend(account.mapping_sources().into_iter().map(|pattern| {
                gannet_sublist::Interest {
                    pattern: pattern.into_bytes(),
                    queue: None,
                    count: 1,
                }
            }));
            keys.sort_by(|a, b| (&a.pattern, &a.queue).cmp(&(&b.pattern, &b.queue)));
            keys.dedup_by(|a, b| a.pattern == b.pattern && a.queue == b.queue);
            for key in keys {
                self.leaf
                    .tell_interest(self.server.leafs(), &key.pattern, key.queue.as_deref());
            }
        });
        // With gateways, replies routed back to this cluster (`_GR_.`) must
        // reach a responder behind the leaf: the hub asks for them all, as
        // nats-server does.
        if !self.leaf.is_spoke() && self.server.gateways().is_some() {
            let mut line = BytesMut::new();
            super::write_interest(&mut line, b"_GR_.>", None, 1);
            self.leaf.send_line(&line);
        }
        // A leaf announces its loop detection subject to its hub.
        if self.leaf.is_spoke() {
            let mut line = BytesMut::new();
            super::write_interest(
                &mut line,
                self.server.leafs().loop_subject().as_bytes(),
                None,
                1,
            );
            self.leaf.send_line(&line);
        }
        self.pings_out += 1;
        self.ping_sent = Some(Instant::now());
        self.leaf.send_line(encode::PING);
    }

    fn leaf_sub(&mut self, account: &Arc<Account>, subject: &[u8], queue: Option<(&[u8], u32)>) {
        let key = (
            Box::<[u8]>::from(subject),
            queue.map(|(q, _)| Box::<[u8]>::from(q)),
        );
        let subs = self.leaf.subs_lock();
        if let Some(existing) = subs.get(&key) {
            if let Some((_, weight)) = queue {
                existing.set_weight(weight);
            }
            return;
        }
        let sub = Arc::new(Subscription::new(
            Subscriber::Leaf(self.leaf.clone()),
            account,
            subject,
            queue.map(|(q, _)| q),
            b"",
        ));
        if let Some((_, weight)) = queue {
            sub.set_weight(weight);
        }
        drop(subs);
        // Known as the leaf's own (and its cluster's) before the account
        // hears of it, so that it is never told back to that cluster.
        self.leaf.subs_lock().insert(key.clone(), sub.clone());
        let cluster = self.leaf.cluster().unwrap_or_default().to_string();
        let leafs = self.server.leafs();
        leafs.count_cluster_sub(&cluster, &account.name, &key, 1);
        if let Err(e) = account.subscribe(&sub) {
            leafs.count_cluster_sub(&cluster, &account.name, &key, -1);
            self.leaf.subs_lock().remove(&key);
            tracing::debug!(
                "{} - Ignoring LS+ {:?}: {e}",
                self.prefix,
                String::from_utf8_lossy(subject)
            );
        }
    }

    /// Takes every subscription of the other side out of the account.
    fn forget_interest(&mut self) {
        let subs: HashMap<_, _> = self.leaf.subs_lock().clone();
        let cluster = self.leaf.cluster().unwrap_or_default().to_string();
        for (key, sub) in subs {
            if let Some(account) = sub.account() {
                account.unsubscribe(&sub);
                self.server
                    .leafs()
                    .count_cluster_sub(&cluster, &account.name, &key, -1);
            }
            self.leaf.subs_lock().remove(&key);
        }
    }
}

/// The user JWT of a creds file, and its seed's signature of `nonce`
/// (base64url, as clients send it).
fn sign_with_creds(path: &std::path::Path, nonce: &str) -> Result<(String, String), String> {
    use base64::Engine;
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let (jwt, seed) = gannet_auth::jwt::parse_creds(&text).map_err(|e| e.to_string())?;
    let key = nkeys::KeyPair::from_seed(&seed).map_err(|e| e.to_string())?;
    let sig = key.sign(nonce.as_bytes()).map_err(|e| e.to_string())?;
    Ok((
        jwt,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig),
    ))
}
