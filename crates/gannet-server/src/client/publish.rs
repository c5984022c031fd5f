//! A client's PUB and HPUB (nats-server's `processInboundClientMsg`): the
//! account's subject mappings, the publish permission, the subject lookup in
//! the client's own match cache, the no-responders status (only when no peer server is interested either),
//! and the hand-over to the fan-out (`crate::fanout`), which delivers to
//! every kind of subscriber, to the routes of interested peers and to the
//! other clusters over gateways (a `_GR_.` reply for another cluster goes
//! straight there). A message whose headers ask for a trace takes a path of
//! its own to the same fan-out (`publish_traced`).
use super::cache::MatchCache;
use super::connection::Connection;
use super::CloseReason;
use crate::fanout::Message;
use crate::internal::OriginRef;
use crate::msgtrace::{self, Start};

/// Reply subject prefixes the server keeps for itself, as the reference does:
/// service import replies, JetStream acknowledgements, gateway replies.
const RESERVED_REPLY_PREFIXES: [&[u8]; 3] = [b"_R_.", b"$JS.ACK.", b"_GR_."];

/// Whether a client may not use `reply` as a reply subject.
#[inline]
fn is_reserved_reply(reply: &[u8]) -> bool {
    matches!(reply.first(), Some(b'_' | b'$'))
        && RESERVED_REPLY_PREFIXES.iter().any(|p| reply.starts_with(p))
}

/// The status line and header the reference sends when a request has no responders.
const NO_RESPONDERS_HEAD: &[u8] = b"NATS/1.0 503\r\nNats-Subject: ";

impl Connection {
    /// Handles PUB and HPUB.
    pub(super) fn publish(
        &mut self,
        published: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> Result<(), CloseReason> {
        self.batch.in_msgs += 1;
        self.batch.in_bytes += (payload.len() + headers.map_or(0, <[u8]>::len)) as u64;
        match headers {
            Some(h) if msgtrace::may_ask(h, &self.account) => {
                self.publish_traced(published, reply, h, payload)
            }
            _ => self.publish_as_is(published, reply, headers, payload),
        }
    }

    /// A message whose headers may ask for a trace ([`crate::msgtrace`]).
    #[cold]
    fn publish_traced(
        &mut self,
        published: &[u8],
        reply: Option<&[u8]>,
        headers: &[u8],
        payload: &[u8],
    ) -> Result<(), CloseReason> {
        match self.start_trace(published, headers, headers.len() + payload.len()) {
            Start::No => self.publish_as_is(published, reply, Some(headers), payload),
            Start::Skip => Ok(()),
            Start::Denied(dest) => {
                let text = format!("Permissions Violation for Publish to \"{dest}\"");
                self.permission_violation(&text);
                Ok(())
            }
            Start::Disable => {
                let disabled = msgtrace::headers::disabled(Some(headers));
                self.publish_as_is(published, reply, Some(&disabled), payload)
            }
            Start::Traced(trace) => {
                self.fanout.begin_trace(trace);
                let done = self.publish_as_is(published, reply, Some(headers), payload);
                self.fanout.end_trace(&self.server);
                done
            }
        }
    }

    /// What the headers of a message of `size` bytes published on
    /// `published` make of it ([`msgtrace::start`]), this client its ingress.
    fn start_trace(&self, published: &[u8], headers: &[u8], size: usize) -> Start {
        let name = self.opts.name.clone();
        let from = msgtrace::Ingress {
            kind: msgtrace::Kind::Client,
            cid: self.shared.cid,
            name: &name,
            account: &self.account,
            subject: published,
            size,
            log: &self.prefix,
        };
        let perms = self.identity.perms.clone();
        msgtrace::start(&self.server, headers, &from, |dest| {
            perms.as_ref().is_none_or(|p| p.can_publish(dest))
        })
    }

    /// An HPUB too large to take, whose header block (what of it has
    /// arrived, in `rest`: the HPUB line and what follows) asks for a
    /// trace: the trace's only event is its ingress with the error, as
    /// nats-server reports it before closing the connection.
    #[cold]
    pub(super) fn trace_oversized(&mut self, rest: &[u8]) {
        let Some(end) = memchr::memmem::find(rest, b"\r\n") else {
            return;
        };
        let (line, after) = (&rest[..end], &rest[end + 2..]);
        let Some((subject, header_len, total)) = gannet_proto::hpub_sizes(line) else {
            return;
        };
        let headers = &after[..after.len().min(header_len)];
        if header_len == 0 || !msgtrace::may_ask(headers, &self.account) {
            return;
        }
        if let Start::Traced(trace) = self.start_trace(subject, headers, total) {
            trace.ingress_error(msgtrace::reason::MAX_PAYLOAD);
            trace.finish(&self.server);
        }
    }

    /// Maps, checks and delivers a message (traced or not: the fan-out knows).
    #[inline]
    fn publish_as_is(
        &mut self,
        published: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> Result<(), CloseReason> {
        // The account's subject mappings come first: permissions and
        // delivery are about the subject the message is mapped to.
        let Some(subject) = self
            .account
            .mapped_subject(published, || self.server.cluster_name())
        else {
            self.ok();
            return Ok(());
        };
        let subject: &[u8] = &subject;
        if let Some(trace) = self.fanout.trace().filter(|_| subject != published) {
            trace.mapped(subject);
        }
        if let Some(perms) = &self.identity.perms {
            if !self.identity.pub_cache.check(perms, subject) && !self.shared.take_response(subject)
            {
                let text = format!(
                    "Permissions Violation for Publish to \"{}\"",
                    String::from_utf8_lossy(subject)
                );
                if let Some(trace) = self.fanout.trace() {
                    trace.ingress_error(&text);
                }
                self.permission_violation(&text);
                return Ok(());
            }
        }
        if let Some(reply) = reply.filter(|r| is_reserved_reply(r)) {
            let text = format!(
                "Permissions Violation for Publish with Reply of \"{}\"",
                String::from_utf8_lossy(reply)
            );
            if let Some(trace) = self.fanout.trace() {
                trace.ingress_error(&text);
            }
            self.permission_violation(&text);
            return Ok(());
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
                let mut msg =
                    Message::new(subject, reply, headers, payload).with_origin(Some(OriginRef {
                        account: &self.account,
                        user: self.identity.user.as_deref(),
                        perms: self.identity.perms.as_ref(),
                        client: Some(&self.shared),
                    }));
                // A reply on its way back to another cluster (or server).
                if subject.starts_with(crate::gateway::REPLY_PREFIX)
                    && self.fanout.gateway_reply(
                        &self.server,
                        &self.account,
                        &mut msg,
                        crate::fanout::ReplyFrom::Local,
                    )
                {
                    self.cache = cache;
                    return Ok(());
                }
                let mut answered = false;
                if let Some(routes) = self.account.routes() {
                    answered =
                        self.fanout
                            .cross_accounts(&self.server, &self.account, &routes, &msg);
                }
                let result = &cached.result;
                let remote = self.account.remote_matches(subject);
                if !result.is_empty() || remote.is_some() {
                    let skip = (!self.opts.echo).then_some(self.shared.cid);
                    self.fanout.fan_out_cluster(
                        &self.server,
                        &self.account,
                        result,
                        remote.as_deref(),
                        &mut msg,
                        skip,
                    );
                }
                let crossed = self.fanout.send_to_gateways(
                    &self.server,
                    &self.account,
                    &mut msg,
                    result,
                    remote.as_deref(),
                );
                if result.is_empty() && remote.is_none() && !crossed {
                    if let Some(reply) = reply.filter(|_| !answered) {
                        if self.opts.no_responders {
                            self.no_responders(&mut cache, subject, reply);
                        }
                    }
                }
            }
        }
        self.cache = cache;
        Ok(())
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
            .find(|s| s.cid() == own)
            .cloned();
        if let Some(sub) = target {
            self.fanout.deliver(&self.server, &sub, &mut msg);
        }
    }
}
