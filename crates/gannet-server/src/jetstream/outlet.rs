//! How JetStream's threads publish: acknowledgements, API answers, messages
//! delivered to consumers, status messages. Each stream thread owns an
//! [`Outlet`], its own [`Fanout`], so what it sends takes the one path every
//! message takes, straight from that thread, and the writers of the clients
//! it reached are woken once per batch ([`Outlet::flush`]).
use std::sync::Arc;

use crate::accounts::Account;
use crate::fanout::{Fanout, Message};
use crate::server::Server;

pub(crate) struct Outlet {
    fanout: Fanout,
}

impl Outlet {
    pub(crate) fn new() -> Outlet {
        Outlet {
            fanout: Fanout::new(0x4A53),
        }
    }

    /// Publishes in `account`; whether anyone got it.
    pub(crate) fn publish(
        &mut self,
        server: &Server,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> bool {
        let mut msg = Message::new(subject, reply, headers, payload);
        self.fanout.publish(server, account, &mut msg)
    }

    /// Publishes a stored message to the subscribers of `to` (a pull
    /// request's reply, a deliver subject), shown to clients under the
    /// message's own `subject`, as nats-server delivers it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn deliver(
        &mut self,
        server: &Server,
        account: &Arc<Account>,
        to: &[u8],
        subject: &[u8],
        reply: Option<&[u8]>,
        headers: Option<&[u8]>,
        payload: &[u8],
    ) -> bool {
        let mut msg = Message::new(to, reply, headers, payload).shown_as(subject);
        self.fanout.publish(server, account, &mut msg)
    }

    /// Wakes the writers of every client reached since the last flush and
    /// counts what went out. JetStream never waits for slow receivers: a
    /// consumer's messages wait in the stream, not in memory.
    pub(crate) fn flush(&mut self, server: &Server) {
        let f = &mut self.fanout;
        server.stats().add_out(f.out_msgs, f.out_bytes);
        server.stats().add_routed(f.routed_msgs, f.routed_bytes);
        f.out_msgs = 0;
        f.out_bytes = 0;
        f.routed_msgs = 0;
        f.routed_bytes = 0;
        f.take_stalled();
        f.take_stalled_links();
        f.wake_all();
    }
}
