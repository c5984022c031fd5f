//! One gateway connection (nats-server's `createGateway`,
//! `processGatewayConnect`, `processGatewayInfo`, `processGatewayRSub` and
//! `processInboundGatewayMsg`).
//!
//! The acceptor sends its INFO first; the dialer answers with CONNECT (its
//! gateway name and credentials) and its own INFO. On the dialer's side the
//! connection is then the outbound one to that cluster: it reads the other
//! side's interest (`RS+`/`RS-`, `A+`/`A-`, the interest-only commands) and
//! gossip of further gateways, and messages go out on it. On the acceptor's
//! side it is an inbound one: every account is switched to interest-only
//! mode, with this cluster's interest, and the other side's messages come in
//! and go to this cluster's subscribers (local ones, peers', leafs').
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use gannet_proto::encode;
use gannet_proto::route::{QueueList, RouteOp, RouteParseError, RouteParser};

use crate::msgtrace;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::Instant;

use super::info::{self, GatewayConnect, GatewayInfo};
use super::{Gateway, GatewayPeer, Gateways, RemoteGateway};
use crate::client::outbound::DeadlinePolicy;
use crate::client::CloseReason;
use crate::fanout::{Fanout, Message, ReplyFrom};
use crate::server::Server;

/// Gateways PING at least this often, traffic or not (as nats-server).
const GATEWAY_PING_MAX: Duration = Duration::from_secs(15);
/// The first PING goes out this soon, to measure the round trip.
const FIRST_PING: Duration = Duration::from_secs(1);
/// How long the other side has for its CONNECT and INFO.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
const READ_BUF: usize = 64 * 1024;
/// How many times a client's control line a gateway line may be.
const CONTROL_LINE_FACTOR: usize = 16;
/// The largest message taken (the protocol's 64 MiB ceiling).
const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Which end of the connection this server is.
#[derive(Debug, Clone)]
pub(crate) enum Side {
    Accepted,
    /// Dialed to `url` of `remote`.
    Solicited {
        remote: Arc<RemoteGateway>,
        url: String,
    },
}

/// How a connection ended, for the dialer.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// It was registered (as the outbound connection, or an inbound one).
    pub(crate) registered: bool,
    /// Another outbound connection to the same cluster was there first.
    pub(crate) duplicate: bool,
    /// The other side refused us (credentials, name): wait before trying again.
    pub(crate) refused: bool,
}

/// Runs one gateway connection until it closes.
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
    let Some(gateways) = server.gateways() else {
        return Outcome::default();
    };
    let opts = server.options();
    let gw_opts = opts.gateway.clone().unwrap_or_default();
    let gid = server.next_client_id();
    let (is_outbound, configured) = match &side {
        Side::Accepted => (false, false),
        Side::Solicited { remote, .. } => (true, !remote.implicit),
    };
    let gw = Arc::new(Gateway::new(
        gid,
        addr,
        is_outbound,
        configured,
        opts.max_pending,
    ));
    let prefix = format!("{addr} - gid:{gid}");
    let write_deadline = gw_opts.write_deadline.unwrap_or(opts.write_deadline);
    let writer_gw = gw.clone();
    let writer_task = tokio::spawn(async move {
        writer_gw
            .outbound
            .run_writer_with(writer, write_deadline, DeadlinePolicy::Retry)
            .await
    });
    if !is_outbound {
        tracing::info!("{prefix} - Processing inbound gateway connection");
        let mut line = BytesMut::new();
        encode::write_info(&mut line, &gateways.info(&server).to_json());
        gw.send_line(&line);
    }
    let mut conn = GatewayConnection {
        server: server.clone(),
        gateways: gateways.clone(),
        gw: gw.clone(),
        side,
        prefix,
        connected: is_outbound,
        got_info: false,
        connect_gateway: String::new(),
        outcome: Outcome::default(),
        fanout: Fanout::new(gid),
        pings_out: 0,
        rtt_ping: None,
    };
    let handshake = gw_opts.auth_timeout.unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT);
    let reason = conn.run(reader, handshake).await;
    conn.fanout.wake_all();
    gw.outbound.close(reason);
    let _ = tokio::time::timeout(write_deadline + Duration::from_secs(1), writer_task).await;
    gateways.remove(&gw);
    if conn.outcome.registered {
        let name = gw.remote_name();
        if is_outbound {
            tracing::info!(
                "{} - Outbound gateway connection to {name:?} closed: {reason}",
                conn.prefix
            );
        } else {
            tracing::info!(
                "{} - Inbound gateway connection from {name:?} closed: {reason}",
                conn.prefix
            );
        }
    } else {
        tracing::debug!("{} - Gateway connection closed: {reason}", conn.prefix);
    }
    std::mem::take(&mut conn.outcome)
}

/// The read side of one gateway connection.
struct GatewayConnection {
    server: Arc<Server>,
    gateways: Arc<Gateways>,
    gw: Arc<Gateway>,
    side: Side,
    prefix: String,
    /// CONNECT was accepted (always true for the dialer).
    connected: bool,
    /// The other side's first INFO came.
    got_info: bool,
    /// The gateway name the dialer's CONNECT gave (its INFO must say the same).
    connect_gateway: String,
    outcome: Outcome,
    fanout: Fanout,
    pings_out: u32,
    rtt_ping: Option<Instant>,
}

impl GatewayConnection {
    async fn run<R: AsyncRead + Unpin>(
        &mut self,
        mut reader: R,
        handshake: Duration,
    ) -> CloseReason {
        let opts = self.server.options();
        let ping_interval = opts.ping_interval.min(GATEWAY_PING_MAX);
        let ping_timer = tokio::time::sleep(FIRST_PING.min(ping_interval));
        tokio::pin!(ping_timer);
        let handshake_timer = tokio::time::sleep(handshake);
        tokio::pin!(handshake_timer);
        let closing = self.gw.clone();
        let mut shutdown = self.server.shutdown_signal();
        let mut parser = RouteParser::new(
            opts.max_control_line.max(4096) * CONTROL_LINE_FACTOR,
            opts.max_payload.max(MAX_PAYLOAD),
        );
        let mut buf = BytesMut::with_capacity(READ_BUF);
        loop {
            if buf.capacity() - buf.len() < READ_BUF / 4 {
                buf.reserve(READ_BUF);
            }
            tokio::select! {
                biased;
                reason = closing.outbound.closed() => return reason,
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = &mut handshake_timer, if !self.outcome.registered => {
                    tracing::error!("{} - Gateway handshake timeout", self.prefix);
                    self.send_err("Authentication Timeout");
                    return CloseReason::AuthenticationTimeout;
                }
                read = reader.read_buf(&mut buf) => {
                    match read {
                        Ok(0) => return CloseReason::ClientClosed,
                        Ok(_) => {}
                        Err(_) => return CloseReason::ReadError,
                    }
                    self.gw.last_activity_ns.store(crate::route::now_nanos(), Ordering::Relaxed);
                    let outcome = self.process(&mut parser, &mut buf);
                    self.fanout.wake_all();
                    let stats = crate::stats::BatchStats {
                        out_msgs: std::mem::take(&mut self.fanout.out_msgs),
                        out_bytes: std::mem::take(&mut self.fanout.out_bytes),
                        ..Default::default()
                    };
                    self.server.stats().add(&stats);
                    if let Err(reason) = outcome {
                        return reason;
                    }
                    // Receivers falling behind slow this connection's
                    // reading, and so the other cluster's publishers.
                    for client in self.fanout.take_stalled() {
                        client.outbound.wait_drained().await;
                    }
                    for link in self.fanout.take_stalled_links() {
                        link.wait_drained().await;
                    }
                }
                _ = &mut ping_timer => {
                    ping_timer.as_mut().reset(Instant::now() + ping_interval);
                    if !self.outcome.registered {
                        continue;
                    }
                    if self.pings_out >= opts.ping_max.max(1) {
                        tracing::debug!("{} - Stale Gateway Connection - Closing", self.prefix);
                        return CloseReason::StaleConnection;
                    }
                    self.pings_out += 1;
                    self.rtt_ping = Some(Instant::now());
                    self.gw.send_line(encode::PING);
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
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(self.parse_failed(&e)),
            }
        };
        buf.advance(consumed);
        result
    }

    fn parse_failed(&mut self, e: &RouteParseError) -> CloseReason {
        tracing::error!("{} - Gateway parser ERROR: {e}", self.prefix);
        let (text, reason) = crate::route::parse_error_reply(e);
        self.send_err(text);
        reason
    }

    fn send_err(&self, text: &str) {
        let mut line = BytesMut::new();
        encode::write_err(&mut line, text);
        self.gw.send_line(&line);
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
                self.gw.send_line(encode::PONG);
                Ok(())
            }
            RouteOp::Pong => {
                self.pings_out = 0;
                if let Some(sent) = self.rtt_ping.take() {
                    let rtt = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    self.gw.rtt_ns.store(rtt.max(1), Ordering::Relaxed);
                }
                Ok(())
            }
            RouteOp::Ok => Ok(()),
            RouteOp::Err { text } => {
                let text = String::from_utf8_lossy(text);
                tracing::error!("{} - Gateway Error '{text}'", self.prefix);
                if text.contains("Authorization Violation") || text.contains("rejected") {
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
                let account = self.interest_account(account, "RS+")?;
                self.gw
                    .interest
                    .add(&account, subject, queue.map(|(q, _)| q));
                Ok(())
            }
            RouteOp::Unsub {
                account,
                subject,
                queue,
                ..
            } => {
                let account = self.interest_account(account, "RS-")?;
                self.gw.interest.remove(&account, subject, queue);
                Ok(())
            }
            RouteOp::AccountSub { account } => {
                let account = self.interest_account(Some(account), "A+")?;
                self.gw.interest.account_back(&account);
                Ok(())
            }
            RouteOp::AccountUnsub { account } => {
                let account = self.interest_account(Some(account), "A-")?;
                self.gw.interest.account_gone(&account);
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
                if self.gw.is_outbound || !self.outcome.registered {
                    tracing::error!(
                        "{} - Gateway message on an outbound connection",
                        self.prefix
                    );
                    return Err(CloseReason::ProtocolViolation);
                }
                let size = payload.len() + headers.map_or(0, <[u8]>::len);
                self.gw.count_in(size);
                self.server.stats().add_route_in(1, size as u64);
                let Some(name) = account else {
                    return Err(CloseReason::ProtocolViolation);
                };
                let Some(account) = std::str::from_utf8(name)
                    .ok()
                    .and_then(|n| self.server.find_account(n))
                else {
                    tracing::debug!(
                        "{} - Unknown account {:?} for gateway message",
                        self.prefix,
                        String::from_utf8_lossy(name)
                    );
                    self.gw.refuse_account(name);
                    return Ok(());
                };
                if let Some(h) = headers.filter(|h| msgtrace::may_ask(h, &account)) {
                    self.deliver_traced(&account, subject, reply, h, payload, queues);
                } else {
                    self.deliver(&account, subject, reply, headers, payload, queues);
                }
                Ok(())
            }
        }
    }

    /// The account of an interest line, which only the dialer may receive.
    fn interest_account(&self, account: Option<&[u8]>, what: &str) -> Result<String, CloseReason> {
        if !self.gw.is_outbound {
            tracing::error!(
                "{} - Received {what} from gateway on inbound connection",
                self.prefix
            );
            return Err(CloseReason::ProtocolViolation);
        }
        account
            .and_then(|a| std::str::from_utf8(a).ok())
            .map(str::to_string)
            .ok_or(CloseReason::ProtocolViolation)
    }

    /// A message whose headers may ask for a trace ([`crate::msgtrace`]).
    #[cold]
    fn deliver_traced(
        &mut self,
        account: &Arc<crate::accounts::Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: &[u8],
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let peer = self.gw.peer();
        let from = msgtrace::Ingress {
            kind: msgtrace::Kind::Gateway,
            cid: self.gw.gid,
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

    /// A message from the other cluster: to this cluster's subscribers
    /// (local ones, peers', leafs'), serving only the queue groups named.
    fn deliver(
        &mut self,
        account: &Arc<crate::accounts::Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
        queues: QueueList<'_>,
    ) {
        let mut msg = Message::new(subject, reply, headers, payload)
            .only_queues(queues)
            .gatewayed();
        if subject.starts_with(super::REPLY_PREFIX)
            && self
                .fanout
                .gateway_reply(&self.server, account, &mut msg, ReplyFrom::Gateway)
        {
            return;
        }
        let local = account.sublist.matches(subject);
        let remote = account.remote_matches(subject);
        if local.is_empty() && remote.is_none() {
            return;
        }
        self.fanout.fan_out_cluster(
            &self.server,
            account,
            &local,
            remote.as_deref(),
            &mut msg,
            None,
        );
    }

    /// The acceptor's check of the dialer's CONNECT.
    fn connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        if self.gw.is_outbound || self.connected {
            return Ok(());
        }
        let Ok(connect) = serde_json::from_slice::<GatewayConnect>(json) else {
            self.send_err("Invalid CONNECT");
            return Err(CloseReason::ProtocolViolation);
        };
        if connect.gateway.is_empty() {
            tracing::error!("{} - attempted to connect to gateway port", self.prefix);
            self.send_err("attempted to connect to gateway port");
            return Err(CloseReason::WrongPort);
        }
        let opts = self.server.options();
        if let Some(user) = opts.gateway.as_ref().and_then(|g| g.username.as_ref()) {
            let user_ok = connect.user.as_deref() == Some(user.as_str());
            let pass_ok = connect.pass.as_deref()
                == opts.gateway.as_ref().and_then(|g| g.password.as_deref());
            if !(user_ok && pass_ok) {
                tracing::error!(
                    "{} - authentication error - User \"{}\"",
                    self.prefix,
                    connect.user.as_deref().unwrap_or_default()
                );
                self.send_err("Authorization Violation");
                return Err(CloseReason::AuthenticationViolation);
            }
        }
        if self.gateways.reject_unknown && self.gateways.remote(&connect.gateway).is_none() {
            tracing::error!(
                "{} - Rejecting connection from gateway {:?}",
                self.prefix,
                connect.gateway
            );
            self.send_err(&format!(
                "Connection to gateway {:?} rejected",
                self.gateways.name
            ));
            return Err(CloseReason::WrongGateway);
        }
        self.connect_gateway = connect.gateway;
        self.connected = true;
        Ok(())
    }

    fn info(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let Ok(info) = serde_json::from_slice::<GatewayInfo>(json) else {
            tracing::error!("{} - Invalid gateway INFO", self.prefix);
            return Err(CloseReason::ProtocolViolation);
        };
        let first = !self.got_info;
        self.got_info = true;
        match self.side.clone() {
            Side::Solicited { remote, url } => self.outbound_info(info, first, &remote, &url),
            Side::Accepted if first => self.inbound_first_info(info),
            // Later INFOs on an inbound connection carry nothing for us.
            Side::Accepted => Ok(()),
        }
    }

    /// An INFO on the connection this server dialed.
    fn outbound_info(
        &mut self,
        info: GatewayInfo,
        first: bool,
        remote: &RemoteGateway,
        url: &str,
    ) -> Result<(), CloseReason> {
        if info.gateway.is_empty() {
            let text = format!(
                "Attempt to connect to gateway {:?} using wrong port",
                remote.name
            );
            tracing::error!("{} - {text}", self.prefix);
            self.send_err(&text);
            return Err(CloseReason::WrongPort);
        }
        if info.gateway != remote.name {
            if !first && info.gateway_cmd == info::CMD_GOSSIP {
                if !self.gateways.reject_unknown || self.gateways.remote(&info.gateway).is_some() {
                    super::dial::learn_and_dial(&self.server, &info.gateway, &info.gateway_urls);
                }
                return Ok(());
            }
            tracing::error!(
                "{} - Failing connection to gateway {:?}, remote gateway name is {:?}",
                self.prefix,
                remote.name,
                info.gateway
            );
            self.send_err(&format!(
                "Connection from {:?} rejected, wanted to connect to {:?}, this is {:?}",
                self.gateways.name, remote.name, info.gateway
            ));
            self.outcome.refused = true;
            return Err(CloseReason::WrongGateway);
        }
        if !info.gateway_urls.is_empty() {
            remote.add_urls(&info.gateway_urls);
        }
        if !first {
            let account = info.command_account();
            match (info.gateway_cmd, account) {
                (info::CMD_ALL_SUBS_START, Some(account)) => {
                    self.gw.interest.start_interest_only(&account);
                }
                (info::CMD_ALL_SUBS_COMPLETE, Some(account)) => {
                    self.gw.interest.complete_interest_only(&account);
                    // The other cluster now hears our system account:
                    // announce this server there (as nats-server does for
                    // a new gateway), so its servers count it at once.
                    if self
                        .server
                        .system_account()
                        .is_some_and(|s| s.name == account)
                    {
                        self.server.statsz_event();
                    }
                }
                (info::CMD_ALL_SUBS_START | info::CMD_ALL_SUBS_COMPLETE, None) => {
                    self.send_err("Account absent from receive-all-subscriptions command");
                    return Err(CloseReason::ProtocolViolation);
                }
                _ => {}
            }
            return Ok(());
        }
        self.gw.set_peer(
            GatewayPeer {
                id: info.server_id.clone(),
                name: info.server_name.clone(),
                gateway: info.gateway.clone(),
                proto: info.proto,
            },
            info.headers && !self.server.options().no_header_support,
        );
        self.gw.interest.set_interest_only(info.gateway_iom);
        let opts = self.server.options();
        let (user, pass) = match dial_credentials(url) {
            Some((user, pass)) => (Some(user), pass),
            None => (
                opts.gateway.as_ref().and_then(|g| g.username.clone()),
                opts.gateway.as_ref().and_then(|g| g.password.clone()),
            ),
        };
        let connect = GatewayConnect {
            user,
            pass,
            tls_required: remote.tls().is_some(),
            name: self.server.id().to_string(),
            gateway: self.gateways.name.clone(),
            ..GatewayConnect::default()
        };
        let mut lines = BytesMut::new();
        lines.extend_from_slice(b"CONNECT ");
        lines.extend_from_slice(&connect.to_json());
        lines.extend_from_slice(b"\r\n");
        encode::write_info(&mut lines, &self.gateways.info(&self.server).to_json());
        self.gw.send_line(&lines);
        if !self.gateways.register_outbound(&self.gw) {
            tracing::debug!(
                "{} - Duplicate outbound gateway to {:?}",
                self.prefix,
                info.gateway
            );
            self.outcome.duplicate = true;
            return Err(CloseReason::WrongGateway);
        }
        self.outcome.registered = true;
        tracing::info!(
            "{} - Outbound gateway connection to {:?} ({}) registered",
            self.prefix,
            info.gateway,
            info.server_id
        );
        self.first_ping();
        // The cluster's other servers make sure they connect there too.
        if let Some(cluster) = self.server.cluster() {
            let urls: Vec<String> = remote
                .urls()
                .iter()
                .map(|u| super::url_host_port(u).to_string())
                .collect();
            let line =
                Gateways::gossip_info(&format!("GW{}", self.server.id()), &info.gateway, urls);
            for route in cluster.routes() {
                route.send_line(&line);
            }
        }
        Ok(())
    }

    /// The dialer's INFO, after its CONNECT: the connection is registered as
    /// an inbound one, every account switched to interest-only mode on it,
    /// and the dialer told of the other gateways this server knows.
    fn inbound_first_info(&mut self, info: GatewayInfo) -> Result<(), CloseReason> {
        if info.gateway.is_empty() {
            return Err(CloseReason::WrongPort);
        }
        if info.gateway != self.connect_gateway {
            tracing::error!(
                "{} - Gateway INFO names {:?}, its CONNECT {:?}",
                self.prefix,
                info.gateway,
                self.connect_gateway
            );
            return Err(CloseReason::WrongGateway);
        }
        self.gw.set_peer(
            GatewayPeer {
                id: info.server_id.clone(),
                name: info.server_name.clone(),
                gateway: info.gateway.clone(),
                proto: info.proto,
            },
            info.headers && !self.server.options().no_header_support,
        );
        self.gateways.add_inbound(&self.gw);
        self.outcome.registered = true;
        tracing::info!(
            "{} - Inbound gateway connection from {:?} ({}) registered",
            self.prefix,
            info.gateway,
            info.server_id
        );
        self.gateways.switch_all(&self.server, &self.gw);
        let mut urls = info.gateway_urls.clone();
        if !info.gateway_url.is_empty() && !urls.contains(&info.gateway_url) {
            urls.push(info.gateway_url.clone());
        }
        super::dial::learn_and_dial(&self.server, &info.gateway, &urls);
        for remote in self.gateways.remotes() {
            if remote.name == info.gateway {
                continue;
            }
            let urls: Vec<String> = remote
                .urls()
                .iter()
                .map(|u| super::url_host_port(u).to_string())
                .collect();
            if !urls.is_empty() {
                self.gw
                    .send_line(&Gateways::gossip_info(self.server.id(), &remote.name, urls));
            }
        }
        self.first_ping();
        Ok(())
    }

    fn first_ping(&mut self) {
        self.rtt_ping = Some(Instant::now());
        self.pings_out += 1;
        self.gw.send_line(encode::PING);
    }
}

/// The user and password of a dialed URL, if it has them.
fn dial_credentials(url: &str) -> Option<(String, Option<String>)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (userinfo, _) = rest.rsplit_once('@')?;
    Some(match userinfo.split_once(':') {
        Some((user, pass)) => (user.to_string(), Some(pass.to_string())),
        None => (userinfo.to_string(), None),
    })
}
