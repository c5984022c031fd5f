//! The connection task: reads the client's bytes, parses operations and acts on
//! them; keeps the client alive with PINGs; and closes it cleanly, flushing what
//! was queued (nats-server's `readLoop`, `processConnect`, `processSub`, ...).
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Buf, BytesMut};
use gannet_proto::{encode, subject, ClientOp, Limits, ParseError, Parser};
use rustls_pki_types::CertificateDer;
use tokio::io::AsyncWrite;
use tokio::time::Instant;

use super::auth::Identity;
use super::cache::MatchCache;
use super::connect::ConnectOptions;
use super::idle::{IdleTimer, IDLE_RELEASE};
use super::reader::{read_some, ClientReader};
use super::{ClientShared, CloseReason};
use crate::accounts::Account;
use crate::fanout::Fanout;
use crate::info::ServerInfo;
use crate::server::{Server, ACCOUNT_CONNS_EXCEEDED};
use crate::stats::BatchStats;
use crate::subscription::{self, Subscriber, Subscription};

/// First size of a connection's reads; it doubles each time a read fills the
/// buffer (busy publishers get big batches) and halves when reads stay small (idle
/// connections stay cheap).
const READ_BUF_START: usize = 512;
/// Largest read size the buffer grows to for batching (a message larger than this
/// still gets the room it needs): big reads from a publisher that keeps the
/// socket full take fewer system calls and acknowledgements.
const READ_BUF_MAX: usize = 1024 * 1024;
/// Read size a publisher falls back to when a batch it read had to wait
/// for a subscriber.
const READ_BUF_STALLED: usize = 64 * 1024;
/// A read buffer with more room than this is given back after [`IDLE_RELEASE`]
/// without reads.
const READ_BUF_IDLE_KEEP: usize = 4 * READ_BUF_START;
/// The text of the `-ERR` for failed authentication.
pub(super) const AUTH_VIOLATION: &str = "Authorization Violation";

/// The first server PING comes no later than this after the connection starts.
const FIRST_PING_MAX: Duration = Duration::from_secs(2);

/// What the listener learned about a connection before its client task starts.
#[derive(Debug)]
pub struct Setup {
    pub cid: u64,
    pub addr: SocketAddr,
    /// The INFO this client was (or is to be) sent. Boxed, and dropped once
    /// sent: the client task's future keeps room for what it was given, for
    /// as long as it runs.
    pub info: Box<ServerInfo>,
    /// INFO was already written (before a TLS handshake).
    pub info_sent: bool,
    /// The connection runs over TLS.
    pub tls: bool,
    /// The client's verified certificate chain, leaf first.
    pub peer_certs: Vec<CertificateDer<'static>>,
}

/// Runs one client connection until it closes.
pub async fn serve<R, W>(server: Arc<Server>, reader: R, writer: W, setup: Setup)
where
    R: ClientReader,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let opts = server.options();
    let Setup {
        cid,
        addr,
        info,
        info_sent,
        tls,
        peer_certs,
    } = setup;
    let shared = Arc::new(ClientShared::new(cid, addr, opts.max_pending));
    let prefix = format!("{addr} - cid:{cid}");
    tracing::debug!("{prefix} - Client connection created");

    if !info_sent {
        let mut first = BytesMut::new();
        encode::write_info(&mut first, &info.to_json());
        shared.outbound.send_now(&first);
    }

    let write_deadline = opts.write_deadline;
    let writer_shared = shared.clone();
    let writer_task = tokio::spawn(async move {
        writer_shared
            .outbound
            .run_writer(writer, write_deadline)
            .await
    });

    let over_limit = server.register(shared.clone()) > opts.max_connections;
    let mut info = info;
    let nonce = info.nonce.take().map(String::into_boxed_str);
    drop(info);
    let (reason, closed) = if over_limit {
        tracing::error!("{prefix} - Maximum connections exceeded");
        shared
            .outbound
            .send_now(&err_line("maximum connections exceeded"));
        (CloseReason::MaxConnectionsExceeded, None)
    } else {
        let mut conn = Connection::new(server.clone(), shared.clone(), prefix.clone(), nonce);
        conn.identity.tls = tls;
        conn.identity.peer_certs = peer_certs;
        let reason = conn.run(reader).await;
        // Taken before the subscriptions go, so `/connz?state=closed` lists them.
        let closed = shared.snapshot();
        conn.remove_all_subscriptions();
        conn.closed_events(reason);
        (reason, Some(closed))
    };
    shared.outbound.close(reason);
    if reason.is_slow_consumer() {
        // Nothing more is owed to a slow consumer; a write stuck on its full socket
        // must not hold the connection open.
        writer_task.abort();
        if reason == CloseReason::SlowConsumerWriteDeadline {
            server
                .stats()
                .slow_consumers
                .fetch_add(1, Ordering::Relaxed);
        }
    } else {
        // Let the writer flush what is queued (a final -ERR), within the write deadline.
        let _ = tokio::time::timeout(write_deadline + Duration::from_secs(1), writer_task).await;
    }
    if reason == CloseReason::StaleConnection {
        server
            .stats()
            .stale_connections
            .fetch_add(1, Ordering::Relaxed);
    }
    server.unregister(cid);
    crate::heap::note_freed();
    let mut snapshot = closed.unwrap_or_else(|| shared.snapshot());
    snapshot.stop = Some(SystemTime::now());
    snapshot.reason = Some(reason);
    server.record_closed(snapshot);
    tracing::debug!("{prefix} - Client connection closed: {reason}");
}

fn err_line(text: &str) -> BytesMut {
    let mut b = BytesMut::new();
    encode::write_err(&mut b, text);
    b
}

/// The read side of one client: its parser, options and per-batch state.
pub(super) struct Connection {
    pub(super) server: Arc<Server>,
    pub(super) shared: Arc<ClientShared>,
    pub(super) account: Arc<Account>,
    pub(super) prefix: String,
    pub(super) opts: ConnectOptions,
    /// The nonce this client's INFO carried, for a signed CONNECT to sign.
    pub(super) nonce: Option<Box<str>>,
    /// Who the client is and what it may do.
    pub(super) identity: Identity,
    pub(super) connected: bool,
    /// Authentication is required and has not happened yet.
    awaiting_auth: bool,
    /// An account the CONNECT's user JWT names that this server does not
    /// know: asked of the other servers before the CONNECT is handled
    /// (once per connection: `fetched` then stays set).
    fetch_account: Option<String>,
    fetched: bool,
    /// The client has joined its account (counted in CONNS, owed a DISCONNECT).
    pub(super) joined: bool,
    /// The user name of a failed login, for its DISCONNECT event.
    failed_user: Option<String>,
    /// When the client's credentials expire (a user JWT's `exp`), once
    /// authenticated; `expiry_changed` says the timer must be set again.
    pub(super) auth_expires: Option<(Instant, super::auth::Expiry)>,
    pub(super) expiry_changed: bool,
    sent_connect_info: bool,
    pub(super) parser: Parser,
    pub(super) cache: MatchCache,
    /// Where this batch's messages went; its touched writers are woken at the
    /// batch's end.
    pub(super) fanout: Fanout,
    pub(super) batch: BatchStats,
    /// The most subscriptions the client may hold (`None` = no limit).
    pub(super) max_subscriptions: Option<usize>,
    pings_out: u32,
    first_ping_sent: bool,
    /// When the PING whose PONG measures the round trip was sent.
    rtt_ping: Option<Instant>,
    last_in: Instant,
}

impl Connection {
    fn new(
        server: Arc<Server>,
        shared: Arc<ClientShared>,
        prefix: String,
        nonce: Option<Box<str>>,
    ) -> Connection {
        let opts = server.options();
        let limits = Limits {
            max_control_line: opts.max_control_line,
            max_payload: opts.max_payload,
        };
        Connection {
            account: server.global_account(),
            fanout: Fanout::new(shared.cid),
            shared,
            prefix,
            opts: ConnectOptions::default(),
            nonce,
            identity: Identity::default(),
            connected: false,
            awaiting_auth: server.authenticator().auth_required(),
            fetch_account: None,
            fetched: false,
            joined: false,
            failed_user: None,
            auth_expires: None,
            expiry_changed: false,
            sent_connect_info: false,
            parser: Parser::new(limits),
            cache: MatchCache::default(),
            batch: BatchStats::default(),
            max_subscriptions: (opts.max_subscriptions > 0).then_some(opts.max_subscriptions),
            pings_out: 0,
            first_ping_sent: false,
            rtt_ping: None,
            last_in: Instant::now(),
            server,
        }
    }

    /// Takes the payload and control line limits of a reloaded
    /// configuration (a user JWT's own payload limit is applied again by
    /// the reauthorization that follows).
    fn take_reloaded_limits(&mut self) {
        let opts = self.server.options();
        self.parser.set_limits(Limits {
            max_control_line: opts.max_control_line,
            max_payload: opts.max_payload,
        });
    }

    /// Reads and handles operations until the connection must close.
    async fn run<R: ClientReader>(&mut self, mut reader: R) -> CloseReason {
        let opts = self.server.options();
        let ping_interval = opts.ping_interval;
        let ping_timer = tokio::time::sleep(ping_interval.min(FIRST_PING_MAX));
        tokio::pin!(ping_timer);
        let closing = self.shared.clone();
        let mut shutdown = self.server.shutdown_signal();
        let mut reloads = self.server.reload_signal();
        // One timer for two deadlines, one after the other: the login's
        // (`auth_timeout`), then, once logged in, the credentials' expiry (a
        // user JWT's `exp`), when they have one.
        let deadline = tokio::time::sleep(opts.auth_timeout);
        tokio::pin!(deadline);
        let mut read_size = READ_BUF_START;
        // Empty until there is something to read (see `reader`).
        let mut buf = BytesMut::new();
        let mut idle_release = IdleTimer::default();
        let mut expiry_armed = false;
        loop {
            if self.expiry_changed {
                self.expiry_changed = false;
                expiry_armed = self.auth_expires.is_some();
                if let Some((at, _)) = self.auth_expires {
                    deadline.as_mut().reset(at);
                }
            }
            tokio::select! {
                biased;
                reason = closing.outbound.closed() => return reason,
                _ = shutdown.changed() => return CloseReason::ServerShutdown,
                _ = &mut deadline, if self.awaiting_auth || expiry_armed => {
                    if self.awaiting_auth {
                        tracing::error!("{} - Authentication Timeout", self.prefix);
                        self.send_err("Authentication Timeout");
                        self.flush();
                        return CloseReason::AuthenticationTimeout;
                    }
                    let message = self.auth_expires.map_or("User Authentication Expired", |(_, e)| e.message());
                    tracing::info!("{} - {message}", self.prefix);
                    self.send_err(message);
                    self.flush();
                    return CloseReason::AuthenticationExpired;
                }
                _ = reloads.changed() => {
                    self.take_reloaded_limits();
                    let outcome = self.reauthorize();
                    self.flush();
                    if let Err(reason) = outcome {
                        return reason;
                    }
                }
                read = read_some(&mut reader, &mut buf, read_size) => {
                    let n = match read {
                        Ok(0) => return CloseReason::ClientClosed,
                        Ok(n) => n,
                        Err(_) => return CloseReason::ReadError,
                    };
                    // Whether the read filled the room it had.
                    let filled = buf.len() == buf.capacity();
                    self.last_in = Instant::now();
                    self.shared
                        .activity
                        .last_activity_ns
                        .store(super::unix_nanos(SystemTime::now()), Ordering::Relaxed);
                    let outcome = self.process(&mut buf);
                    self.flush();
                    if let Err(reason) = outcome {
                        return reason;
                    }
                    if let Some(key) = self.fetch_account.take() {
                        // Boxed, as below: rare waits, kept out of the
                        // future every connection holds.
                        Box::pin(crate::resolver::fetch(&self.server, &key)).await;
                        let outcome = self.process(&mut buf);
                        self.flush();
                        if let Err(reason) = outcome {
                            return reason;
                        }
                    }
                    let stalled = self.fanout.has_stalled();
                    if !opts.no_fast_producer_stall && stalled {
                        Box::pin(self.stall()).await;
                    }
                    if stalled {
                        // What one read brought was more than a subscriber
                        // could take at once: smaller reads from now on.
                        if read_size > READ_BUF_STALLED {
                            read_size = (read_size / 2).max(READ_BUF_STALLED);
                        }
                    } else if filled {
                        read_size = (read_size * 2).min(READ_BUF_MAX);
                    } else {
                        if n < read_size / 4 && read_size > READ_BUF_START {
                            read_size /= 2;
                        }
                        // All taken and nothing more waiting: the buffer goes
                        // until the next read (a busy client, whose reads fill
                        // it, keeps it; so does one that cannot wait without
                        // it, which would only take a new one at once).
                        if buf.is_empty() && R::WAITS_FOR_DATA {
                            buf = BytesMut::new();
                        }
                    }
                }
                () = idle_release.due(), if read_size > READ_BUF_START
                    || buf.capacity() > READ_BUF_IDLE_KEEP =>
                {
                    let now = Instant::now();
                    let quiet_until = self.last_in + IDLE_RELEASE;
                    if quiet_until > now {
                        idle_release.reset(quiet_until);
                    } else if buf.is_empty() {
                        read_size = READ_BUF_START;
                        buf = BytesMut::new();
                        idle_release.disarm();
                        crate::heap::note_freed();
                    } else {
                        // A partial operation keeps its buffer until the rest comes.
                        idle_release.reset(now + IDLE_RELEASE);
                    }
                }
                _ = &mut ping_timer => {
                    ping_timer.as_mut().reset(Instant::now() + ping_interval);
                    if let Err(reason) = self.ping_timer(ping_interval) {
                        self.flush();
                        return reason;
                    }
                    self.flush();
                }
            }
        }
    }

    /// Handles every complete operation in `buf` and drops the bytes consumed.
    fn process(&mut self, buf: &mut BytesMut) -> Result<(), CloseReason> {
        let mut consumed = 0;
        let result = loop {
            match self.parser.parse(&buf[consumed..]) {
                Ok(Some((op, n))) => {
                    if let ClientOp::Connect { json } = &op {
                        if let Some(key) = self.account_to_fetch(json) {
                            // Left unconsumed: handled again once the
                            // account has been asked for.
                            self.parser.reset();
                            self.fetch_account = Some(key);
                            break Ok(());
                        }
                    }
                    consumed += n;
                    if let Err(reason) = self.handle(op) {
                        break Err(reason);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => {
                    if e == ParseError::MaxPayload {
                        self.trace_oversized(&buf[consumed..]);
                    }
                    break Err(self.parse_failed(e));
                }
            }
        };
        buf.advance(consumed);
        self.batch.out_msgs = std::mem::take(&mut self.fanout.out_msgs);
        self.batch.routed_msgs = std::mem::take(&mut self.fanout.routed_msgs);
        self.batch.routed_bytes = std::mem::take(&mut self.fanout.routed_bytes);
        self.batch.out_bytes = std::mem::take(&mut self.fanout.out_bytes);
        self.server.stats().add(&self.batch);
        self.account
            .add_received(self.batch.in_msgs, self.batch.in_bytes);
        if self.batch.in_msgs > 0 {
            let activity = &self.shared.activity;
            activity
                .in_msgs
                .fetch_add(self.batch.in_msgs, Ordering::Relaxed);
            activity
                .in_bytes
                .fetch_add(self.batch.in_bytes, Ordering::Relaxed);
        }
        self.batch = BatchStats::default();
        result
    }

    fn parse_failed(&mut self, e: ParseError) -> CloseReason {
        if let Some(text) = e.client_error() {
            self.send_err(text);
        }
        tracing::debug!("{} - Client parser ERROR: {e}", self.prefix);
        match e {
            ParseError::MaxPayload => CloseReason::MaxPayloadExceeded,
            ParseError::MaxControlLine => CloseReason::MaxControlLineExceeded,
            _ => CloseReason::ParseError,
        }
    }

    fn handle(&mut self, op: ClientOp<'_>) -> Result<(), CloseReason> {
        if tracing::enabled!(tracing::Level::TRACE) {
            super::trace::trace_op(&self.prefix, &op);
        }
        if self.awaiting_auth && !matches!(op, ClientOp::Connect { .. }) {
            self.send_err(AUTH_VIOLATION);
            return Err(CloseReason::AuthenticationViolation);
        }
        match op {
            ClientOp::Pub {
                subject,
                reply,
                payload,
            } => self.publish(subject, reply, None, payload),
            ClientOp::HPub {
                subject,
                reply,
                headers,
                payload,
            } => {
                if !self.opts.headers {
                    tracing::debug!("{} - message headers not supported", self.prefix);
                    return Err(CloseReason::ProtocolViolation);
                }
                self.publish(subject, reply, Some(headers), payload)
            }
            ClientOp::Sub {
                subject,
                queue,
                sid,
            } => {
                self.subscribe(subject, queue, sid);
                Ok(())
            }
            ClientOp::Unsub { sid, max } => {
                self.unsubscribe(sid, max);
                Ok(())
            }
            ClientOp::Ping => {
                self.send(encode::PONG);
                if self.connected && self.opts.protocol >= 1 && !self.sent_connect_info {
                    self.sent_connect_info = true;
                    let addr = self
                        .shared
                        .meta
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .addr;
                    let mut info = self.server.client_info(self.shared.cid, addr);
                    info.nonce = None;
                    info.connect_info = true;
                    info.remote_account = Some(self.account.name.clone());
                    let mut line = BytesMut::new();
                    encode::write_info(&mut line, &info.to_json());
                    self.send(&line);
                }
                Ok(())
            }
            ClientOp::Pong => {
                self.pings_out = 0;
                if let Some(sent) = self.rtt_ping.take() {
                    let rtt = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    self.shared
                        .activity
                        .rtt_ns
                        .store(rtt.max(1), Ordering::Relaxed);
                }
                Ok(())
            }
            ClientOp::Connect { json } => self.connect(json),
            ClientOp::Info | ClientOp::Ok => Ok(()),
            ClientOp::Err => Err(CloseReason::ClientClosed),
        }
    }

    /// In operator mode with a directory resolver, the account of the user
    /// JWT in a first CONNECT when this server does not know it yet.
    fn account_to_fetch(&mut self, json: &[u8]) -> Option<String> {
        if self.fetched || !self.awaiting_auth {
            return None;
        }
        let key = crate::resolver::unknown_account(&self.server, json)?;
        self.fetched = true;
        Some(key)
    }

    fn connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        let opts = match ConnectOptions::parse(json) {
            Ok(o) => o,
            Err(e) => {
                if let Some(text) = e.client_error() {
                    self.send_err(text);
                }
                tracing::debug!("{} - CONNECT refused: {e}", self.prefix);
                return Err(CloseReason::ProtocolViolation);
            }
        };
        {
            let mut meta = self.shared.meta.lock().unwrap_or_else(|e| e.into_inner());
            meta.name.clone_from(&opts.name);
            meta.lang.clone_from(&opts.lang);
            meta.version.clone_from(&opts.version);
        }
        if self.server.authenticator().auth_required() {
            if let Err(reason) = self.authenticate(&opts) {
                tracing::error!("{} - authentication error: {reason}", self.prefix);
                self.failed_user.clone_from(&opts.user);
                let facts = self.shared.event_facts(crate::accounts::GLOBAL_ACCOUNT);
                self.server.auth_error_event(&facts, opts.user.clone());
                self.send_err(AUTH_VIOLATION);
                return Err(CloseReason::AuthenticationViolation);
            }
            self.awaiting_auth = false;
        }
        if self.max_subscriptions == Some(0) {
            // A JWT user allowed no subscription at all (nats-server cuts it so).
            tracing::error!("{} - maximum subscriptions exceeded", self.prefix);
            self.send_err("maximum subscriptions exceeded");
            return Err(CloseReason::MaxSubscriptionsExceeded);
        }
        if !self.joined {
            if let Some(max) = self.server.account_clients_full(&self.account) {
                tracing::error!(
                    "{} - {ACCOUNT_CONNS_EXCEEDED} ({max}) for account {}",
                    self.prefix,
                    self.account.name
                );
                self.send_err(ACCOUNT_CONNS_EXCEEDED);
                return Err(CloseReason::MaxAccountConnectionsExceeded);
            }
        }
        self.shared
            .headers
            .store(opts.headers, std::sync::atomic::Ordering::Relaxed);
        self.opts = opts;
        self.connected = true;
        self.ok();
        if !self.joined {
            self.joined = true;
            self.shared
                .meta
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .account
                .clone_from(&self.account.name);
            self.account.client_joined();
            let facts = self.shared.event_facts(&self.account.name);
            self.server.client_connect_event(&self.account, &facts);
        }
        Ok(())
    }

    fn subscribe(&mut self, subj: &[u8], queue: Option<&[u8]>, sid: &[u8]) {
        if !subject::is_valid_subscribe_subject(subj)
            || queue.is_some_and(|q| !subject::is_valid_queue_name(q))
        {
            self.send_err("Invalid Subject");
            return;
        }
        if let Some(perms) = &self.identity.perms {
            if !perms.can_subscribe(subj, queue) {
                let subject = String::from_utf8_lossy(subj);
                let text = match queue {
                    Some(q) => format!(
                        "Permissions Violation for Subscription to \"{subject}\" using queue \"{}\"",
                        String::from_utf8_lossy(q)
                    ),
                    None => format!("Permissions Violation for Subscription to \"{subject}\""),
                };
                self.permission_violation(&text);
                return;
            }
        }
        let sub = {
            let mut subs = self.shared.subs_lock();
            if subs.contains(sid) {
                drop(subs);
                self.ok();
                return;
            }
            if self.max_subscriptions.is_some_and(|max| subs.len() >= max) {
                drop(subs);
                tracing::error!("{} - maximum subscriptions exceeded", self.prefix);
                self.send_err("maximum subscriptions exceeded");
                return;
            }
            let sub = Arc::new(Subscription::new(
                Subscriber::Client(self.shared.clone()),
                &self.account,
                subj,
                queue,
                sid,
            ));
            subs.insert(sub.clone());
            sub
        };
        if self.account.subscribe(&sub).is_err() {
            self.shared.subs_lock().remove(sid);
            self.send_err("Invalid Subject");
            return;
        }
        self.ok();
    }

    fn unsubscribe(&mut self, sid: &[u8], max: Option<u64>) {
        let sub = self.shared.subs_lock().get(sid).cloned();
        if let Some(sub) = sub {
            let remove_now = match max {
                Some(max) if max > 0 => sub.set_max(max),
                _ => true,
            };
            if remove_now {
                subscription::end(&sub);
            }
        }
        self.ok();
    }

    /// The events a closing client is owed: CONNS and DISCONNECT in its account,
    /// or, for a failed or missing login, DISCONNECT in `$G`.
    fn closed_events(&mut self, reason: CloseReason) {
        if self.joined {
            let facts = self.shared.event_facts(&self.account.name);
            self.account
                .client_left(facts.received, reason.is_slow_consumer());
            self.server.client_disconnect_event(
                Some(&self.account),
                &facts,
                reason,
                self.identity.user.clone(),
            );
        } else if matches!(
            reason,
            CloseReason::AuthenticationViolation | CloseReason::AuthenticationTimeout
        ) {
            let facts = self.shared.event_facts(crate::accounts::GLOBAL_ACCOUNT);
            self.server
                .client_disconnect_event(None, &facts, reason, self.failed_user.clone());
        }
    }

    /// Drops every subscription of this client from the index.
    fn remove_all_subscriptions(&mut self) {
        let subs: Vec<Arc<Subscription>> = self.shared.subs_lock().drain().collect();
        for sub in subs {
            if let Some(account) = sub.account() {
                account.unsubscribe(&sub);
            }
        }
    }

    fn ping_timer(&mut self, interval: Duration) -> Result<(), CloseReason> {
        let ping_max = self.server.options().ping_max;
        if self.pings_out + 1 > ping_max {
            tracing::debug!("{} - Stale Client Connection - Closing", self.prefix);
            self.send_err("Stale Connection");
            return Err(CloseReason::StaleConnection);
        }
        if self.first_ping_sent && self.last_in.elapsed() < interval {
            // The client is active: no need to probe it.
            return Ok(());
        }
        if !self.first_ping_sent {
            self.rtt_ping = Some(Instant::now());
        }
        self.first_ping_sent = true;
        self.pings_out += 1;
        self.send(encode::PING);
        Ok(())
    }

    /// Queues protocol bytes for this client.
    pub(super) fn send(&mut self, data: &[u8]) {
        let out = &self.shared.outbound;
        let mut p = out.lock();
        if p.is_closed() {
            return;
        }
        p.put(data);
        out.commit(&mut p, data.len());
        drop(p);
        self.fanout.touch(&self.shared);
    }

    pub(super) fn send_err(&mut self, text: &str) {
        tracing::trace!("{} - ->> [-ERR '{text}']", self.prefix);
        self.send(&err_line(text));
    }

    /// `+OK` when the client asked for verbose replies.
    pub(super) fn ok(&mut self) {
        if self.opts.verbose {
            self.send(encode::OK);
        }
    }

    /// Waits (briefly) for receivers this batch filled up, before reading more.
    async fn stall(&mut self) {
        for client in self.fanout.take_stalled() {
            if client.cid != self.shared.cid {
                client.outbound.wait_drained().await;
            }
        }
        for link in self.fanout.take_stalled_links() {
            link.wait_drained().await;
        }
    }

    /// Wakes the writers of every client given data in this batch.
    fn flush(&mut self) {
        self.fanout.wake_all();
    }
}
