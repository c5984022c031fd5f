//! A client's outbound queue and the task that drains it to the socket
//! (nats-server's `outbound` and `writeLoop` in `client.go`).
//!
//! Producers (any client's read task) append protocol bytes under a short mutex and
//! remember which queues they touched; after each read batch they wake the writers
//! ([`Outbound::wake`]), so one write serves many messages. Small payloads are copied
//! into the queue's tail buffer; large ones are shared as [`Bytes`] and written with
//! vectored writes. A queue that grows past `max_pending` marks its client as a slow
//! consumer: its data is dropped and the client is closed, nobody else waits.
use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

use super::idle::{IdleTimer, IDLE_RELEASE};
use super::CloseReason;

/// Payloads at most this long are copied into the tail buffer; longer ones are shared.
pub const COPY_THRESHOLD: usize = 2048;

/// A publisher that filled a receiver's queue past 3/4 of `max_pending` waits at
/// most this long for it to drain before reading more (nats-server stalls
/// producers the same way): a fast publisher is slowed to its receivers' pace, and
/// a receiver that does not read at all costs it only this much per read batch
/// until the receiver is cut as a slow consumer.
pub const STALL_MAX: Duration = Duration::from_millis(10);

/// Pending bytes from which a client's publishers wait for it (at most
/// [`STALL_MAX`]): enough to keep its socket busy, little enough that the
/// queues of a fan-out stay in cache instead of growing towards
/// `max_pending`, touching fresh memory all the way.
const CLIENT_STALL_MARK: usize = 1024 * 1024;

/// How long a client may go without finishing a write, while publishers
/// wait for it, before it counts as not draining. Longer than a slow but
/// live reader takes to write a full batch.
const STUCK_AFTER: Duration = Duration::from_millis(250);

/// The instant the outbound clocks count from.
fn clock_base() -> std::time::Instant {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *BASE.get_or_init(std::time::Instant::now)
}

/// Nanoseconds since [`clock_base`].
fn clock_now() -> u64 {
    u64::try_from(clock_base().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Most chunks handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// Largest tail buffer. A tail that would grow past it is frozen into the queue
/// and a new one started, so a deep queue is a list of chunks of this size:
/// no reallocation copies what is already queued, and written chunks are reused
/// (see [`chunk_pool`]) instead of faulting in fresh pages.
const CHUNK: usize = 64 * 1024;

/// Largest written buffer a client keeps as its next tail. Reusing it saves the
/// allocation, the doubling reallocations and the page faults of a fresh tail on
/// every batch (they showed in the pub/sub profile); the cap bounds what a client
/// that once received a burst keeps, like the read buffer's cap.
const RECYCLE_MAX: usize = CHUNK;

/// Smallest written buffer a client keeps as its next tail. A smaller one is
/// cheap to allocate again, and a quiet client (a PONG now and then) then
/// holds no buffer at all between writes.
const RECYCLE_MIN: usize = 2 * 1024;

/// Room an idle client keeps in its tail and spare buffers; more is given back
/// after [`IDLE_RELEASE`] without writes.
const IDLE_KEEP: usize = 4 * 1024;

/// The pending data of one client. Reached through [`Outbound::lock`].
#[derive(Debug, Default)]
pub struct Pending {
    /// Frozen segments, in order, before `tail`.
    chunks: VecDeque<Bytes>,
    /// Where small writes are appended.
    tail: BytesMut,
    /// An empty buffer the writer handed back after writing it, to become the
    /// next tail.
    spare: Option<BytesMut>,
    /// Bytes queued or being written.
    bytes: usize,
    /// Messages delivered to this client (counted under the same lock).
    pub out_msgs: u64,
    /// Payload bytes delivered to this client.
    pub out_bytes: u64,
    /// Set once the client is closing: no more data is accepted.
    closed: Option<CloseReason>,
}

impl Pending {
    /// The buffer to append small protocol data to, with room for `room` more
    /// bytes. A tail that is too full to grow within [`CHUNK`] joins the queue and
    /// a pooled chunk takes its place.
    #[inline]
    pub fn tail(&mut self, room: usize) -> &mut BytesMut {
        if self.tail.capacity() - self.tail.len() < room {
            self.make_room(room);
        }
        &mut self.tail
    }

    #[cold]
    fn make_room(&mut self, room: usize) {
        if self.tail.is_empty() || self.tail.len() + room <= CHUNK {
            // Small tails grow by doubling, up to a chunk.
            let wanted = (self.tail.len() + room).next_power_of_two().min(CHUNK);
            self.tail.reserve(wanted.max(room) - self.tail.len());
        } else {
            let next = chunk_pool::take(room);
            let full = std::mem::replace(&mut self.tail, next);
            self.chunks.push_back(full.freeze());
        }
    }

    /// Appends bytes to the tail.
    #[inline]
    pub fn put(&mut self, data: &[u8]) {
        self.tail(data.len()).put_slice(data);
    }

    /// Appends a shared segment after everything queued so far.
    pub fn push_shared(&mut self, data: Bytes) {
        if !self.tail.is_empty() {
            let head = self.tail.split().freeze();
            self.chunks.push_back(head);
        }
        self.chunks.push_back(data);
    }

    /// Whether the client no longer takes data.
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Bytes queued or being written.
    #[inline]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn queued(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum::<usize>() + self.tail.len()
    }

    /// Room held in the tail and spare buffers.
    fn room(&self) -> usize {
        self.tail.capacity() + self.spare.as_ref().map_or(0, BytesMut::capacity)
    }
}

/// What a write that misses its deadline does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlinePolicy {
    /// The connection closes as a slow consumer.
    Close,
    /// The miss is counted and logged, and writing goes on.
    Retry,
}

/// The outbound side of a client, shared by every task that delivers to it.
#[derive(Debug)]
pub struct Outbound {
    /// Writes that missed the deadline and were retried.
    pub deadline_misses: std::sync::atomic::AtomicU64,
    pending: Mutex<Pending>,
    wake: Notify,
    /// Told after each write, for stalled publishers.
    drained: Notify,
    /// No write finished for [`STUCK_AFTER`] while a publisher waited: the
    /// client is not draining, so publishers stop waiting for it (it fills
    /// up to `max_pending` and is cut) until a write finishes.
    stuck: std::sync::atomic::AtomicBool,
    /// When the last write finished (or the queue was made), in
    /// nanoseconds since [`clock_base`].
    last_write_ns: std::sync::atomic::AtomicU64,
    max_pending: usize,
    /// Pending bytes from which publishers are stalled.
    stall_at: usize,
    /// Why the connection must close, once it must: set once, read without
    /// the queue's lock.
    closing: std::sync::OnceLock<CloseReason>,
    /// Told when `closing` is set; the read task waits on it.
    closing_told: Notify,
}

/// A locked outbound queue. Dropping it unlocks; call [`Outbound::commit`] before
/// that to account for what was added.
pub type PendingGuard<'a> = MutexGuard<'a, Pending>;

impl Outbound {
    /// An outbound queue whose publishers are stalled from `stall_at`
    /// pending bytes (routes: early, to keep their queues short).
    pub fn with_stall_mark(max_pending: usize, stall_at: usize) -> Outbound {
        let mut out = Outbound::new(max_pending);
        out.stall_at = stall_at.min(out.stall_at);
        out
    }

    pub fn new(max_pending: usize) -> Outbound {
        Outbound {
            deadline_misses: std::sync::atomic::AtomicU64::new(0),
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            drained: Notify::new(),
            stuck: std::sync::atomic::AtomicBool::new(false),
            last_write_ns: std::sync::atomic::AtomicU64::new(clock_now()),
            max_pending,
            stall_at: (max_pending / 4 * 3).min(CLIENT_STALL_MARK),
            closing: std::sync::OnceLock::new(),
            closing_told: Notify::new(),
        }
    }

    /// Pending bytes past which the connection is a slow consumer.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// Locks the queue. The caller appends, then calls [`Outbound::commit`] with the
    /// queue length it saw before appending.
    #[inline]
    pub fn lock(&self) -> PendingGuard<'_> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Accounts for `added` bytes just appended. Returns false when the client just
    /// became a slow consumer (its data is dropped and it is told to close).
    #[inline]
    pub fn commit(&self, pending: &mut Pending, added: usize) -> bool {
        pending.bytes += added;
        if pending.bytes > self.max_pending {
            pending.chunks.clear();
            pending.tail.clear();
            pending.bytes = 0;
            self.mark_closed(pending, CloseReason::SlowConsumerPendingBytes);
            self.drained.notify_waiters();
            return false;
        }
        true
    }

    /// Whether the queue is full enough that its publishers should wait.
    #[inline]
    pub fn should_stall(&self, pending: &Pending) -> bool {
        pending.bytes > self.stall_at
    }

    /// Waits until the queue is below the stall mark, the client closes, or
    /// [`STALL_MAX`] passes; at once when the client is not draining.
    pub async fn wait_drained(&self) {
        if self.stuck.load(Ordering::Relaxed) {
            return;
        }
        let deadline = tokio::time::Instant::now() + STALL_MAX;
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            {
                let p = self.lock();
                if p.bytes <= self.stall_at || p.is_closed() {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                let idle = clock_now().saturating_sub(self.last_write_ns.load(Ordering::Relaxed));
                if idle > STUCK_AFTER.as_nanos() as u64 {
                    self.stuck.store(true, Ordering::Relaxed);
                }
                return;
            }
        }
    }

    /// Appends `data` and wakes the writer at once (for data outside the hot path).
    pub fn send_now(&self, data: &[u8]) {
        {
            let mut p = self.lock();
            if p.is_closed() {
                return;
            }
            p.put(data);
            self.commit(&mut p, data.len());
        }
        self.wake();
    }

    /// Wakes the writer task.
    #[inline]
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks for the connection to close for `reason`. Data already queued is still
    /// written (so a final `-ERR` reaches the client), unless it is a slow consumer.
    pub fn close(&self, reason: CloseReason) {
        let mut p = self.lock();
        self.mark_closed(&mut p, reason);
        drop(p);
        self.wake();
    }

    fn mark_closed(&self, pending: &mut Pending, reason: CloseReason) {
        if pending.closed.is_none() {
            pending.closed = Some(reason);
            let _ = self.closing.set(reason);
            self.closing_told.notify_waiters();
            self.wake.notify_one();
        }
    }

    /// Why the connection is closing, if it is.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.lock().closed
    }

    /// Completes, with the reason, once the connection must close.
    pub async fn closed(&self) -> CloseReason {
        loop {
            let told = self.closing_told.notified();
            tokio::pin!(told);
            // Registered before the check, so a close in between is not missed.
            told.as_mut().enable();
            if let Some(reason) = self.closing.get() {
                return *reason;
            }
            told.await;
        }
    }

    /// Bytes queued or being written.
    pub fn pending_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Takes everything queued into `batch`; returns whether the client is closing
    /// and whether its buffers hold more room than an idle client keeps.
    /// The tail moves out whole and is replaced by the spare buffer (or a new one
    /// sized like it), so the written buffer comes back unshared for reuse.
    fn take(&self, batch: &mut VecDeque<Bytes>) -> (Option<CloseReason>, bool) {
        let mut p = self.lock();
        batch.append(&mut p.chunks);
        if !p.tail.is_empty() {
            // The spare buffer, or none until the next write needs one.
            let next = p.spare.take().unwrap_or_default();
            let full = std::mem::replace(&mut p.tail, next);
            batch.push_back(full.freeze());
        }
        debug_assert_eq!(p.queued(), 0);
        (p.closed, p.room() > IDLE_KEEP)
    }

    /// Gives back the room of the tail and spare buffers when nothing is queued.
    fn release_idle(&self) {
        let mut p = self.lock();
        if p.queued() == 0 && p.room() > IDLE_KEEP {
            p.spare = None;
            if p.tail.capacity() > IDLE_KEEP {
                p.tail = BytesMut::new();
            }
            crate::heap::note_freed();
        }
    }

    /// Accounts for `n` bytes written and keeps `spare` for the next tail.
    fn written(&self, n: usize, spare: Option<BytesMut>) {
        let mut p = self.lock();
        p.bytes = p.bytes.saturating_sub(n);
        if p.spare.is_none() && !p.is_closed() {
            p.spare = spare;
        }
    }

    /// Drains the queue to `writer` until the client closes. Each write must finish
    /// within `write_deadline`, else the client is a slow consumer. Returns why the
    /// writing stopped.
    pub async fn run_writer<W>(&self, writer: W, write_deadline: Duration) -> CloseReason
    where
        W: AsyncWrite + Unpin,
    {
        self.run_writer_with(writer, write_deadline, DeadlinePolicy::Close)
            .await
    }

    /// [`Outbound::run_writer`] with a choice of what a missed write deadline
    /// does: close the connection (clients), or note it and keep writing
    /// (routes, as the reference's default `write_timeout` policy for them).
    pub async fn run_writer_with<W>(
        &self,
        mut writer: W,
        write_deadline: Duration,
        policy: DeadlinePolicy,
    ) -> CloseReason
    where
        W: AsyncWrite + Unpin,
    {
        let mut batch: VecDeque<Bytes> = VecDeque::new();
        let mut spare: Option<BytesMut> = None;
        let mut idle_release = IdleTimer::default();
        let mut wrote_lately = false;
        loop {
            let (closing, grown) = self.take(&mut batch);
            if batch.is_empty() {
                if let Some(reason) = closing {
                    let _ = tokio::time::timeout(write_deadline, writer.shutdown()).await;
                    return reason;
                }
                tokio::select! {
                    biased;
                    () = self.wake.notified() => {}
                    () = idle_release.due(), if grown => {
                        // Released one to two periods after the last write.
                        if std::mem::take(&mut wrote_lately) {
                            idle_release.reset(tokio::time::Instant::now() + IDLE_RELEASE);
                        } else {
                            self.release_idle();
                            idle_release.disarm();
                        }
                    }
                }
                continue;
            }
            wrote_lately = true;
            if closing == Some(CloseReason::SlowConsumerPendingBytes) {
                batch.clear();
                continue;
            }
            let total: usize = batch.iter().map(Bytes::len).sum();
            let wrote = tokio::time::timeout(
                write_deadline,
                write_all(&mut writer, &mut batch, &mut spare),
            );
            match wrote.await {
                Ok(Ok(())) => {
                    self.written(total, spare.take());
                    self.last_write_ns.store(clock_now(), Ordering::Relaxed);
                    self.stuck.store(false, Ordering::Relaxed);
                    self.drained.notify_waiters();
                }
                Ok(Err(_)) => {
                    batch.clear();
                    self.close(CloseReason::WriteError);
                    return CloseReason::WriteError;
                }
                Err(_) if policy == DeadlinePolicy::Retry => {
                    // What was written left the batch; the rest goes next.
                    let left: usize = batch.iter().map(Bytes::len).sum();
                    self.written(total - left, None);
                    self.deadline_misses
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(
                        "Slow Consumer Detected: WriteDeadline of {write_deadline:?} exceeded, retrying"
                    );
                }
                Err(_) => {
                    batch.clear();
                    self.close(CloseReason::SlowConsumerWriteDeadline);
                    return CloseReason::SlowConsumerWriteDeadline;
                }
            }
        }
    }
}

/// Writes every chunk, with as few syscalls as the socket allows. A written
/// chunk that nobody else holds and that is small enough is kept in `spare`.
async fn write_all<W: AsyncWrite + Unpin>(
    writer: &mut W,
    batch: &mut VecDeque<Bytes>,
    spare: &mut Option<BytesMut>,
) -> std::io::Result<()> {
    while !batch.is_empty() {
        let n = if batch.len() == 1 {
            writer.write(&batch[0]).await?
        } else {
            // The slices are made afresh at each poll, so that they are no
            // part of this future: every connection's writer task holds it.
            std::future::poll_fn(|cx| {
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let mut count = 0;
                for (slot, chunk) in slices.iter_mut().zip(batch.iter()) {
                    *slot = IoSlice::new(chunk);
                    count += 1;
                }
                std::pin::Pin::new(&mut *writer).poll_write_vectored(cx, &slices[..count])
            })
            .await?
        };
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let mut left = n;
        while left > 0 {
            let Some(front) = batch.front_mut() else {
                break;
            };
            if front.len() <= left {
                left -= front.len();
                if let Some(done) = batch.pop_front() {
                    recycle(done, spare);
                }
            } else {
                front.advance(left);
                left = 0;
            }
        }
    }
    writer.flush().await
}

/// Keeps `done`, when it is unshared and not too large, as the spare buffer, or
/// else gives a full-size chunk back to the pool.
fn recycle(done: Bytes, spare: &mut Option<BytesMut>) {
    let Ok(mut buffer) = done.try_into_mut() else {
        return;
    };
    buffer.clear();
    let kept = RECYCLE_MIN..=RECYCLE_MAX;
    if spare.is_none() && kept.contains(&buffer.capacity()) {
        *spare = Some(buffer);
    } else {
        chunk_pool::give(buffer);
    }
}

/// Written chunks waiting to be filled again, shared by all clients (like the
/// reference's buffer pools). A deep queue writes and refills chunks at the same
/// pace, so a small pool turns most new chunks into reused ones. One short lock
/// per 64 KiB chunk; the pool holds at most [`chunk_pool::KEEP`] chunks.
mod chunk_pool {
    use std::sync::Mutex;

    use bytes::BytesMut;

    use super::CHUNK;

    /// Most chunks kept (2 MiB).
    pub(super) const KEEP: usize = 32;

    static FREE: Mutex<Vec<BytesMut>> = Mutex::new(Vec::new());

    /// An empty buffer with room for at least `room` bytes, a pooled chunk if
    /// one is free.
    pub(super) fn take(room: usize) -> BytesMut {
        if room <= CHUNK {
            let pooled = FREE.lock().unwrap_or_else(|e| e.into_inner()).pop();
            if let Some(chunk) = pooled {
                return chunk;
            }
        }
        BytesMut::with_capacity(room.max(CHUNK))
    }

    #[cfg(test)]
    pub(super) fn len() -> usize {
        FREE.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Keeps an empty full-size chunk for reuse, if the pool has room.
    pub(super) fn give(chunk: BytesMut) {
        // A chunk written in parts comes back without the part advanced past.
        if chunk.capacity() < CHUNK / 2 || chunk.capacity() > CHUNK || !chunk.is_empty() {
            return;
        }
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < KEEP {
            free.push(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Batches of copied and shared data arrive whole and in order, and the
    /// written tail comes back as the spare buffer for the next batch.
    #[tokio::test]
    async fn batches_arrive_in_order_and_the_tail_is_reused() {
        let outbound = std::sync::Arc::new(Outbound::new(1 << 20));
        let (client_side, mut reader) = tokio::io::duplex(1 << 16);
        let writer = {
            let outbound = outbound.clone();
            tokio::spawn(async move {
                outbound
                    .run_writer(client_side, Duration::from_secs(5))
                    .await
            })
        };
        let mut expected = Vec::new();
        let mut received = Vec::new();
        for batch in 0..50u32 {
            {
                let mut p = outbound.lock();
                for i in 0..20u32 {
                    let line = format!("MSG b{batch} {i}\r\n");
                    p.put(line.as_bytes());
                    expected.extend_from_slice(line.as_bytes());
                    outbound.commit(&mut p, line.len());
                }
                let shared = Bytes::from(vec![b'x'; 3000 + batch as usize]);
                expected.extend_from_slice(&shared);
                let len = shared.len();
                p.push_shared(shared);
                outbound.commit(&mut p, len);
            }
            outbound.wake();
            while received.len() < expected.len() {
                let mut chunk = [0u8; 8192];
                let n = reader.read(&mut chunk).await.unwrap();
                received.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(received, expected);
        }
        // Let the writer account for its last write.
        for _ in 0..100 {
            if outbound.pending_bytes() == 0 && outbound.lock().spare.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(outbound.pending_bytes(), 0);
        assert!(
            outbound.lock().spare.is_some(),
            "the written tail was not kept"
        );
        outbound.close(CloseReason::ClientClosed);
        assert_eq!(writer.await.unwrap(), CloseReason::ClientClosed);
    }

    /// A deep queue is a list of chunks no larger than `CHUNK`: appending never
    /// reallocates what is already queued. The bytes still come out in order.
    #[test]
    fn a_deep_queue_is_made_of_bounded_chunks() {
        let outbound = Outbound::new(1 << 24);
        let mut expected = Vec::new();
        {
            let mut p = outbound.lock();
            for i in 0..20_000u32 {
                let line = format!("MSG natsbench 1 16\r\n{i:016}\r\n");
                p.put(line.as_bytes());
                outbound.commit(&mut p, line.len());
                expected.extend_from_slice(line.as_bytes());
            }
            assert!(p.chunks.len() >= 5, "{} chunks", p.chunks.len());
            assert!(p.chunks.iter().all(|c| c.len() <= CHUNK));
            assert_eq!(p.queued(), expected.len());
        }
        let mut batch = VecDeque::new();
        assert_eq!(outbound.take(&mut batch).0, None);
        let written: Vec<u8> = batch.iter().flat_map(|c| c.iter().copied()).collect();
        assert_eq!(written, expected);
        // Written chunks nobody else holds go to the spare slot, then to the pool.
        let mut spare = None;
        for chunk in batch {
            recycle(chunk, &mut spare);
        }
        assert!(spare.is_some_and(|s| s.capacity() <= RECYCLE_MAX));
        assert!(chunk_pool::len() > 0, "no written chunk was pooled");
        assert!(chunk_pool::len() <= chunk_pool::KEEP);
    }

    /// After a burst the tail and spare buffers keep their room for the next one;
    /// an idle release gives it back, but never while something is queued.
    #[test]
    fn idle_release_gives_back_grown_buffers_only_when_nothing_is_queued() {
        let outbound = Outbound::new(1 << 24);
        let burst = vec![b'x'; 40 * 1024];
        let mut batch = VecDeque::new();
        for _ in 0..2 {
            let mut p = outbound.lock();
            p.put(&burst);
            outbound.commit(&mut p, burst.len());
            drop(p);
            outbound.take(&mut batch);
            let mut spare = None;
            for chunk in batch.drain(..) {
                recycle(chunk, &mut spare);
            }
            outbound.written(burst.len(), spare);
        }
        assert!(
            outbound.lock().room() > IDLE_KEEP,
            "no room kept after a burst"
        );
        assert!(outbound.take(&mut batch).1, "grown buffers not reported");

        outbound.lock().put(b"PING\r\n");
        outbound.release_idle();
        assert!(
            outbound.lock().room() > IDLE_KEEP,
            "released with data queued"
        );
        assert_eq!(outbound.take(&mut batch).0, None);
        batch.clear();

        outbound.release_idle();
        assert!(outbound.lock().room() <= IDLE_KEEP);
        assert!(!outbound.take(&mut batch).1);
    }

    #[test]
    fn only_unshared_buffers_of_bounded_size_are_kept() {
        let mut spare = None;
        let shared = Bytes::from(vec![1u8; 100]);
        let other = shared.clone();
        recycle(shared, &mut spare);
        assert!(spare.is_none(), "a buffer still held elsewhere was kept");
        drop(other);
        recycle(Bytes::from(vec![1u8; RECYCLE_MAX * 2]), &mut spare);
        assert!(spare.is_none(), "an oversized buffer was kept");
        recycle(Bytes::from(vec![1u8; 100]), &mut spare);
        assert!(
            spare.is_none(),
            "a small buffer was kept: quiet clients would hold one"
        );
        recycle(Bytes::from(vec![1u8; RECYCLE_MIN]), &mut spare);
        let kept = spare.expect("kept");
        assert!(kept.is_empty());
        assert!(kept.capacity() >= RECYCLE_MIN);
    }
}
