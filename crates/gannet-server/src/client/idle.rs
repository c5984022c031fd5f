//! Giving back what a burst grew. A connection that has neither read nor
//! written for [`IDLE_RELEASE`] returns the room its buffers grew to (a burst
//! of large messages leaves up to a few hundred KiB per connection otherwise).
//! Its tasks check with an [`IdleTimer`], which exists only while a buffer is
//! grown: busy connections check once per period, small ones never, and an
//! idle connection carries no timer.
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// How long a connection must be quiet before it gives back its buffers' room.
pub(crate) const IDLE_RELEASE: Duration = Duration::from_secs(5);

/// A timer made on first use and dropped again by [`IdleTimer::disarm`].
#[derive(Default)]
pub(super) struct IdleTimer(Option<Pin<Box<Sleep>>>);

impl IdleTimer {
    /// Completes when the timer is due; one [`IDLE_RELEASE`] from the first
    /// poll when it was not armed.
    pub(super) async fn due(&mut self) {
        self.0
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(IDLE_RELEASE)))
            .as_mut()
            .await;
    }

    /// Makes the timer due at `at`.
    pub(super) fn reset(&mut self, at: Instant) {
        if let Some(sleep) = &mut self.0 {
            sleep.as_mut().reset(at);
        }
    }

    /// Drops the timer, once there is nothing left to give back.
    pub(super) fn disarm(&mut self) {
        self.0 = None;
    }
}
