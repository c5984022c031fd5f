//! One open connection plus what the server said to it out of band: `-ERR`
//! lines such as permission violations, which `async-nats` reports through its
//! event callback rather than as the result of a publish or subscribe.

use std::time::Duration;

use anyhow::bail;
use async_nats::{Client, Event, ServerError};
use futures::StreamExt;
use tokio::sync::mpsc;

/// How long to let the event callback deliver an `-ERR` that arrived just before
/// a round trip completed.
const NOTICE_GRACE: Duration = Duration::from_millis(50);

/// What the server reported outside of any reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An `-ERR` the server sent, as it sent it (`Permissions Violation for
    /// Publish to "x"`).
    ServerError(String),
    /// The connection went away (and the client will try to reconnect).
    Disconnected,
    /// The connection is back.
    Reconnected,
    /// The server is shutting down gracefully.
    LameDuck,
}

/// The receiving half of the event callback's channel.
#[derive(Debug)]
pub struct Notices {
    receiver: mpsc::UnboundedReceiver<Notice>,
}

/// The sending half, moved into the event callback.
#[derive(Debug, Clone)]
pub struct NoticeSender {
    sender: mpsc::UnboundedSender<Notice>,
    connected_once: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl NoticeSender {
    pub fn send(&self, event: Event) {
        use std::sync::atomic::Ordering;
        let notice = match event {
            Event::ServerError(ServerError::AuthorizationViolation) => {
                Notice::ServerError("Authorization Violation".to_string())
            }
            Event::ServerError(ServerError::Other(text)) => {
                Notice::ServerError(text.trim_matches('\'').to_string())
            }
            Event::ServerError(ServerError::SlowConsumer(sid)) => {
                Notice::ServerError(format!("Slow Consumer (subscription {sid})"))
            }
            Event::Disconnected => Notice::Disconnected,
            Event::Connected if self.connected_once.swap(true, Ordering::Relaxed) => {
                Notice::Reconnected
            }
            Event::LameDuckMode => Notice::LameDuck,
            _ => return,
        };
        let _ = self.sender.send(notice);
    }
}

impl Notices {
    pub fn new() -> (Notices, NoticeSender) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (
            Notices { receiver },
            NoticeSender {
                sender,
                connected_once: Default::default(),
            },
        )
    }
}

pub struct Session {
    pub client: Client,
    notices: Notices,
}

impl Session {
    pub fn new(client: Client, notices: Notices) -> Self {
        Session { client, notices }
    }

    /// The next thing the server reported; waits for it. For `select!` in
    /// commands that run until stopped.
    pub async fn next_notice(&mut self) -> Option<Notice> {
        self.notices.receiver.recv().await
    }

    /// Makes a round trip through the server, so that everything sent before
    /// has been processed there, then fails with the first `-ERR` the server
    /// sent (a permission violation, say). The probe is a message to a fresh
    /// inbox; when the account may not subscribe to inboxes, the server's
    /// refusal of the probe is itself the round trip.
    pub async fn round_trip(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let inbox = self.client.new_inbox();
        let mut probe = self.client.subscribe(inbox.clone()).await?;
        self.client
            .publish(inbox.clone(), bytes::Bytes::new())
            .await?;
        self.client.flush().await?;
        let mut errors = Vec::new();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let probed = loop {
            tokio::select! {
                message = probe.next() => break message.is_some(),
                notice = self.notices.receiver.recv() => match notice {
                    Some(Notice::ServerError(text)) if text.contains(inbox.as_str()) => break true,
                    Some(Notice::ServerError(text)) => errors.push(text),
                    Some(_) => {}
                    None => break false,
                },
                _ = &mut deadline => break false,
            }
        };
        let _ = probe.unsubscribe().await;
        tokio::time::sleep(NOTICE_GRACE).await;
        while let Ok(notice) = self.notices.receiver.try_recv() {
            if let Notice::ServerError(text) = notice {
                if !text.contains(inbox.as_str()) {
                    errors.push(text);
                }
            }
        }
        if let Some(error) = errors.into_iter().next() {
            bail!("{error}");
        }
        if !probed {
            bail!("no response from the server within {timeout:?}");
        }
        Ok(())
    }
}
