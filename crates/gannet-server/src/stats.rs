//! Server-wide counters (what `/varz` reports as in/out messages and bytes, slow
//! consumers and connections). Publishers add their per-batch totals, not one
//! atomic operation per message. Client traffic and route traffic are counted
//! apart, as `/varz` reports both (`in_msgs` is their sum, `in_client_msgs`
//! the clients' part).
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ServerStats {
    pub in_msgs: AtomicU64,
    pub in_bytes: AtomicU64,
    pub out_msgs: AtomicU64,
    pub out_bytes: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub stale_connections: AtomicU64,
    pub total_connections: AtomicU64,
    /// Messages and bytes that came in from routes.
    pub route_in_msgs: AtomicU64,
    pub route_in_bytes: AtomicU64,
    /// Messages and bytes sent out on routes.
    pub route_out_msgs: AtomicU64,
    pub route_out_bytes: AtomicU64,
}

/// Counts gathered during one read batch, added to [`ServerStats`] at its end.
#[derive(Debug, Default, Clone, Copy)]
pub struct BatchStats {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    /// Copies sent on routes.
    pub routed_msgs: u64,
    pub routed_bytes: u64,
}

impl ServerStats {
    /// Counts messages the server delivered on its own (events, replies).
    pub fn add_out(&self, msgs: u64, bytes: u64) {
        if msgs > 0 {
            self.out_msgs.fetch_add(msgs, Ordering::Relaxed);
            self.out_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub fn add(&self, b: &BatchStats) {
        if b.in_msgs > 0 {
            self.in_msgs.fetch_add(b.in_msgs, Ordering::Relaxed);
            self.in_bytes.fetch_add(b.in_bytes, Ordering::Relaxed);
        }
        if b.out_msgs > 0 {
            self.out_msgs.fetch_add(b.out_msgs, Ordering::Relaxed);
            self.out_bytes.fetch_add(b.out_bytes, Ordering::Relaxed);
        }
        self.add_routed(b.routed_msgs, b.routed_bytes);
    }

    /// Counts copies sent on routes.
    pub fn add_routed(&self, msgs: u64, bytes: u64) {
        if msgs > 0 {
            self.route_out_msgs.fetch_add(msgs, Ordering::Relaxed);
            self.route_out_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Counts messages that came in from a route.
    pub fn add_route_in(&self, msgs: u64, bytes: u64) {
        if msgs > 0 {
            self.route_in_msgs.fetch_add(msgs, Ordering::Relaxed);
            self.route_in_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}
