//! Giving freed memory back to the operating system. A connection that goes
//! quiet gives up the room its buffers grew to, and a closed connection frees
//! all of its own; either way they say so here ([`note_freed`]), and
//! [`trim_loop`] then asks the allocator, at most once per [`IDLE_RELEASE`], to
//! return its free pages ([`gannet_heap::release_free_memory`]). Without this,
//! glibc keeps freed memory resident, and a server stays at the peak of its
//! last burst. In between, the allocator is told to keep what is freed for
//! reuse ([`gannet_heap::keep_freed_memory_for_reuse`]): giving back the
//! top of the heap at every free made each large message copy fault in
//! fresh pages.
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::{Instant, MissedTickBehavior};

use crate::client::IDLE_RELEASE;

/// Set when memory was freed since the last trim. The heap is the process's,
/// so the flag is too.
static FREED: AtomicBool = AtomicBool::new(false);

/// Tells the trimmer that memory worth giving back was freed.
pub(crate) fn note_freed() {
    if !FREED.load(Ordering::Relaxed) {
        FREED.store(true, Ordering::Relaxed);
    }
}

/// Trims the heap after memory was freed, on a blocking thread (the trim locks
/// each arena in turn, which must not hold up a worker).
pub(crate) async fn trim_loop() {
    // Freed memory is kept for reuse while the server is busy; this loop
    // gives it back once memory was freed and a period has passed.
    if !gannet_heap::keep_freed_memory_for_reuse() {
        tracing::debug!("The allocator kept its own trim settings");
    }
    let mut tick = tokio::time::interval(IDLE_RELEASE);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !FREED.swap(false, Ordering::Relaxed) {
            continue;
        }
        let started = Instant::now();
        let released = tokio::task::spawn_blocking(gannet_heap::release_free_memory)
            .await
            .unwrap_or(false);
        tracing::debug!(
            "Gave free heap memory back: {released} (in {:?})",
            started.elapsed()
        );
    }
}
