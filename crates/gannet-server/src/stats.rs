//! Server-wide counters (what `/varz` reports as in/out messages and bytes, slow
//! consumers and connections). Publishers add their per-batch totals, not one
//! atomic operation per message.
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
}

/// Counts gathered during one read batch, added to [`ServerStats`] at its end.
#[derive(Debug, Default, Clone, Copy)]
pub struct BatchStats {
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
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
    }
}
