//! Idle spinning: a runtime worker that runs out of work keeps checking the
//! client sockets for a short while before it goes to sleep.
//!
//! Waking a sleeping thread costs far more than the work of one small message,
//! on virtual machines most of all, where a sleeping CPU has to be woken by the
//! hypervisor: a request/reply round trip is mostly such wake-ups. When the next
//! message comes within the spin window, the worker never sleeps and the
//! wake-up is saved; when it comes later, the spin was wasted.
//!
//! The window adapts per worker, the way KVM's halt polling does: it grows
//! (doubling, from an eighth of the limit) while the worker's idle spells are no
//! longer than twice the limit, and halves, down to nothing, after each longer
//! one. A server whose traffic comes in bursts spins between the messages of a
//! burst; a quiet server, or one whose messages are further apart than twice
//! the limit, does not spin at all. Only one worker spins at a time.
//!
//! The check itself is a second epoll instance in which every client socket is
//! registered, edge-triggered, next to tokio's own: polling it with a zero
//! timeout tells the spinning worker that data has come, and tokio's driver
//! then finds the same event without sleeping.
//!
//! It is off by default (`idle_spin` 0). The spin trades CPU for latency, and
//! at steady moderate rates the trade is poor: with a 100 µs limit, a client
//! doing 5,000 round trips a second kept the server's core two thirds busy,
//! more than nats-server uses for the same traffic and several times what the
//! server needs without spinning, because every gap of up to twice the limit
//! is filled with polling. Set it when request/reply latency matters more than
//! CPU (the README's "Idle spinning" has the measurements).
//!
//! [`install`] adds the hooks to a runtime builder (the binary does, whatever
//! the limit, so a reload can turn spinning on); [`set_limit`] sets the longest
//! window (`idle_spin`, 0 turns it off; the server sets it at start and on
//! reload); [`register`] adds a socket (every socket is registered, so
//! connections made while spinning was off are covered once it is on). Without
//! [`install`] the other two do nothing.
use std::cell::Cell;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

/// The process-wide spin state: the runtime hooks are process-wide too.
static SPINNER: OnceLock<Spinner> = OnceLock::new();

/// Events read per poll; more are left for the next poll.
const EVENTS_PER_POLL: usize = 16;

struct Spinner {
    /// Every registered socket, edge-triggered for input.
    epoll: Epoll,
    /// The longest spin window, in nanoseconds; 0 turns spinning off.
    limit_nanos: AtomicU64,
    /// Whether some worker is spinning now.
    spinning: AtomicBool,
}

thread_local! {
    /// This worker's current spin window.
    static WINDOW: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// When this worker ran out of work.
    static IDLE_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Adds the spin hooks to `builder`, with the longest window `limit`. Returns
/// false (and adds nothing) when the spin epoll cannot be created.
pub fn install(builder: &mut tokio::runtime::Builder, limit: Duration) -> bool {
    let Ok(epoll) = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) else {
        return false;
    };
    let spinner = SPINNER.get_or_init(|| Spinner {
        epoll,
        limit_nanos: AtomicU64::new(0),
        spinning: AtomicBool::new(false),
    });
    spinner.set_limit(limit);
    builder
        .on_thread_park(before_park)
        .on_thread_unpark(after_unpark);
    true
}

/// Sets the longest spin window (a reload may change it); zero turns spinning off.
pub fn set_limit(limit: Duration) {
    if let Some(spinner) = SPINNER.get() {
        spinner.set_limit(limit);
    }
}

/// Watches `socket` for input while spinning. A closed socket leaves the
/// epoll set by itself.
pub fn register(socket: impl AsFd) {
    if let Some(spinner) = SPINNER.get() {
        let interest = EpollEvent::new(EpollFlags::EPOLLIN | EpollFlags::EPOLLET, 0);
        if let Err(e) = spinner.epoll.add(socket, interest) {
            tracing::debug!("idle spin: cannot watch a socket: {e}");
        }
    }
}

impl Spinner {
    fn limit(&self) -> Duration {
        Duration::from_nanos(self.limit_nanos.load(Ordering::Relaxed))
    }

    fn set_limit(&self, limit: Duration) {
        let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        self.limit_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Polls for input until some comes or `window` has passed. Between polls
    /// it yields its CPU to any other thread ready to run there, so the spin
    /// only ever takes time nobody else wants.
    fn spin(&self, window: Duration) {
        let deadline = Instant::now() + window;
        let mut events = [EpollEvent::empty(); EVENTS_PER_POLL];
        loop {
            let ready = self.epoll.wait(&mut events, EpollTimeout::ZERO);
            if matches!(ready, Ok(n) if n > 0) || Instant::now() >= deadline {
                return;
            }
            std::thread::yield_now();
        }
    }
}

/// Runs when a worker has no more work: spin for this worker's window, unless
/// another worker is spinning already. With spinning off (the default) it does
/// nothing, not even read the clock; a window left from before a reload turned
/// spinning off is dropped.
fn before_park() {
    let Some(spinner) = SPINNER.get() else {
        return;
    };
    if spinner.limit_nanos.load(Ordering::Relaxed) == 0 {
        WINDOW.with(|window| window.set(Duration::ZERO));
        return;
    }
    IDLE_SINCE.with(|since| since.set(Some(Instant::now())));
    let window = WINDOW.with(Cell::get);
    if window.is_zero() || spinner.spinning.swap(true, Ordering::Acquire) {
        return;
    }
    spinner.spin(window);
    spinner.spinning.store(false, Ordering::Release);
}

/// Runs when a worker has work again: adapt its window to how long it was idle.
fn after_unpark() {
    let Some(spinner) = SPINNER.get() else {
        return;
    };
    let Some(since) = IDLE_SINCE.with(Cell::take) else {
        return;
    };
    let idle = since.elapsed();
    WINDOW.with(|window| window.set(next_window(window.get(), idle, spinner.limit())));
}

/// The spin window after an idle spell of `idle`: wider when the spell was
/// short, narrower when it was long. "Short" allows twice the limit: a spell
/// whose spin ran out includes the wake-up from sleep, which on a virtual
/// machine can be as long as the gap itself; judged against the bare limit,
/// one late message would close the window for good.
fn next_window(window: Duration, idle: Duration, limit: Duration) -> Duration {
    let floor = limit / 8;
    if limit.is_zero() {
        Duration::ZERO
    } else if idle <= limit * 2 {
        (window * 2).clamp(floor, limit)
    } else if window / 2 < floor {
        Duration::ZERO
    } else {
        window / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_micros(100);

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// The windows after five idle spells of `idle` each, from `window`.
    fn five_windows(mut window: Duration, idle: Duration) -> Vec<Duration> {
        (0..5)
            .map(|_| {
                window = next_window(window, idle, LIMIT);
                window
            })
            .collect()
    }

    #[test]
    fn short_idle_spells_widen_the_window_up_to_the_limit() {
        let eighth = Duration::from_nanos(12_500);
        assert_eq!(
            five_windows(Duration::ZERO, us(60)),
            [eighth, us(25), us(50), us(100), us(100)]
        );
    }

    #[test]
    fn long_idle_spells_narrow_the_window_to_nothing() {
        let eighth = Duration::from_nanos(12_500);
        assert_eq!(
            five_windows(LIMIT, us(500)),
            [us(50), us(25), eighth, Duration::ZERO, Duration::ZERO]
        );
    }

    #[test]
    fn an_idle_spell_of_up_to_twice_the_limit_counts_as_short() {
        assert_eq!(next_window(us(50), LIMIT * 2, LIMIT), LIMIT);
        assert_eq!(next_window(LIMIT, LIMIT * 2 + us(1), LIMIT), us(50));
    }

    #[test]
    fn a_zero_limit_never_spins() {
        assert_eq!(next_window(us(50), us(1), Duration::ZERO), Duration::ZERO);
        assert_eq!(
            next_window(Duration::ZERO, Duration::ZERO, Duration::ZERO),
            Duration::ZERO
        );
    }

    #[test]
    fn a_lowered_limit_caps_a_wider_window() {
        assert_eq!(next_window(LIMIT, us(10), us(40)), us(40));
    }
}
