//! One route connection (nats-server's `createRoute`, `processRouteInfo`,
//! `processRemoteSub` and `processInboundRoutedMsg`): the handshake (the
//! dialer sends CONNECT and INFO, the acceptor INFO; the acceptor checks the
//! route credentials and the cluster name), registration as the route to the
//! peer (or closing as a duplicate), our interest sent in full, then the
//! peer's `RS+`/`RS-` kept in the accounts' remote indexes, its messages
//! delivered to local subscribers, gossip acted on, and PINGs both ways.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use gannet_config::options::RouteUrl;
use gannet_proto::encode;
use gannet_proto::route::{QueueList, RouteOp, RouteParseError, RouteParser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::Instant;

use super::info::{RouteConnect, RouteInfo};
use super::pool::Slot;
use super::{Peer, Route};
use crate::accounts::Account;
use crate::client::outbound::DeadlinePolicy;
use crate::client::CloseReason;
use crate::fanout::{Fanout, Message};
use crate::msgtrace;
use crate::server::Server;
use crate::subscription::{Subscriber, Subscription};

/// The longest pause between route PINGs (nats-server caps it the same way).
const ROUTE_PING_MAX: Duration = Duration::from_secs(30);
/// The first PING goes out this soon, to measure the round trip.
const FIRST_PING: Duration = Duration::from_secs(1);
const READ_BUF: usize = 64 * 1024;
/// The least a route may have queued before it is cut as a slow consumer.
/// The reference does not bound a route's queue at all; Gannet bounds it, but
/// well above a client's default, since cutting a route drops the traffic
/// of every client behind it.
const ROUTE_MAX_PENDING: usize = 256 * 1024 * 1024;
/// How many times a client's control line a route line may be.
const ROUTE_CONTROL_LINE_FACTOR: usize = 16;
/// The largest routed message (the protocol's 64 MiB ceiling).
const ROUTE_MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Which end of the connection this server is.
#[derive(Debug, Clone)]
pub(crate) enum Side {
    Accepted,
    /// Dialed to `url`, as the connection in `slot` (the first one, or an
    /// extra one of a pool, or one pinned to an account).
    Solicited {
        url: RouteUrl,
        configured: bool,
        slot: Slot,
    },
}

/// How a route connection ended, for the dialer to decide what comes next.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The peer's server id, once its INFO came.
    pub(crate) peer_id: Option<String>,
    /// The connection was registered as the route to the peer.
    pub(crate) registered: bool,
    /// Closed because another route to the same peer was registered first.
    pub(crate) duplicate: bool,
    /// The URL leads back to this server.
    pub(crate) to_self: bool,
    /// The peer refused this kind of connection for good (a pinned or
    /// pooled connection to a server that does not pool).
    pub(crate) refused_for_good: bool,
    /// The peer refused us (credentials, cluster name): wait before trying again.
    pub(crate) refused: bool,
}

/// Runs one route connection until it closes.
pub(crate) async fn serve<R, W>(
    server: Arc<Server>,
    reader: R,
    writer: W,
    addr: SocketAddr,
    side: Side,
) -> Outcome
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Some(cluster) = server.cluster() else {
        return Outcome::default();
    };
    let opts = server.options();
    let cluster_opts = opts.cluster.clone().unwrap_or_default();
    let rid = server.next_client_id();
    let (did_solicit, configured) = match &side {
        Side::Accepted => (false, false),
        Side::Solicited { configured, .. } => (true, *configured),
    };
    let max_pending = opts.max_pending.max(ROUTE_MAX_PENDING);
    let route = Arc::new(Route::new(rid, addr, did_solicit, configured, max_pending));
    if let Side::Solicited { slot, .. } = &side {
        route.set_slot(slot.clone());
    }
    let prefix = format!("{addr} - rid:{rid}");
    let write_deadline = cluster_opts.write_deadline.unwrap_or(opts.write_deadline);
    // A route that misses a write deadline is kept and written on (the
    // reference's default for routes), unless `write_timeout: close`.
    let policy = match cluster_opts.write_timeout {
        gannet_config::WriteTimeoutPolicy::Close => DeadlinePolicy::Close,
        _ => DeadlinePolicy::Retry,
    };
    let writer_route = route.clone();
    let writer_task = tokio::spawn(async move {
        writer_route
            .outbound
            .run_writer_with(writer, write_deadline, policy)
            .await
    });

    let mut info = cluster.info(&server);
    let mut first = BytesMut::new();
    if let Side::Solicited { url, slot, .. } = &side {
        match slot {
            Slot::Pool(i) => info.route_pool_idx = i64::try_from(*i).unwrap_or(0),
            Slot::Pinned(account) => info.route_account.clone_from(account),
        }
        let connect = RouteConnect {
            echo: true,
            user: url.user.clone(),
            pass: url.password.clone(),
            tls_required: cluster.tls_client().is_some(),
            headers: info.headers,
            name: server.id().to_string(),
            cluster: info.cluster.clone(),
            cluster_dynamic: info.cluster_dynamic,
            ..RouteConnect::default()
        };
        first.extend_from_slice(b"CONNECT ");
        first.extend_from_slice(&connect.to_json());
        first.extend_from_slice(b"\r\n");
    }
    // The acceptor answers only a CONNECT it accepts (`connect`), so that a
    // refused dialer never takes it for a peer.
    if did_solicit {
        encode::write_info(&mut first, &info.to_json());
        route.send_line(&first);
    }

    let mut conn = RouteConnection {
        pinned: route.pinned_account().map(str::to_string),
        presented: None,
        batch_in: (0, 0),
        cluster: cluster.clone(),
        fanout: Fanout::new(rid),
        connected: did_solicit,
        outcome: Outcome::default(),
        pings_out: 0,
        rtt_ping: None,
        prefix,
        side,
        route: route.clone(),
        server: server.clone(),
    };
    let reason = conn.run(reader, &cluster_opts).await;
    conn.fanout.wake_all();
    conn.forget_interest();
    route.outbound.close(reason);
    let _ = tokio::time::timeout(write_deadline + Duration::from_secs(1), writer_task).await;
    let outcome = std::mem::take(&mut conn.outcome);
    if outcome.registered {
        if let Some(id) = &outcome.peer_id {
            let (was, peer_gone) = cluster.remove(&route, id);
            if was {
                tracing::info!("{} - Route connection closed: {reason}", conn.prefix);
            }
            if peer_gone {
                super::tell_clients(&server);
                if let Some(gateways) = server.gateways() {
                    let url = route.peer().gateway_url;
                    if !url.is_empty() && gateways.remove_cluster_url(&url) {
                        gateways.send_info_to_inbound(&server);
                    }
                }
            }
        }
    } else {
        tracing::debug!("{} - Route connection closed: {reason}", conn.prefix);
    }
    outcome
}

/// The read side of one route.
struct RouteConnection {
    server: Arc<Server>,
    route: Arc<Route>,
    side: Side,
    prefix: String,
    /// CONNECT was accepted (always true for the dialer).
    connected: bool,
    outcome: Outcome,
    fanout: Fanout,
    pings_out: u32,
    rtt_ping: Option<Instant>,
    /// Messages and bytes received in this read batch.
    batch_in: (u64, u64),
    /// The cluster: what peers may send us (`import`) as a reload leaves it.
    cluster: Arc<super::Cluster>,
    /// The account of a pinned connection: its lines name none.
    pinned: Option<String>,
    /// The credentials an accepted peer's CONNECT presented, checked again
    /// when a reload changes what the cluster requires.
    presented: Option<(Option<String>, Option<String>)>,
}

/// Whether `user`/`pass` are what the cluster's `authorization` asks of peers.
fn route_authorized(server: &Server, user: Option<&str>, pass: Option<&str>) -> bool {
    let opts = server.options();
    let Some(cluster) = opts.cluster.as_ref() else {
        return true;
    };
    match &cluster.user {
        None => true,
        Some(want) => user == Some(want.as_str()) && pass == cluster.password.as_deref(),
    }
}

impl RouteConnection {
    async fn run<R: AsyncRead + Unpin>(
        &mut self,
        mut reader: R,
        cluster_opts: &gannet_config::options::ClusterOptions,
    ) -> CloseReason {
        let opts = self.server.options();
        let ping_interval = cluster_opts
            .ping_interval
            .unwrap_or(opts.ping_interval)
            .min(ROUTE_PING_MAX);
        let ping_timer = tokio::time::sleep(FIRST_PING.min(ping_interval));
        tokio::pin!(ping_timer);
        let auth_timer = tokio::time::sleep(cluster_opts.auth_timeout);
        tokio::pin!(auth_timer);
        let closing = self.route.clone();
        let mut shutdown = self.server.shutdown_signal();
        let mut reloads = self.server.reload_signal();
        // A configured route a reload removes is closed, and not redialed.
        let configured_url = match &self.side {
            Side::Solicited {
                url,
                configured: true,
                ..
            } => Some(url.clone()),
            _ => None,
        };
        // Route lines carry accounts, replies and queue lists: the reference
        // allows them 16 times a client's control line. Payloads are bounded
        // by the protocol's hard limit, not by this node's max_payload, so a
        // peer with a larger one does not lose its route.
        let mut parser = RouteParser::new(
            opts.max_control_line.max(4096) * ROUTE_CONTROL_LINE_FACTOR,
            opts.max_payload.max(ROUTE_MAX_PAYLOAD),
        );
        parser.pin_account(self.pinned.is_some());
        let mut buf = BytesMut::with_capacity(READ_BUF);
        loop {
            if buf.capacity() - buf.len() < READ_BUF / 4 {
                buf.reserve(READ_BUF);
            }
            tokio::select! {
                biased;
                reason = closing.outbound.closed() => return reason,
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = reloads.changed(), if configured_url.is_some() || self.presented.is_some() => {
                    if configured_url.as_ref().is_some_and(|url| !super::is_configured(&self.server, url)) {
                        tracing::info!("{} - Route removed from the configuration", self.prefix);
                        return CloseReason::RouteRemoved;
                    }
                    // An accepted peer whose credentials no longer do.
                    if let Some((user, pass)) = &self.presented {
                        if !route_authorized(&self.server, user.as_deref(), pass.as_deref()) {
                            tracing::error!(
                                "{} - authentication error - User \"{}\"",
                                self.prefix,
                                user.as_deref().unwrap_or_default()
                            );
                            self.send_err("Authorization Violation");
                            return CloseReason::AuthenticationViolation;
                        }
                    }
                }
                _ = &mut auth_timer, if !self.outcome.registered => {
                    tracing::error!("{} - Route handshake timeout", self.prefix);
                    self.send_err("Authentication Timeout");
                    return CloseReason::AuthenticationTimeout;
                }
                read = reader.read_buf(&mut buf) => {
                    match read {
                        Ok(0) => return CloseReason::ClientClosed,
                        Ok(_) => {}
                        Err(_) => return CloseReason::ReadError,
                    }
                    self.route.last_activity_ns.store(super::now_nanos(), Ordering::Relaxed);
                    let outcome = self.process(&mut parser, &mut buf);
                    self.fanout.wake_all();
                    let stats = crate::stats::BatchStats {
                        out_msgs: std::mem::take(&mut self.fanout.out_msgs),
                        out_bytes: std::mem::take(&mut self.fanout.out_bytes),
                        ..Default::default()
                    };
                    self.server.stats().add(&stats);
                    let (msgs, bytes) = std::mem::take(&mut self.batch_in);
                    self.server.stats().add_route_in(msgs, bytes);
                    if let Err(reason) = outcome {
                        return reason;
                    }
                    // A receiver falling behind slows this route's reading,
                    // and so the peer's publishers, instead of being cut.
                    for client in self.fanout.take_stalled() {
                        client.outbound.wait_drained().await;
                    }
                    // Routed messages to this server's leafs, likewise.
                    for link in self.fanout.take_stalled_links() {
                        link.wait_drained().await;
                    }
                }
                _ = &mut ping_timer => {
                    ping_timer.as_mut().reset(Instant::now() + ping_interval);
                    if self.pings_out >= cluster_opts.ping_max.unwrap_or(opts.ping_max).max(1) {
                        tracing::debug!("{} - Stale Route Connection - Closing", self.prefix);
                        return CloseReason::StaleConnection;
                    }
                    self.pings_out += 1;
                    // Each PING measures the round trip again (from the
                    // latest one, so a lost PONG does not inflate it).
                    self.rtt_ping = Some(Instant::now());
                    self.route.send_line(encode::PING);
                }
            }
        }
    }

    fn process(&mut self, parser: &mut RouteParser, buf: &mut BytesMut) -> Result<(), CloseReason> {
        let mut consumed = 0;
        let result = loop {
            match parser.parse(&buf[consumed..]) {
                Ok(Some((op, n))) => {
                    consumed += n;
                    if let Err(reason) = self.handle(op) {
                        break Err(reason);
                    }
                    // An INFO may have made this a pinned connection.
                    parser.pin_account(self.pinned.is_some());
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(self.parse_failed(&e)),
            }
        };
        buf.advance(consumed);
        result
    }

    fn parse_failed(&mut self, e: &RouteParseError) -> CloseReason {
        tracing::error!("{} - Route parser ERROR: {e}", self.prefix);
        let (text, reason) = super::parse_error_reply(e);
        self.send_err(text);
        reason
    }

    fn send_err(&self, text: &str) {
        let mut line = BytesMut::new();
        encode::write_err(&mut line, text);
        self.route.send_line(&line);
    }

    fn handle(&mut self, op: RouteOp<'_>) -> Result<(), CloseReason> {
        if !self.connected && !matches!(op, RouteOp::Connect { .. }) {
            self.send_err("Authorization Violation");
            return Err(CloseReason::AuthenticationViolation);
        }
        match op {
            RouteOp::Connect { json } => self.connect(json),
            RouteOp::Info { json } => self.info(json),
            RouteOp::Ping => {
                self.route.send_line(encode::PONG);
                Ok(())
            }
            RouteOp::Pong => {
                self.pings_out = 0;
                if let Some(sent) = self.rtt_ping.take() {
                    let rtt = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    self.route.rtt_ns.store(rtt.max(1), Ordering::Relaxed);
                }
                Ok(())
            }
            RouteOp::Ok => Ok(()),
            // Account interest is for gateways only.
            RouteOp::AccountSub { .. } | RouteOp::AccountUnsub { .. } => Ok(()),
            RouteOp::Err { text } => {
                let text = String::from_utf8_lossy(text);
                tracing::error!("{} - Remote Error '{text}'", self.prefix);
                if text.contains("Authorization Violation") || text.starts_with("Rejecting") {
                    self.outcome.refused = true;
                }
                Ok(())
            }
            RouteOp::Sub {
                account,
                subject,
                queue,
                ..
            } => {
                self.require_registered()?;
                self.remote_sub(account, subject, queue);
                Ok(())
            }
            RouteOp::Unsub {
                account,
                subject,
                queue,
                ..
            } => {
                self.require_registered()?;
                self.remote_unsub(account, subject, queue);
                Ok(())
            }
            RouteOp::Msg {
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
                ..
            } => {
                self.require_registered()?;
                let size = payload.len() + headers.map_or(0, <[u8]>::len);
                super::count_in(&self.route, size);
                self.batch_in.0 += 1;
                self.batch_in.1 += size as u64;
                let Some(account) = self.account(account) else {
                    return Ok(());
                };
                if !self.cluster.admits(subject) {
                    return Ok(());
                }
                if let Some(h) = headers.filter(|h| msgtrace::may_ask(h, &account)) {
                    self.deliver_traced(&account, subject, reply, h, payload, queues);
                } else {
                    self.deliver(&account, subject, reply, headers, payload, queues);
                }
                Ok(())
            }
        }
    }

    /// A message whose headers may ask for a trace ([`crate::msgtrace`]).
    #[cold]
    fn deliver_traced(
        &mut self,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: &[u8],
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let peer = self.route.peer();
        let from = msgtrace::Ingress {
            kind: msgtrace::Kind::Router,
            cid: self.route.rid,
            name: &peer.name,
            account,
            subject,
            size: headers.len() + payload.len(),
            log: &self.prefix,
        };
        let start =
            msgtrace::start_from_link(&self.server, &mut self.fanout, headers, &from, |_| true);
        if let Some(h) = start.headers(headers) {
            self.deliver(account, subject, reply, Some(h), payload, queues);
        }
        if start.traced() {
            self.fanout.end_trace(&self.server);
        }
    }

    /// A message from the peer: to this server's subscribers (and its
    /// leafs), never to another route.
    fn deliver(
        &mut self,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let mut msg = Message::new(subject, reply, headers, payload).routed();
        if subject.starts_with(crate::gateway::REPLY_PREFIX)
            && self.fanout.gateway_reply(
                &self.server,
                account,
                &mut msg,
                crate::fanout::ReplyFrom::Route,
            )
        {
            return;
        }
        let local = account.sublist.matches(subject);
        if local.is_empty() {
            return;
        }
        self.fanout
            .fan_out_routed(&self.server, &local, &mut msg, queues);
    }

    /// Interest and messages only count once the peer is known.
    fn require_registered(&self) -> Result<(), CloseReason> {
        if self.outcome.registered {
            Ok(())
        } else {
            tracing::error!("{} - Route protocol before INFO", self.prefix);
            Err(CloseReason::ProtocolViolation)
        }
    }

    /// The account a line names (`None`, with a debug log, if there is no such
    /// account here).
    fn account(&self, name: Option<&[u8]>) -> Option<Arc<Account>> {
        let name = match name {
            Some(name) => std::str::from_utf8(name).ok()?,
            None => self.pinned.as_deref()?,
        };
        let account = self.server.find_account(name);
        if account.is_none() {
            tracing::debug!("{} - Unknown account {name:?} on route", self.prefix);
        }
        account
    }

    /// The acceptor's check of the dialer's CONNECT: route credentials and
    /// cluster name.
    fn connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        if matches!(self.side, Side::Solicited { .. }) || self.connected {
            return Ok(());
        }
        let Ok(connect) = serde_json::from_slice::<RouteConnect>(json) else {
            self.send_err("Invalid CONNECT");
            return Err(CloseReason::ProtocolViolation);
        };
        if !route_authorized(
            &self.server,
            connect.user.as_deref(),
            connect.pass.as_deref(),
        ) {
            tracing::error!(
                "{} - authentication error - User \"{}\"",
                self.prefix,
                connect.user.as_deref().unwrap_or_default()
            );
            self.send_err("Authorization Violation");
            return Err(CloseReason::AuthenticationViolation);
        }
        self.presented = Some((connect.user.clone(), connect.pass.clone()));
        let cluster = self.cluster.clone();
        let ours = cluster.name();
        if !cluster.accept_name(&connect.cluster, connect.cluster_dynamic, &connect.name) {
            let text = format!(
                "Rejecting connection, cluster name \"{}\" does not match \"{ours}\"",
                connect.cluster
            );
            tracing::error!("{} - {text}", self.prefix);
            self.send_err(&text);
            return Err(CloseReason::ClusterNameConflict);
        }
        self.connected = true;
        let mut line = BytesMut::new();
        encode::write_info(&mut line, &cluster.info(&self.server).to_json());
        self.route.send_line(&line);
        Ok(())
    }

    fn info(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let Ok(info) = serde_json::from_slice::<RouteInfo>(json) else {
            tracing::error!("{} - Invalid route INFO", self.prefix);
            return Err(CloseReason::ProtocolViolation);
        };
        if info.gateway_cmd != 0 || !info.gateway.is_empty() {
            // Gateway news riding on the route: a gateway the peer connects
            // to, for this server to connect to as well.
            if self.server.gateways().is_none() {
                tracing::error!(
                    "{} - Received information about gateway {:?}, but gateway is not configured",
                    self.prefix,
                    info.gateway
                );
            } else if info.gateway_cmd == crate::gateway::info::CMD_GOSSIP {
                crate::gateway::learn_and_dial(&self.server, &info.gateway, &info.gateway_urls);
            }
            return Ok(());
        }
        let cluster = self.cluster.clone();
        if info.server_id == self.server.id() && !self.outcome.registered {
            if let Side::Solicited { url, .. } = &self.side {
                tracing::debug!("Detected route to self, ignoring {:?}", mask(url));
            }
            self.outcome.to_self = true;
            return Err(CloseReason::DuplicateRoute);
        }
        let ours = cluster.name();
        if !cluster.accept_name(&info.cluster, info.cluster_dynamic, &info.server_id) {
            tracing::error!(
                "{} - Cluster name conflict: remote {:?}, local {ours:?}",
                self.prefix,
                info.cluster
            );
            return Err(CloseReason::ClusterNameConflict);
        }
        if self.outcome.registered {
            return self.later_info(&cluster, info);
        }
        let (slot, no_pool) = self.negotiate_pool(&cluster, &info)?;
        if matches!(self.side, Side::Accepted) && info.server_name == self.server.name() {
            tracing::error!(
                "{} - Remote server has a duplicate name: {:?}",
                self.prefix,
                info.server_name
            );
            return Err(CloseReason::ProtocolViolation);
        }
        let peer = Peer {
            route_url: route_url(&info, self.route.addr),
            id: info.server_id.clone(),
            name: info.server_name.clone(),
            cluster: info.cluster.clone(),
            connect_urls: info.connect_urls.clone(),
            headers: info.headers,
            lame_duck: info.ldm,
            auth_required: info.auth_required,
            gateway_url: info.gateway_url.clone(),
            proto: info.proto,
            export: info.export.clone(),
        };
        self.outcome.peer_id = Some(peer.id.clone());
        self.route.set_peer(peer.clone());
        self.route.set_slot(slot.clone());
        if let Slot::Pinned(account) = &slot {
            self.pinned = Some(account.clone());
        }
        let first = match cluster.register(&self.route, &peer.id, &slot, no_pool) {
            Ok(first) => first,
            Err(existing) => {
                tracing::debug!(
                    "{} - Duplicate Route to {} (rid:{} kept)",
                    self.prefix,
                    peer.id,
                    existing.rid
                );
                self.outcome.duplicate = true;
                return Err(CloseReason::DuplicateRoute);
            }
        };
        self.outcome.registered = true;
        tracing::info!(
            "{} - Route connection created (peer {:?}{})",
            self.prefix,
            peer.name,
            match &slot {
                Slot::Pinned(account) => format!(", account {account}"),
                Slot::Pool(i) if !no_pool => format!(", pool index {i}"),
                Slot::Pool(_) => String::new(),
            }
        );
        // Every local interest we may import.
        super::perms::send_interest_where(&self.server, &cluster, &self.route, |subject, _| {
            cluster.may_import(subject).then_some(true)
        });
        self.rtt_ping = Some(Instant::now());
        self.pings_out += 1;
        self.route.send_line(encode::PING);
        if first {
            cluster.gossip(&self.route, &peer, None, &self.server);
            super::tell_clients(&self.server);
            if let Some(gateways) = self.server.gateways() {
                if !peer.gateway_url.is_empty() && gateways.add_cluster_url(&peer.gateway_url) {
                    gateways.send_info_to_inbound(&self.server);
                }
                gateways.tell_route(&self.server, &self.route);
            }
        } else if let Slot::Pinned(account) = &slot {
            cluster.gossip(&self.route, &peer, Some(account), &self.server);
        }
        // The dialer of a pooling peer's first connection dials the rest.
        if let Side::Solicited {
            url,
            configured,
            slot: Slot::Pool(0),
        } = &self.side
        {
            if !no_pool {
                super::dial::dial_pool(&self.server, url, *configured, &peer.id);
            }
        }
        Ok(())
    }

    /// Settles which connection this is and whether the pair pools: both
    /// must pool with the same size, or neither does and one connection
    /// carries everything (as with an old server, or `pool_size: -1`).
    fn negotiate_pool(
        &mut self,
        cluster: &super::Cluster,
        info: &RouteInfo,
    ) -> Result<(Slot, bool), CloseReason> {
        let settings = cluster.settings();
        let ours = settings.pool_size;
        let theirs = usize::try_from(info.route_pool_size).unwrap_or(0);
        let no_pool = ours == 0 || theirs == 0;
        let refuse = |this: &mut Self, text: String| {
            tracing::error!("{} - {text}", this.prefix);
            this.send_err(&text);
            this.outcome.refused_for_good = true;
            Err(CloseReason::ProtocolViolation)
        };
        let slot = match &self.side {
            Side::Solicited { slot, .. } => slot.clone(),
            Side::Accepted if !info.route_account.is_empty() => {
                Slot::Pinned(info.route_account.clone())
            }
            Side::Accepted => Slot::Pool(usize::try_from(info.route_pool_idx).unwrap_or(0)),
        };
        if no_pool {
            if let Slot::Pinned(account) = &slot {
                return refuse(
                    self,
                    format!(
                        "Not possible to have a dedicated route for account {account:?} between those servers"
                    ),
                );
            }
            if slot != Slot::Pool(0) {
                self.outcome.refused_for_good = true;
                return Err(CloseReason::DuplicateRoute);
            }
            return Ok((slot, true));
        }
        if ours != theirs {
            return refuse(
                self,
                format!("Mismatch route pool size: {ours} vs {theirs}"),
            );
        }
        match &slot {
            Slot::Pinned(account) if !settings.pinned_accounts.contains(account) => refuse(
                self,
                format!("No route for account {account:?} (pin the same accounts on every node)"),
            ),
            Slot::Pool(i) if *i >= ours => refuse(
                self,
                format!("Invalid route pool index: {i} - pool size is {ours}"),
            ),
            _ => Ok((slot, false)),
        }
    }

    /// An INFO on an established route: news of the peer itself (its client
    /// URLs, lame duck mode), or gossip of another server to dial.
    fn later_info(&mut self, cluster: &super::Cluster, info: RouteInfo) -> Result<(), CloseReason> {
        let peer_id = self.outcome.peer_id.clone().unwrap_or_default();
        if info.server_id == peer_id {
            cluster.update_peer(&peer_id, |p| {
                p.connect_urls.clone_from(&info.connect_urls);
                p.lame_duck = info.ldm;
            });
            super::tell_clients(&self.server);
            // Each connection of a pool hears it, and answers for the
            // accounts it carries.
            let old = self.route.peer().export;
            if !info.ldm && old != info.export {
                self.route
                    .update_peer(|p| p.export.clone_from(&info.export));
                super::perms::peer_export_changed(
                    &self.server,
                    cluster,
                    &self.route,
                    old.as_ref(),
                    info.export.as_ref(),
                );
            }
            return Ok(());
        }
        if info.server_id.is_empty()
            || info.server_id == self.server.id()
            || cluster.route_to(&info.server_id).is_some()
        {
            return Ok(());
        }
        let url = if info.ip.is_empty() {
            format!(
                "nats-route://{}/",
                crate::server::host_port(&info.host, info.port)
            )
        } else {
            info.ip.clone()
        };
        super::dial::dial_implicit(&self.server, &url);
        Ok(())
    }

    fn remote_sub(&mut self, account: Option<&[u8]>, subject: &[u8], queue: Option<(&[u8], u32)>) {
        let Some(account) = self.account(account) else {
            return;
        };
        if !self.cluster.may_export(subject, queue.map(|(q, _)| q)) {
            tracing::debug!(
                "{} - Not exporting {:?} to the route (permissions)",
                self.prefix,
                String::from_utf8_lossy(subject)
            );
            return;
        }
        let key = (
            account.name.clone(),
            Box::<[u8]>::from(subject),
            queue.map(|(q, _)| Box::<[u8]>::from(q)),
        );
        let mut subs = self.route.subs_lock();
        if let Some(existing) = subs.get(&key) {
            if let Some((_, weight)) = queue {
                existing.set_weight(weight);
            }
            return;
        }
        let sub = Arc::new(Subscription::new(
            Subscriber::Route(self.route.clone()),
            &account,
            subject,
            queue.map(|(q, _)| q),
            b"",
        ));
        if let Some((_, weight)) = queue {
            sub.set_weight(weight);
        }
        match account.subscribe_remote(&sub) {
            Ok(()) => {
                subs.insert(key, sub);
            }
            Err(e) => tracing::debug!(
                "{} - Ignoring RS+ {:?}: {e}",
                self.prefix,
                String::from_utf8_lossy(subject)
            ),
        }
    }

    fn remote_unsub(&mut self, account: Option<&[u8]>, subject: &[u8], queue: Option<&[u8]>) {
        let Some(account) = self.account(account) else {
            return;
        };
        let key = (
            account.name.clone(),
            Box::<[u8]>::from(subject),
            queue.map(Box::<[u8]>::from),
        );
        let removed = self.route.subs_lock().remove(&key);
        if let Some(sub) = removed {
            account.unsubscribe_remote(&sub);
        }
    }

    /// Takes every subscription of the peer out of the accounts.
    fn forget_interest(&mut self) {
        let subs: HashMap<_, _> = std::mem::take(&mut *self.route.subs_lock());
        for (_, sub) in subs {
            if let Some(account) = sub.account() {
                account.unsubscribe_remote(&sub);
            }
        }
    }
}

/// The URL peers dial to reach the server an INFO describes: its `ip` if
/// given, else its host and port, with the connection's address standing in
/// for a host that is any address.
fn route_url(info: &RouteInfo, addr: SocketAddr) -> String {
    if !info.ip.is_empty() {
        return info.ip.clone();
    }
    let host = match info.host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_unspecified() => addr.ip().to_string(),
        _ if info.host.is_empty() => addr.ip().to_string(),
        _ => info.host.clone(),
    };
    format!(
        "nats-route://{}/",
        crate::server::host_port(&host, info.port)
    )
}

/// A route URL fit for logs: its password hidden.
pub(crate) fn mask(url: &RouteUrl) -> String {
    match &url.user {
        Some(user) => format!(
            "nats-route://{user}:xxxxx@{}",
            crate::server::host_port(&url.host, url.port)
        ),
        None => format!(
            "nats-route://{}",
            crate::server::host_port(&url.host, url.port)
        ),
    }
}
