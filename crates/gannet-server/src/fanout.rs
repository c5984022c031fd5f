//! The one path of a message to its subscribers, whatever they are
//! (nats-server's `processMsgResults`, `deliverMsg` and `processServiceImport`):
//! every plain subscription and one member of each queue group gets it, a
//! client's copy goes into its outbound queue, an internal subscription's to
//! the internal loop, and accounts that import the subject get it too. Peer
//! servers interested in it (the account's remote index) get one copy per
//! route, listing the queue groups the peer is to serve; a queue group spread
//! over the cluster gets each message once, its members weighted evenly
//! wherever they are. A message that came from a route goes to local
//! subscribers only. Other clusters get a message published here through
//! their outbound gateway connections (`Fanout::send_to_gateways`), and a
//! `_GR_.` reply is routed by the cluster and server it names
//! (`Fanout::gateway_reply`).
//!
//! A [`Fanout`] is the delivery state of one publisher: a client's connection
//! task, or the internal loop for the server's own messages. It remembers the
//! clients it gave data to, so their writers are woken once per batch
//! ([`Fanout::wake_all`]), and the receivers whose queues it filled, so a fast
//! publisher can wait for them. This is the hot path: no lock but each
//! receiver's short outbound lock, no allocation for small payloads, and one
//! shared copy of a large payload for the whole fan-out.
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use gannet_proto::msg_line::LineEnd;
use gannet_proto::route::QueueList;
use gannet_sublist::MatchResult;
use rustc_hash::FxHashMap;

use crate::accounts::Account;
use crate::client::outbound::COPY_THRESHOLD;
use crate::client::ClientShared;
use crate::gateway::Gateway;
use crate::imports::{self, AccountRoutes};
use crate::internal::OriginRef;
use crate::leaf::Leaf;
use crate::msgtrace::{self, Egress, Kind, Trace};
use crate::route::Route;
use crate::server::Server;
use crate::subscription::{self, Admit, SubRef, Subscriber};

/// One message on its way to subscribers.
pub(crate) struct Message<'a> {
    pub(crate) subject: &'a [u8],
    pub(crate) reply: Option<&'a [u8]>,
    pub(crate) headers: Option<&'a [u8]>,
    pub(crate) payload: &'a [u8],
    /// Who published it, for internal handlers and service imports (`None`
    /// for the server's own messages).
    pub(crate) origin: Option<OriginRef<'a>>,
    /// The queue groups a leaf named for this message (it served the others
    /// itself): only these are served here. `None` = every group.
    only_queues: Option<QueueList<'a>>,
    /// The cluster of the leaf the message came from: leafs of that cluster
    /// do not get it back (their cluster has it by its own routes).
    leaf_cluster: Option<&'a str>,
    /// It came from a route: a spoke's links to its hubs do not get it (each
    /// node of a spoke cluster speaks to the hub for itself).
    routed: bool,
    /// It came from a peer server (a route or a gateway), so the stream
    /// imports of its account are still to be applied here, by the import
    /// stand-ins ([`Subscriber::Shadow`]). A message published here, or come
    /// from a leaf, had them applied on arrival (`cross_accounts`).
    imports_pending: bool,
    /// The subject clients are shown in the `MSG` line when it is not the
    /// one the message was routed by: JetStream delivers a stored message
    /// under its own subject to a pull request's reply or a deliver subject.
    shown: Option<&'a [u8]>,
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
            origin: None,
            only_queues: None,
            leaf_cluster: None,
            routed: false,
            imports_pending: false,
            shown: None,
            shared: None,
            line_ends: [None; 2],
        }
    }

    /// The same message, for the named queue groups only.
    pub(crate) fn only_queues(mut self, queues: QueueList<'a>) -> Message<'a> {
        self.only_queues = Some(queues);
        self
    }

    /// The same message, come from a route.
    pub(crate) fn routed(mut self) -> Message<'a> {
        self.routed = true;
        self.imports_pending = true;
        self
    }

    /// The same message, come from another cluster over a gateway.
    pub(crate) fn gatewayed(mut self) -> Message<'a> {
        self.imports_pending = true;
        self
    }

    /// The same message, from a leaf of `cluster`.
    pub(crate) fn with_leaf_cluster(mut self, cluster: Option<&'a str>) -> Message<'a> {
        self.leaf_cluster = cluster;
        self
    }

    /// Whether queue group `name` is served for this message here.
    #[inline]
    fn serves_queue(&self, name: &[u8]) -> bool {
        self.only_queues.is_none_or(|q| q.contains(name))
    }

    /// The subject clients are shown, when not the one it was routed by.
    pub(crate) fn shown(&self) -> Option<&'a [u8]> {
        self.shown
    }

    /// The same message, shown to clients under `subject`.
    pub(crate) fn shown_as(mut self, subject: &'a [u8]) -> Message<'a> {
        self.shown = Some(subject);
        self
    }

    /// The same message from `origin`.
    pub(crate) fn with_origin(mut self, origin: Option<OriginRef<'a>>) -> Message<'a> {
        self.origin = origin;
        self
    }

    /// Writes the control line for `sub`: `MSG` or, with `headers`, `HMSG`. The
    /// sizes are formatted once per message and a literal subscription's start
    /// is ready made, so a fan-out pays for a few copies per receiver.
    #[inline]
    fn write_line(&mut self, tail: &mut BytesMut, sub: &SubRef, headers: Option<&[u8]>) {
        match sub.line_start().filter(|_| self.shown.is_none()) {
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
                tail.put_slice(self.shown.unwrap_or(self.subject));
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

/// What writing a message into one client's queue came to.
pub(crate) enum Delivery {
    /// Not for this subscriber (permissions, ended subscription, closing client).
    Skipped,
    /// The subscriber just became a slow consumer and is being cut.
    SlowConsumer,
    /// Queued: `bytes` of payload; `last` = the subscription has had its last
    /// message; `stall` = the queue is full enough that the publisher should wait.
    Written { bytes: u64, last: bool, stall: bool },
}

/// Writes one message into the outbound queue of `client`, the subscriber of
/// `sub` (without waking its writer: the publisher does that once per batch).
#[inline]
pub(crate) fn write_message(
    client: &ClientShared,
    sub: &SubRef,
    msg: &mut Message<'_>,
) -> Delivery {
    if !client.admit_delivery(msg.subject, sub.queue.as_deref(), msg.reply) {
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
    // Counted under the client's queue lock, which every delivery to it takes.
    let admit = sub.admit_serialized();
    if admit == Admit::Expired {
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
        + msg.shown.map_or(0, <[u8]>::len)
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

/// Writes one message into the outbound queue of `route`, in `account`, with
/// the queue groups the peer is to serve (names separated by blanks). Returns
/// false when the route is closing or just overflowed its queue.
pub(crate) fn write_routed(
    route: &Route,
    account: &str,
    msg: &mut Message<'_>,
    queues: &[u8],
) -> bool {
    let account = route.line_account(account);
    let extra = account.map_or(0, str::len) + queues.len();
    write_link(
        &route.outbound,
        route.supports_headers(),
        msg,
        extra,
        |tail, m, h| {
            gannet_proto::route::write_msg_line(
                tail,
                account.map(str::as_bytes),
                m.subject,
                m.reply,
                QueueList::new(queues).iter(),
                h,
                m.payload.len(),
            );
        },
    )
}

/// Writes one message into the outbound queue of `leaf` as `LMSG` (or
/// `HMSG`), with the queue groups the other side is to serve. Returns false
/// when the leaf is closing or just overflowed its queue.
pub(crate) fn write_leaf(leaf: &Leaf, msg: &mut Message<'_>, queues: &[u8]) -> bool {
    write_link(
        &leaf.outbound,
        leaf.supports_headers(),
        msg,
        queues.len(),
        |tail, m, h| {
            gannet_proto::route::write_leaf_msg_line(
                tail,
                m.subject,
                m.reply,
                QueueList::new(queues).iter(),
                h,
                m.payload.len(),
            );
        },
    )
}

/// Writes one message into the outbound queue of gateway `gw` as `RMSG` (or
/// `HMSG`) in `account`, with `reply` (the routed form of the message's),
/// and the queue groups the other cluster is to serve. Returns false when
/// the connection is closing or just overflowed its queue.
pub(crate) fn write_gateway(
    gw: &Gateway,
    account: &str,
    msg: &mut Message<'_>,
    reply: Option<&[u8]>,
    queues: &[u8],
) -> bool {
    let extra = account.len() + queues.len() + reply.map_or(0, <[u8]>::len);
    write_link(
        &gw.outbound,
        gw.supports_headers(),
        msg,
        extra,
        |tail, m, h| {
            gannet_proto::route::write_msg_line(
                tail,
                Some(account.as_bytes()),
                m.subject,
                reply,
                QueueList::new(queues).iter(),
                h,
                m.payload.len(),
            );
        },
    )
}

/// Where a routed reply (`_GR_.`) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyFrom {
    /// A client, a leaf, or the server itself.
    Local,
    /// A cluster peer, which passed on what a gateway brought it.
    Route,
    /// Another cluster.
    Gateway,
}

/// Writes one message into a route's or leaf's queue: the control line
/// (`line`, given the header size when headers go along), the headers, and
/// the payload (copied when small, the shared copy otherwise). `extra` is
/// the room the line needs beyond subject and reply.
fn write_link(
    out: &crate::client::outbound::Outbound,
    headers_ok: bool,
    msg: &mut Message<'_>,
    extra: usize,
    line: impl FnOnce(&mut BytesMut, &Message<'_>, Option<usize>),
) -> bool {
    let headers = msg.headers.filter(|_| headers_ok);
    let payload_len = msg.payload.len();
    let copied = if payload_len <= COPY_THRESHOLD {
        payload_len
    } else {
        0
    };
    let room = 64
        + extra
        + msg.subject.len()
        + msg.reply.map_or(0, <[u8]>::len)
        + headers.map_or(0, <[u8]>::len)
        + copied
        + 2;
    let mut pending = out.lock();
    if pending.is_closed() {
        return false;
    }
    let tail = pending.tail(room);
    let start = tail.len();
    line(tail, msg, headers.map(<[u8]>::len));
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
    pending.out_msgs += 1;
    pending.out_bytes += (payload_len + headers.map_or(0, <[u8]>::len)) as u64;
    out.commit(&mut pending, added)
}

/// A route or leaf connection whose queue passed its stall mark: its
/// publishers wait for it to drain a little.
pub(crate) enum StalledLink {
    Route(Arc<Route>),
    Leaf(Arc<Leaf>),
    Gateway(Arc<Gateway>),
}

impl StalledLink {
    fn id(&self) -> u64 {
        match self {
            StalledLink::Route(r) => r.rid,
            StalledLink::Leaf(l) => l.lid,
            StalledLink::Gateway(g) => g.gid,
        }
    }

    /// Waits until its queue is below the stall mark (or a short while).
    pub(crate) async fn wait_drained(&self) {
        match self {
            StalledLink::Route(r) => r.outbound.wait_drained().await,
            StalledLink::Leaf(l) => l.outbound.wait_drained().await,
            StalledLink::Gateway(g) => g.outbound.wait_drained().await,
        }
    }
}

/// A copy of the message gathered for one leaf: the leaf, and the queue
/// groups it is to serve.
struct LeafSend {
    leaf: Arc<Leaf>,
    queues: Vec<u8>,
}

/// A copy of the message gathered for one route: the route, and the queue
/// groups it is to serve.
struct RouteSend {
    route: Arc<Route>,
    queues: Vec<u8>,
}

/// The delivery state of one publisher.
pub(crate) struct Fanout {
    /// Clients given data since the last [`Fanout::wake_all`].
    touched: FxHashMap<u64, Arc<ClientShared>>,
    /// Receivers whose queues were filled past the stall mark.
    stalled: Vec<Arc<ClientShared>>,
    /// Routes whose queues were filled past their stall mark.
    stalled_links: Vec<StalledLink>,
    /// Messages and bytes delivered since the counters were last taken.
    pub(crate) out_msgs: u64,
    pub(crate) out_bytes: u64,
    /// Copies sent on routes since the counters were last taken.
    pub(crate) routed_msgs: u64,
    pub(crate) routed_bytes: u64,
    /// State of the cheap random numbers that spread queue group deliveries.
    rng: u64,
    /// The routes the current message goes to.
    route_sends: Vec<RouteSend>,
    /// Routes given data since the last [`Fanout::wake_all`].
    touched_routes: Vec<Arc<Route>>,
    /// The leafs the current message goes to.
    leaf_sends: Vec<LeafSend>,
    /// Leafs given data since the last [`Fanout::wake_all`].
    touched_leafs: Vec<Arc<Leaf>>,
    /// Gateways given data since the last [`Fanout::wake_all`].
    touched_gateways: Vec<Arc<Gateway>>,
    /// Queue groups of the current message already given to a cluster.
    gateway_queues: Vec<Box<[u8]>>,
    /// The trace of the current message, when it is traced
    /// ([`crate::msgtrace`]): every delivery is reported to it.
    trace: Option<Box<Trace>>,
}

impl Fanout {
    /// A publisher's delivery state; `seed` spreads its queue group choices.
    pub(crate) fn new(seed: u64) -> Fanout {
        Fanout {
            touched: FxHashMap::default(),
            stalled: Vec::new(),
            stalled_links: Vec::new(),
            out_msgs: 0,
            out_bytes: 0,
            routed_msgs: 0,
            routed_bytes: 0,
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            route_sends: Vec::new(),
            touched_routes: Vec::new(),
            leaf_sends: Vec::new(),
            touched_leafs: Vec::new(),
            touched_gateways: Vec::new(),
            gateway_queues: Vec::new(),
            trace: None,
        }
    }

    /// The next message is traced: what the fan-out does with it is
    /// reported to `trace` until [`Fanout::end_trace`].
    pub(crate) fn begin_trace(&mut self, trace: Box<Trace>) {
        self.trace = Some(trace);
    }

    /// The traced message is delivered: its event goes (or waits for the
    /// streams that captured it).
    pub(crate) fn end_trace(&mut self, server: &Server) {
        if let Some(trace) = self.trace.take() {
            trace.finish(server);
        }
    }

    /// The trace of the message being delivered.
    pub(crate) fn trace(&self) -> Option<&Trace> {
        self.trace.as_deref()
    }

    /// Reports that `sub`, the publisher's own, does not get the message
    /// (echo off).
    #[cold]
    fn trace_no_echo(&self, sub: &SubRef) {
        if let (Some(trace), Some(client)) = (&self.trace, sub.client()) {
            let name = client.meta().name;
            trace.egress(
                &client_egress(client, &name, sub),
                Some(msgtrace::reason::NO_ECHO),
            );
        }
    }

    /// Publishes a message in `account` as the server itself: its subscribers
    /// and its importers get it. Returns whether anyone did.
    pub(crate) fn publish(
        &mut self,
        server: &Server,
        account: &Arc<Account>,
        msg: &mut Message<'_>,
    ) -> bool {
        if msg.subject.starts_with(crate::gateway::REPLY_PREFIX)
            && self.gateway_reply(server, account, msg, ReplyFrom::Local)
        {
            return true;
        }
        let result = account.sublist.matches(msg.subject);
        let remote = account.remote_matches(msg.subject);
        let mut delivered = false;
        if let Some(routes) = account.routes() {
            delivered |= self.cross_accounts(server, account, &routes, msg);
        }
        if !result.is_empty() || remote.is_some() {
            self.fan_out_cluster(server, account, &result, remote.as_deref(), msg, None);
            delivered = true;
        }
        delivered |= self.send_to_gateways(server, account, msg, &result, remote.as_deref());
        delivered
    }

    /// Sends the current message to every other cluster that wants it, once
    /// each: their plain subscribers, and each queue group with no member in
    /// this cluster (`local`, `remote`) to the first cluster that has one.
    /// The reply goes as `_GR_.<cluster>.<server>.<reply>`, so that answers
    /// come straight back here. Returns whether any cluster got it.
    pub(crate) fn send_to_gateways(
        &mut self,
        server: &Server,
        account: &Account,
        msg: &mut Message<'_>,
        local: &MatchResult<SubRef>,
        remote: Option<&MatchResult<SubRef>>,
    ) -> bool {
        let Some(gateways) = server.gateways() else {
            return false;
        };
        let Some(outbound) = gateways.outbound_list() else {
            return false;
        };
        let served_here = |name: &[u8]| {
            local
                .queues
                .iter()
                .any(|g| *g.name == *name && !g.members.is_empty())
                || remote.is_some_and(|r| r.queues.iter().any(|g| *g.name == *name))
        };
        // The reply as it crosses, made for the first cluster that wants the
        // message (most messages go to none).
        let mut mapped: Option<Vec<u8>> = None;
        self.gateway_queues.clear();
        let mut sent = false;
        let mut queues: Vec<u8> = Vec::new();
        for gw in outbound.iter() {
            let wanted = gw.interest.wanted(&account.name, msg.subject);
            queues.clear();
            for name in wanted.queues {
                if served_here(&name)
                    || !msg.serves_queue(&name)
                    || self.gateway_queues.contains(&name)
                {
                    continue;
                }
                if !queues.is_empty() {
                    queues.push(b' ');
                }
                queues.extend_from_slice(&name);
                self.gateway_queues.push(name);
            }
            if !wanted.plain && queues.is_empty() {
                continue;
            }
            if mapped.is_none() {
                mapped = msg.reply.map(|reply| {
                    if reply.starts_with(crate::gateway::REPLY_PREFIX) {
                        reply.to_vec()
                    } else {
                        let mut mapped = gateways.reply_prefix().to_vec();
                        mapped.extend_from_slice(reply);
                        mapped
                    }
                });
            }
            sent |= self.write_to_gateway(gw, &account.name, msg, mapped.as_deref(), &queues);
        }
        sent
    }

    /// Writes the current message to one gateway, and notes it for waking
    /// and back-pressure.
    fn write_to_gateway(
        &mut self,
        gw: &Arc<Gateway>,
        account: &str,
        msg: &mut Message<'_>,
        reply: Option<&[u8]>,
        queues: &[u8],
    ) -> bool {
        let written = if self.trace.is_some() {
            let peer = gw.peer();
            let to = link_egress(Kind::Gateway, gw.gid, &peer.name);
            self.write_traced(msg, &to, gw.supports_traces(), |m| {
                write_gateway(gw, account, m, reply, queues)
            })
        } else {
            write_gateway(gw, account, msg, reply, queues)
        };
        if !written {
            return false;
        }
        let out = &gw.outbound;
        if out.should_stall(&out.lock()) && !self.stalled_links.iter().any(|l| l.id() == gw.gid) {
            self.stalled_links.push(StalledLink::Gateway(gw.clone()));
        }
        self.routed_msgs += 1;
        self.routed_bytes += (msg.payload.len() + msg.headers.map_or(0, <[u8]>::len)) as u64;
        if !self.touched_gateways.iter().any(|g| g.gid == gw.gid) {
            self.touched_gateways.push(gw.clone());
        }
        true
    }

    /// A message on a routed reply subject (`_GR_.<cluster>.<server>.<reply>`):
    /// one for another cluster goes straight to that cluster; one for this
    /// cluster but another server goes to that server's route (when it came
    /// from a gateway); one for here is delivered on its original subject.
    /// Returns false when the subject is not a routed reply after all (or
    /// there are no gateways), for the caller to deliver it as it is.
    pub(crate) fn gateway_reply(
        &mut self,
        server: &Server,
        account: &Arc<Account>,
        msg: &mut Message<'_>,
        from: ReplyFrom,
    ) -> bool {
        let Some(gateways) = server.gateways() else {
            return false;
        };
        let Some((cluster_hash, server_hash, original)) =
            crate::gateway::split_routed_reply(msg.subject)
        else {
            return false;
        };
        // A publisher here never unwraps a reply for this cluster: that would
        // deliver on a subject its permissions were not checked against (as
        // nats-server, it is then an ordinary subject).
        if from == ReplyFrom::Local && gateways.is_own_cluster(cluster_hash) {
            return false;
        }
        if !gateways.is_own_cluster(cluster_hash) {
            // Only this cluster's own publishers send replies across.
            if from == ReplyFrom::Local {
                if let Some(gw) = gateways.outbound_by_hash(cluster_hash) {
                    let reply = msg.reply;
                    self.write_to_gateway(&gw, &account.name, msg, reply, b"");
                }
            }
            return true;
        }
        if from == ReplyFrom::Gateway && !gateways.is_own_server(server_hash) {
            if let Some(route) = server
                .cluster()
                .and_then(|c| c.route_by_hash(server_hash, &account.name))
            {
                self.route_send(&route, None);
                self.send_to_routes(server, &account.name, msg);
                return true;
            }
        }
        let mut inner =
            Message::new(original, msg.reply, msg.headers, msg.payload).with_origin(msg.origin);
        // Come from a peer: imports (a service reply's way back) apply here.
        inner.imports_pending = from != ReplyFrom::Local;
        let local = account.sublist.matches(original);
        let remote = if from == ReplyFrom::Route {
            None
        } else {
            account.remote_matches(original)
        };
        if !local.is_empty() || remote.is_some() {
            self.fan_out_cluster(server, account, &local, remote.as_deref(), &mut inner, None);
        }
        if from != ReplyFrom::Route && !original.starts_with(b"_R_.") {
            self.send_to_gateways(server, account, &mut inner, &local, remote.as_deref());
        }
        true
    }

    /// [`Fanout::fan_out`] for a message published on this server, which the
    /// peers in `remote` (the account's remote interest in its subject) get
    /// too: one copy per route, naming the queue groups whose chosen member
    /// is on that peer.
    pub(crate) fn fan_out_cluster(
        &mut self,
        server: &Server,
        account: &Account,
        local: &MatchResult<SubRef>,
        remote: Option<&MatchResult<SubRef>>,
        msg: &mut Message<'_>,
        skip: Option<u64>,
    ) {
        let Some(remote) = remote else {
            return self.fan_out(server, local, msg, skip);
        };
        for sub in &local.plain {
            if skip.is_some_and(|own| sub.cid() == own) {
                if self.trace.is_some() {
                    self.trace_no_echo(sub);
                }
                continue;
            }
            self.deliver(server, sub, msg);
        }
        for sub in &remote.plain {
            if let Subscriber::Route(route) = &sub.subscriber {
                self.route_send(route, None);
            }
        }
        for group in &local.queues {
            if !msg.serves_queue(&group.name) {
                continue;
            }
            let far = remote
                .queues
                .iter()
                .find(|g| g.name == group.name)
                .map_or(&[][..], |g| &g.members[..]);
            self.serve_queue(server, &group.name, &group.members, far, msg, skip);
        }
        for group in &remote.queues {
            if local.queues.iter().any(|g| g.name == group.name) || !msg.serves_queue(&group.name) {
                continue;
            }
            self.serve_queue(server, &group.name, &[], &group.members, msg, skip);
        }
        self.send_to_routes(server, &account.name, msg);
        self.send_to_leafs(msg);
    }

    /// Picks the one member of queue group `name` that gets the message, among
    /// the local members `near` and the peers' `far` (each weighing its
    /// member count): delivers to a local one, or notes the group for its route.
    fn serve_queue(
        &mut self,
        server: &Server,
        name: &[u8],
        near: &[SubRef],
        far: &[SubRef],
        msg: &mut Message<'_>,
        skip: Option<u64>,
    ) {
        let far_weight: u64 = far.iter().map(|s| u64::from(s.weight())).sum();
        let total = near.len() as u64 + far_weight;
        if total == 0 {
            return;
        }
        let mut pick = self.next_random() % total;
        if pick < near.len() as u64 {
            let start = pick as usize;
            for i in 0..near.len() {
                let sub = &near[(start + i) % near.len()];
                if skip.is_some_and(|own| sub.cid() == own) {
                    if self.trace.is_some() {
                        self.trace_no_echo(sub);
                    }
                    continue;
                }
                if self.deliver(server, sub, msg) {
                    return;
                }
            }
            if far_weight == 0 {
                return;
            }
            pick = self.next_random() % far_weight;
        } else {
            pick -= near.len() as u64;
        }
        for sub in far {
            let weight = u64::from(sub.weight());
            if pick < weight {
                if let Subscriber::Route(route) = &sub.subscriber {
                    self.route_send(route, Some(name));
                }
                return;
            }
            pick -= weight;
        }
    }

    /// Notes that the current message goes to `route`, for queue group `queue`
    /// if given.
    fn route_send(&mut self, route: &Arc<Route>, queue: Option<&[u8]>) {
        let send = match self
            .route_sends
            .iter_mut()
            .position(|s| s.route.rid == route.rid)
        {
            Some(i) => &mut self.route_sends[i],
            None => {
                self.route_sends.push(RouteSend {
                    route: route.clone(),
                    queues: Vec::new(),
                });
                let last = self.route_sends.len() - 1;
                &mut self.route_sends[last]
            }
        };
        if let Some(queue) = queue {
            if !send.queues.is_empty() {
                send.queues.push(b' ');
            }
            send.queues.extend_from_slice(queue);
        }
    }

    /// Notes that the current message goes to `leaf`, for queue group
    /// `queue` if given.
    fn leaf_send(&mut self, leaf: &Arc<Leaf>, queue: Option<&[u8]>) {
        let i = match self.leaf_sends.iter().position(|s| s.leaf.lid == leaf.lid) {
            Some(i) => i,
            None => {
                self.leaf_sends.push(LeafSend {
                    leaf: leaf.clone(),
                    queues: Vec::new(),
                });
                self.leaf_sends.len() - 1
            }
        };
        let send = &mut self.leaf_sends[i];
        if let Some(queue) = queue {
            if !send.queues.is_empty() {
                send.queues.push(b' ');
            }
            send.queues.extend_from_slice(queue);
        }
    }

    /// Writes the current message to every leaf noted for it.
    fn send_to_leafs(&mut self, msg: &mut Message<'_>) {
        if self.leaf_sends.is_empty() {
            return;
        }
        let mut sends = std::mem::take(&mut self.leaf_sends);
        for send in sends.drain(..) {
            let written = if self.trace.is_some() {
                let peer = send.leaf.peer();
                let to = link_egress(Kind::Leaf, send.leaf.lid, &peer.name);
                self.write_traced(msg, &to, send.leaf.supports_traces(), |m| {
                    write_leaf(&send.leaf, m, &send.queues)
                })
            } else {
                write_leaf(&send.leaf, msg, &send.queues)
            };
            if written {
                let out = &send.leaf.outbound;
                if out.should_stall(&out.lock())
                    && !self.stalled_links.iter().any(|l| l.id() == send.leaf.lid)
                {
                    self.stalled_links
                        .push(StalledLink::Leaf(send.leaf.clone()));
                }
                self.out_msgs += 1;
                self.out_bytes += (msg.payload.len() + msg.headers.map_or(0, <[u8]>::len)) as u64;
                if !self.touched_leafs.iter().any(|l| l.lid == send.leaf.lid) {
                    self.touched_leafs.push(send.leaf);
                }
            }
        }
        self.leaf_sends = sends;
    }

    /// Writes the current message to every route noted for it.
    fn send_to_routes(&mut self, server: &Server, account: &str, msg: &mut Message<'_>) {
        let mut sends = std::mem::take(&mut self.route_sends);
        for send in sends.drain(..) {
            let written = if self.trace.is_some() {
                let peer = send.route.peer();
                let to = link_egress(Kind::Router, send.route.rid, &peer.name);
                self.write_traced(msg, &to, send.route.supports_traces(), |m| {
                    write_routed(&send.route, account, m, &send.queues)
                })
            } else {
                write_routed(&send.route, account, msg, &send.queues)
            };
            if written {
                let out = &send.route.outbound;
                if out.should_stall(&out.lock())
                    && !self.stalled_links.iter().any(|l| l.id() == send.route.rid)
                {
                    self.stalled_links
                        .push(StalledLink::Route(send.route.clone()));
                }
                self.routed_msgs += 1;
                self.routed_bytes +=
                    (msg.payload.len() + msg.headers.map_or(0, <[u8]>::len)) as u64;
                if !self.touched_routes.iter().any(|r| r.rid == send.route.rid) {
                    self.touched_routes.push(send.route);
                }
            } else if send
                .route
                .outbound
                .close_reason()
                .is_some_and(|r| r.is_slow_consumer())
            {
                server.slow_route(&send.route);
            }
        }
        self.route_sends = sends;
    }

    /// Delivers a message that came from a route: to every local plain
    /// subscription, and to one local member of each queue group the peer
    /// named (`queues`). It goes no further: never to another route.
    pub(crate) fn fan_out_routed(
        &mut self,
        server: &Server,
        local: &MatchResult<SubRef>,
        msg: &mut Message<'_>,
        queues: QueueList<'_>,
    ) {
        for sub in &local.plain {
            self.deliver(server, sub, msg);
        }
        for group in &local.queues {
            if !queues.contains(&group.name) {
                continue;
            }
            let members = &group.members;
            let start = (self.next_random() % members.len().max(1) as u64) as usize;
            for i in 0..members.len() {
                if self.deliver(server, &members[(start + i) % members.len()], msg) {
                    break;
                }
            }
        }
        self.send_to_leafs(msg);
    }

    /// Delivers to every plain subscription of `result` and one member of each
    /// queue group, except to the client `skip` (a publisher with echo off).
    pub(crate) fn fan_out(
        &mut self,
        server: &Server,
        result: &MatchResult<SubRef>,
        msg: &mut Message<'_>,
        skip: Option<u64>,
    ) {
        for sub in &result.plain {
            if skip.is_some_and(|own| sub.cid() == own) {
                if self.trace.is_some() {
                    self.trace_no_echo(sub);
                }
                continue;
            }
            self.deliver(server, sub, msg);
        }
        for group in &result.queues {
            let members = &group.members;
            if members.is_empty() || !msg.serves_queue(&group.name) {
                continue;
            }
            let start = (self.next_random() % members.len() as u64) as usize;
            for i in 0..members.len() {
                let sub = &members[(start + i) % members.len()];
                if skip.is_some_and(|own| sub.cid() == own) {
                    if self.trace.is_some() {
                        self.trace_no_echo(sub);
                    }
                    continue;
                }
                if self.deliver(server, sub, msg) {
                    break;
                }
            }
        }
        self.send_to_leafs(msg);
    }

    /// Delivers a message of `account` into the accounts that import it:
    /// streams to their importers, requests to imported services (with a reply
    /// subject made up in the service's account), and service replies back to
    /// the requester's account. Returns true when a request went to a service.
    ///
    /// A traced message is reported up to each import it crosses, and goes
    /// on untraced (its `Nats-Trace-Dest` says so) unless the import allows
    /// tracing: a stream import's `allow_trace`, a service export's. A
    /// request traced on into a service carries a trace destination made up
    /// in the service's account ([`imports::ReplyMap::map_trace_dest`]),
    /// which leads the events of the servers it goes on to back to the
    /// requester's destination.
    pub(crate) fn cross_accounts(
        &mut self,
        server: &Server,
        account: &Arc<Account>,
        routes: &AccountRoutes,
        msg: &Message<'_>,
    ) -> bool {
        let (subject, reply, payload) = (msg.subject, msg.reply, msg.payload);
        let disabled = self
            .trace
            .as_ref()
            .map(|_| msgtrace::headers::disabled(msg.headers));
        let untraced = disabled.as_deref().or(msg.headers);
        let only = self.trace.as_ref().is_some_and(|t| t.only());
        if let Some(back) = routes
            .serves
            .then(|| account.replies.take_reply(subject))
            .flatten()
        {
            let mut answer =
                Message::new(&back.reply, None, untraced, payload).with_origin(msg.origin);
            self.untraced(|fanout| fanout.publish_in(server, &back.requester, &mut answer));
        }
        for route in &routes.streams_out {
            if imports::matches(&route.subject, subject) {
                self.deliver_stream_import(server, route, msg, untraced);
            }
        }
        let mut requested = false;
        for route in &routes.services_in {
            if !imports::matches(&route.local, subject) {
                continue;
            }
            let remote = route.remote_subject(subject);
            let remote = remote.as_ref();
            // The exporter's subject mappings apply to the requests it gets.
            let Some(remote) = route
                .exporter
                .mapped_subject(remote, || server.cluster_name())
            else {
                continue;
            };
            let remote: &[u8] = &remote;
            if let Some(trace) = &self.trace {
                trace.service_import(&route.exporter.name, subject, remote);
            }
            requested = true;
            let traced_on = route.allow_trace && self.trace.is_some();
            if only && !traced_on {
                continue;
            }
            let made_up = reply.map(|r| {
                route
                    .exporter
                    .replies
                    .map_reply(server.reply_node(), account.clone(), r)
            });
            // Traced on: the servers the request goes on to publish their
            // events in the service's account, on a made-up subject that
            // leads them back here and into the requester's.
            let led_back = self.trace.as_ref().filter(|_| traced_on).map(|trace| {
                let dest = route.exporter.replies.map_trace_dest(
                    server.reply_node(),
                    account.clone(),
                    trace.dest().as_bytes(),
                );
                msgtrace::headers::with_dest(msg.headers, &dest)
            });
            let headers = if traced_on {
                led_back.as_deref()
            } else {
                untraced
            };
            let headers = crate::internal::request_info_headers(account, msg, headers);
            let mut request = Message::new(
                remote,
                made_up.as_deref().map(str::as_bytes),
                Some(&headers),
                payload,
            )
            .with_origin(msg.origin);
            let mut ask = |fanout: &mut Fanout| {
                // The service's responders may be on other servers too, and
                // in other clusters.
                let local = route.exporter.sublist.matches(request.subject);
                let remote = route.exporter.remote_matches(request.subject);
                fanout.fan_out_cluster(
                    server,
                    &route.exporter,
                    &local,
                    remote.as_deref(),
                    &mut request,
                    None,
                );
                fanout.send_to_gateways(
                    server,
                    &route.exporter,
                    &mut request,
                    &local,
                    remote.as_deref(),
                );
            };
            if traced_on {
                ask(self);
            } else {
                self.untraced(ask);
            }
        }
        requested
    }

    /// Delivers `msg` in the importing account of the stream import
    /// `route`, under the import's subject. A traced message is reported
    /// crossing it, and traced on there if the import allows it (its
    /// subscriptions named as the reference names them), else delivered
    /// with `untraced` headers, or not at all when trace-only. Returns
    /// whether a copy went in.
    fn deliver_stream_import(
        &mut self,
        server: &Server,
        route: &imports::StreamRoute,
        msg: &Message<'_>,
        untraced: Option<&[u8]>,
    ) -> bool {
        let local = imports::stream_subject(route, msg.subject);
        if let Some(trace) = self.trace.as_mut() {
            trace.stream_export(&route.importer.name, &local);
            if route.allow_trace {
                trace.set_imported_as(msgtrace::ImportNames::of(route));
                let mut copy = Message::new(&local, msg.reply, msg.headers, msg.payload)
                    .with_origin(msg.origin);
                self.publish_in(server, &route.importer, &mut copy);
                if let Some(trace) = self.trace.as_mut() {
                    trace.set_imported_as(None);
                }
                return true;
            }
            if trace.only() {
                return false;
            }
        }
        let mut copy =
            Message::new(&local, msg.reply, untraced, msg.payload).with_origin(msg.origin);
        self.untraced(|fanout| fanout.publish_in(server, &route.importer, &mut copy));
        true
    }

    /// Runs `deliver` with the message's trace set aside: what it delivers
    /// is not reported.
    fn untraced<R>(&mut self, deliver: impl FnOnce(&mut Self) -> R) -> R {
        let trace = self.trace.take();
        let out = deliver(self);
        self.trace = trace;
        out
    }

    /// Delivers a message within another account's subject space (its
    /// subscribers only: a message crosses one import at most).
    fn publish_in(&mut self, server: &Server, account: &Account, msg: &mut Message<'_>) {
        let result = account.sublist.matches(msg.subject);
        self.fan_out(server, &result, msg, None);
    }

    /// Delivers a message a peer sent to an import's stand-in: a stream
    /// import's into the importing account under the import's subject, a
    /// service reply back to the requester it was made up for.
    fn deliver_shadow(
        &mut self,
        server: &Server,
        sub: &SubRef,
        shadow: &imports::Shadow,
        msg: &Message<'_>,
    ) -> bool {
        match shadow {
            imports::Shadow::Stream(import) => {
                let local = imports::stream_subject(import, msg.subject);
                let mut copy = Message::new(&local, msg.reply, msg.headers, msg.payload)
                    .with_origin(msg.origin);
                self.publish_in(server, &import.importer, &mut copy);
                true
            }
            imports::Shadow::Replies => {
                let Some(back) = sub
                    .account()
                    .and_then(|exporter| exporter.replies.take_reply(msg.subject))
                else {
                    return false;
                };
                let mut answer = Message::new(&back.reply, None, msg.headers, msg.payload)
                    .with_origin(msg.origin);
                self.publish_in(server, &back.requester, &mut answer);
                true
            }
        }
    }

    /// Delivers one message to one subscription. Returns false when it was
    /// not delivered (subscription ended, client closing or too slow).
    #[inline]
    pub(crate) fn deliver(&mut self, server: &Server, sub: &SubRef, msg: &mut Message<'_>) -> bool {
        if self.trace.is_some() {
            return self.deliver_traced(server, sub, msg);
        }
        self.deliver_plain(server, sub, msg)
    }

    /// [`Fanout::deliver`] of a message that is not traced.
    #[inline]
    fn deliver_plain(&mut self, server: &Server, sub: &SubRef, msg: &mut Message<'_>) -> bool {
        let client = match &sub.subscriber {
            Subscriber::Client(client) => client,
            Subscriber::Internal(_) => return server.internal().deliver(sub, msg),
            // Routes are reached through the remote index, one copy per
            // route (`fan_out_cluster`), never one per subscription.
            Subscriber::Route(_) => return false,
            // An import's stand-in: what a peer sent is delivered where it
            // belongs here (what was published here got there at publish).
            Subscriber::Shadow(shadow) => {
                if !msg.imports_pending {
                    return false;
                }
                return self.deliver_shadow(server, sub, shadow, msg);
            }
            // A leaf gets one copy, naming the queue groups it is to serve.
            Subscriber::Leaf(leaf) => {
                // A closing leaf, or a subject its remote's deny_exports
                // keeps in, takes nothing (a queue group tries another member).
                if leaf.outbound.close_reason().is_some()
                    || !leaf.may_export(msg.subject)
                    || (msg.leaf_cluster.is_some() && leaf.cluster() == msg.leaf_cluster)
                    || (msg.routed && leaf.is_spoke())
                {
                    return false;
                }
                self.leaf_send(leaf, sub.queue.as_deref());
                return true;
            }
        };
        match write_message(client, sub, msg) {
            Delivery::Skipped => false,
            Delivery::SlowConsumer => {
                server.slow_consumer(client);
                false
            }
            Delivery::Written { bytes, last, stall } => {
                if stall && !self.stalled.iter().any(|c| c.cid == client.cid) {
                    self.stalled.push(client.clone());
                }
                self.out_msgs += 1;
                self.out_bytes += bytes;
                self.touch(client);
                if last {
                    subscription::end(&sub.0);
                }
                true
            }
        }
    }

    /// Writes the copy of a traced message that goes to another server over
    /// `to`, its hop id in its headers (`write` writes it); a trace-only
    /// message is not sent to a server that cannot trace it. Returns whether
    /// it was written.
    #[cold]
    fn write_traced(
        &self,
        msg: &Message<'_>,
        to: &Egress<'_>,
        supports: bool,
        write: impl FnOnce(&mut Message<'_>) -> bool,
    ) -> bool {
        let Some(trace) = &self.trace else {
            return false;
        };
        let headers = msg.headers.unwrap_or(b"NATS/1.0\r\n\r\n");
        let Some(headers) = trace.hop_to(to, supports, headers) else {
            return false;
        };
        let mut copy = Message::new(msg.subject, msg.reply, Some(&headers), msg.payload);
        write(&mut copy)
    }

    /// [`Fanout::deliver`] for a traced message: each client subscription
    /// is reported, delivered to or not (nothing is written for a
    /// trace-only message), and a stream that captures it joins the trace.
    #[cold]
    fn deliver_traced(&mut self, server: &Server, sub: &SubRef, msg: &mut Message<'_>) -> bool {
        let Some(trace) = self.trace.take() else {
            return false;
        };
        let delivered = match &sub.subscriber {
            Subscriber::Client(client) => {
                let name = client.meta().name;
                let account = sub.account();
                let mut to = client_egress(client, &name, sub);
                to.account = account.as_deref().map(|a| a.name.as_str());
                to.subject = trace.subscription_subject(to.subject);
                let refused = if client.denies_delivery(msg.subject, sub.queue.as_deref()) {
                    Some(msgtrace::reason::SUB_DENY)
                } else if client.outbound.lock().is_closed() {
                    Some(msgtrace::reason::CLIENT_CLOSED)
                } else if sub.max() > 0 && sub.delivered() >= sub.max() {
                    Some(msgtrace::reason::AUTO_UNSUB_EXCEEDED)
                } else {
                    None
                };
                if refused.is_some() || trace.only() {
                    trace.egress(&to, refused);
                    refused.is_none()
                } else {
                    let delivered = self.deliver_plain(server, sub, msg);
                    trace.egress(&to, (!delivered).then_some(msgtrace::reason::CLIENT_CLOSED));
                    delivered
                }
            }
            Subscriber::Internal(_) => server.internal().deliver_traced(sub, msg, &trace),
            // What was published here crossed its imports at publish.
            Subscriber::Shadow(_) if !msg.imports_pending => false,
            Subscriber::Shadow(shadow) => match &**shadow {
                imports::Shadow::Stream(import) => {
                    return self.stream_import_traced(server, import, msg, trace);
                }
                imports::Shadow::Replies if trace.only() => false,
                imports::Shadow::Replies => self.deliver_plain(server, sub, msg),
            },
            Subscriber::Leaf(leaf) if !leaf.may_export(msg.subject) => {
                let peer = leaf.peer();
                trace.egress(
                    &link_egress(Kind::Leaf, leaf.lid, &peer.name),
                    Some(msgtrace::reason::PUB_VIOLATION),
                );
                false
            }
            _ => self.deliver_plain(server, sub, msg),
        };
        self.trace = Some(trace);
        delivered
    }

    /// A peer's copy of a traced message that a stream import takes into
    /// its importing account: reported, then traced on there if the import
    /// allows it, else delivered untraced (or not at all when trace-only).
    #[cold]
    fn stream_import_traced(
        &mut self,
        server: &Server,
        import: &imports::StreamRoute,
        msg: &Message<'_>,
        trace: Box<Trace>,
    ) -> bool {
        self.trace = Some(trace);
        let untraced = msgtrace::headers::disabled(msg.headers);
        self.deliver_stream_import(server, import, msg, Some(&untraced))
    }

    /// Notes that `client` was given data, so its writer is woken.
    #[inline]
    pub(crate) fn touch(&mut self, client: &Arc<ClientShared>) {
        self.touched
            .entry(client.cid)
            .or_insert_with(|| client.clone());
    }

    /// Wakes the writers of every client given data since the last call.
    pub(crate) fn wake_all(&mut self) {
        for (_, client) in self.touched.drain() {
            client.outbound.wake();
        }
        for route in self.touched_routes.drain(..) {
            route.outbound.wake();
        }
        for leaf in self.touched_leafs.drain(..) {
            leaf.outbound.wake();
        }
        for gw in self.touched_gateways.drain(..) {
            gw.outbound.wake();
        }
    }

    /// The receivers filled past the stall mark since the last call.
    /// Whether a receiver or link was filled past its stall mark since the
    /// last [`take_stalled`](Self::take_stalled).
    pub(crate) fn has_stalled(&self) -> bool {
        !self.stalled.is_empty() || !self.stalled_links.is_empty()
    }

    pub(crate) fn take_stalled(&mut self) -> Vec<Arc<ClientShared>> {
        std::mem::take(&mut self.stalled)
    }

    /// The routes and leafs filled past their stall mark since the last call.
    pub(crate) fn take_stalled_links(&mut self) -> Vec<StalledLink> {
        std::mem::take(&mut self.stalled_links)
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

/// How a trace names a client's subscription.
fn client_egress<'a>(client: &ClientShared, name: &'a str, sub: &'a SubRef) -> Egress<'a> {
    Egress {
        kind: Kind::Client,
        cid: client.cid,
        name,
        account: None,
        subject: sub.subject(),
        queue: sub.queue.as_deref(),
    }
}

/// How a trace names a route, gateway or leaf connection.
fn link_egress(kind: Kind, cid: u64, name: &str) -> Egress<'_> {
    Egress {
        kind,
        cid,
        name,
        account: None,
        subject: b"",
        queue: None,
    }
}
