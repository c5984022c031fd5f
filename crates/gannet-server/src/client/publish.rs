//! Publishing: finding a message's subscribers and writing it into their outbound
//! queues (nats-server's `processInboundClientMsg` and `deliverMsg`). This is the
//! hot path: one index lookup per message (usually from the client's own cache),
//! no lock but each receiver's short outbound lock, no allocation for small
//! payloads, and one shared copy of a large payload for the whole fan-out.
use bytes::{BufMut, Bytes, BytesMut};
use gannet_proto::msg_line::LineEnd;
use gannet_sublist::MatchResult;

use super::cache::MatchCache;
use super::connection::{remove_subscription, Connection};
use super::outbound::COPY_THRESHOLD;
use super::CloseReason;
use crate::accounts::Account;
use crate::imports::{self, AccountRoutes};
use crate::subscription::{Admit, SubRef};

/// The status line and header the reference sends when a request has no responders.
const NO_RESPONDERS_HEAD: &[u8] = b"NATS/1.0 503\r\nNats-Subject: ";

/// One message on its way to subscribers.
pub(crate) struct Message<'a> {
    pub(crate) subject: &'a [u8],
    pub(crate) reply: Option<&'a [u8]>,
    pub(crate) headers: Option<&'a [u8]>,
    pub(crate) payload: &'a [u8],
    /// The payload as shared bytes, made on first need for a large payload.
    shared: Option<Bytes>,
    /// The sizes that end its control line, the same for every receiver, made
    /// on first need: for the `MSG` form and for the `HMSG` form.
    line_ends: [Option<LineEnd>; 2],
}

impl<'a> Message<'a> {
    pub(crate) fn new(
        subject: &'a [u8],
        reply: Option<&'a [u8]>,
        headers: Option<&'a [u8]>,
        payload: &'a [u8],
    ) -> Message<'a> {
        Message {
            subject,
            reply,
            headers,
            payload,
            shared: None,
            line_ends: [None; 2],
        }
    }

    /// Writes the control line for `sub`: `MSG` or, with `headers`, `HMSG`. The
    /// sizes are formatted once per message and a literal subscription's start
    /// is ready made, so a fan-out pays for a few copies per receiver.
    #[inline]
    fn write_line(&mut self, tail: &mut BytesMut, sub: &SubRef, headers: Option<&[u8]>) {
        match sub.line_start() {
            Some(start) => {
                // A literal subscription only matches its own subject.
                debug_assert_eq!(start.subject(), self.subject);
                tail.put_slice(if headers.is_some() {
                    start.hmsg()
                } else {
                    start.msg()
                });
            }
            None => {
                tail.put_slice(if headers.is_some() { b"HMSG " } else { b"MSG " });
                tail.put_slice(self.subject);
                tail.put_u8(b' ');
                tail.put_slice(sub.sid());
            }
        }
        if let Some(reply) = self.reply {
            tail.put_u8(b' ');
            tail.put_slice(reply);
        }
        let payload_len = self.payload.len();
        let end =
            self.line_ends[usize::from(headers.is_some())].get_or_insert_with(|| match headers {
                None => LineEnd::msg(payload_len),
                Some(h) => LineEnd::hmsg(h.len(), h.len() + payload_len),
            });
        tail.put_slice(end.as_bytes());
    }
}

/// What writing a message into one subscriber's queue came to.
pub(crate) enum Delivery {
    /// Not for this subscriber (permissions, ended subscription, closing client).
    Skipped,
    /// The subscriber just became a slow consumer and is being cut.
    SlowConsumer,
    /// Queued: `bytes` of payload; `last` = the subscription has had its last
    /// message; `stall` = the queue is full enough that the publisher should wait.
    Written { bytes: u64, last: bool, stall: bool },
}

/// Writes one message into one subscriber's outbound queue (without waking its
/// writer: the caller does that once per batch).
#[inline]
pub(crate) fn write_message(sub: &SubRef, msg: &mut Message<'_>) -> Delivery {
    let client = &sub.client;
    if !client.admit_delivery(msg.subject, sub.queue.as_deref(), msg.reply) {
        return Delivery::Skipped;
    }
    let admit = sub.admit();
    if admit == Admit::Expired {
        return Delivery::Skipped;
    }
    let headers = match msg.headers {
        Some(h) if client.supports_headers() => Some(h),
        _ => None,
    };
    let payload_len = msg.payload.len();
    let out = &client.outbound;
    let mut pending = out.lock();
    if pending.is_closed() {
        return Delivery::Skipped;
    }
    // Room for the whole message, so the appends below never reallocate: the
    // MSG line (verb, spaces, two sizes, CRLF) is at most 48 bytes besides its
    // subject, sid and reply.
    let copied = if payload_len <= COPY_THRESHOLD {
        payload_len
    } else {
        0
    };
    let room = 48
        + msg.subject.len()
        + sub.sid().len()
        + msg.reply.map_or(0, <[u8]>::len)
        + headers.map_or(0, <[u8]>::len)
        + copied
        + 2;
    let tail = pending.tail(room);
    let start = tail.len();
    msg.write_line(tail, sub, headers);
    let mut added = tail.len() - start;
    if let Some(h) = headers {
        pending.put(h);
        added += h.len();
    }
    if payload_len <= COPY_THRESHOLD {
        pending.put(msg.payload);
    } else {
        let shared = msg
            .shared
            .get_or_insert_with(|| Bytes::copy_from_slice(msg.payload))
            .clone();
        pending.push_shared(shared);
    }
    pending.put(b"\r\n");
    added += payload_len + 2;
    let bytes = (payload_len + headers.map_or(0, <[u8]>::len)) as u64;
    pending.out_msgs += 1;
    pending.out_bytes += bytes;
    if !out.commit(&mut pending, added) {
        return Delivery::SlowConsumer;
    }
    Delivery::Written {
        bytes,
        last: admit == Admit::DeliverLast,
        stall: out.should_stall(&pending),
    }
}

impl Connection {
    /// Handles PUB and HPUB.
    pub(super) fn publish(
        &mut self,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> Result<(), CloseReason> {
        self.batch.in_msgs += 1;
        self.batch.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        if let Some(perms) = &self.perms {
            if !self.pub_cache.check(perms, subject) && !self.shared.take_response(subject) {
                let text = format!(
                    "Permissions Violation for Publish to \"{}\"",
                    String::from_utf8_lossy(subject)
                );
                self.permission_violation(&text);
                return Ok(());
            }
        }

        // The cache is taken out while delivering so that `self` stays free to use.
        let mut cache = std::mem::take(&mut self.cache);
        match cache.lookup(&self.account.sublist, subject) {
            None => {
                if self.opts.pedantic {
                    self.send_err("Invalid Publish Subject");
                }
            }
            Some(cached) => {
                if cached.wildcard && self.opts.pedantic {
                    self.send_err("Invalid Publish Subject");
                }
                self.ok();
                let mut msg = Message::new(subject, reply, headers, payload);
                // A `$SYS.REQ.` service answers before the message is routed; one
                // that owns the subject counts as a responder.
                let mut answered = match reply {
                    Some(reply) if subject.first() == Some(&b'$') => {
                        self.system_request(subject, reply, payload)
                    }
                    _ => false,
                };
                // Only accounts with imports or exports pay for an `Arc` clone.
                if self.account.routes().is_some() {
                    let account = self.account.clone();
                    if let Some(routes) = account.routes() {
                        answered |= self.cross_accounts(routes, subject, reply, headers, payload);
                    }
                }
                let result = &cached.result;
                if result.plain.is_empty() && result.queues.is_empty() {
                    if let Some(reply) = reply.filter(|_| !answered) {
                        if self.opts.no_responders {
                            self.no_responders(&mut cache, subject, reply);
                        }
                    }
                } else {
                    self.fan_out(result, &mut msg);
                }
            }
        }
        self.cache = cache;
        Ok(())
    }

    /// Delivers a message into the other accounts that import it: streams to
    /// their importers, requests to imported services (with a reply subject made
    /// up in the service's account), and service replies back to the requester's
    /// account. Returns true when a request went to a service.
    fn cross_accounts(
        &mut self,
        routes: &AccountRoutes,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> bool {
        if let Some(back) = routes.take_reply(subject) {
            self.deliver_in(&back.requester, &back.reply, None, headers, payload);
        }
        for route in &routes.streams_out {
            if imports::matches(&route.subject, subject) {
                let local = imports::stream_subject(route, subject);
                self.deliver_in(&route.importer, &local, reply, headers, payload);
            }
        }
        let mut requested = false;
        for route in &routes.services_in {
            if !imports::matches(&route.local, subject) {
                continue;
            }
            let remote: Vec<u8> = if route.local == route.remote {
                subject.to_vec()
            } else {
                route.remote.as_bytes().to_vec()
            };
            let made_up = reply.and_then(|r| {
                route
                    .exporter
                    .routes()
                    .map(|exporter| exporter.map_reply(self.account.clone(), r))
            });
            self.deliver_in(
                &route.exporter,
                &remote,
                made_up.as_deref().map(str::as_bytes),
                headers,
                payload,
            );
            requested = true;
        }
        requested
    }

    /// Routes a message within another account's subject space.
    fn deliver_in(
        &mut self,
        account: &Account,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) {
        let result = account.sublist.matches(subject);
        let mut msg = Message::new(subject, reply, headers, payload);
        self.fan_out(&result, &mut msg);
    }

    /// Hands a request to the `$SYS.REQ` services, as this client's identity.
    /// Returns true when a service owns the subject.
    fn system_request(&self, subject: &[u8], reply: &[u8], payload: &[u8]) -> bool {
        if !subject.starts_with(crate::sysreq::REQ_PREFIX.as_bytes()) {
            return false;
        }
        let (Ok(subject), Ok(reply)) = (std::str::from_utf8(subject), std::str::from_utf8(reply))
        else {
            return false;
        };
        let requester = crate::sysreq::Requester {
            account: &self.account,
            user: self.user.as_deref(),
            perms: self.perms.as_deref(),
        };
        crate::sysreq::handle(&self.server, &requester, subject, reply, payload)
    }

    fn fan_out(&mut self, result: &MatchResult<SubRef>, msg: &mut Message<'_>) {
        let own = self.shared.cid;
        let echo = self.opts.echo;
        for sub in &result.plain {
            if !echo && sub.client.cid == own {
                continue;
            }
            self.deliver(sub, msg);
        }
        for group in &result.queues {
            let members = &group.members;
            if members.is_empty() {
                continue;
            }
            let start = (self.next_random() % members.len() as u64) as usize;
            for i in 0..members.len() {
                let sub = &members[(start + i) % members.len()];
                if !echo && sub.client.cid == own {
                    continue;
                }
                if self.deliver(sub, msg) {
                    break;
                }
            }
        }
    }

    /// Tells the requester that nobody listens on `subject`: a 503 status message on
    /// its reply subject, to its own subscriptions only.
    fn no_responders(&mut self, cache: &mut MatchCache, subject: &[u8], reply: &[u8]) {
        let account = self.account.clone();
        let Some(cached) = cache.lookup(&account.sublist, reply) else {
            return;
        };
        let mut headers = Vec::with_capacity(NO_RESPONDERS_HEAD.len() + subject.len() + 4);
        headers.extend_from_slice(NO_RESPONDERS_HEAD);
        headers.extend_from_slice(subject);
        headers.extend_from_slice(b"\r\n\r\n");
        let mut msg = Message::new(reply, None, Some(&headers), b"");
        let own = self.shared.cid;
        let result = &cached.result;
        let target = result
            .plain
            .iter()
            .chain(result.queues.iter().flat_map(|g| g.members.iter()))
            .find(|s| s.client.cid == own)
            .cloned();
        if let Some(sub) = target {
            self.deliver(&sub, &mut msg);
        }
    }

    /// Writes one message into one subscriber's queue. Returns false when it was not
    /// delivered (subscription ended, client closing or too slow).
    #[inline]
    fn deliver(&mut self, sub: &SubRef, msg: &mut Message<'_>) -> bool {
        let client = &sub.client;
        match write_message(sub, msg) {
            Delivery::Skipped => false,
            Delivery::SlowConsumer => {
                self.server.slow_consumer(client);
                false
            }
            Delivery::Written { bytes, last, stall } => {
                if stall && !self.stalled.iter().any(|c| c.cid == client.cid) {
                    self.stalled.push(client.clone());
                }
                self.batch.out_msgs += 1;
                self.batch.out_bytes += bytes;
                self.touched
                    .entry(client.cid)
                    .or_insert_with(|| client.clone());
                if last {
                    let account = self.account.clone();
                    remove_subscription(&account, &sub.0);
                }
                true
            }
        }
    }

    /// A cheap pseudo-random number, to spread queue group deliveries.
    #[inline]
    fn next_random(&mut self) -> u64 {
        // xorshift64: good enough to spread load, not for anything secret.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}
