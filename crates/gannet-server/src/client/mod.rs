//! Client connections (nats-server's `client.go`): what other tasks may see of a
//! client ([`ClientShared`]), why connections close ([`CloseReason`]), and the
//! connection task itself ([`serve`]), which reads and acts on the client's
//! operations while a second task writes its outbound queue.
mod cache;
pub mod connect;
mod connection;
pub mod outbound;
mod publish;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub use connection::serve;
use outbound::Outbound;

use crate::subscription::Subscription;

/// Why a connection ended, named as the reference names it in monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    ClientClosed,
    ReadError,
    WriteError,
    SlowConsumerPendingBytes,
    SlowConsumerWriteDeadline,
    StaleConnection,
    ParseError,
    ProtocolViolation,
    MaxConnectionsExceeded,
    MaxPayloadExceeded,
    MaxControlLineExceeded,
    AuthenticationTimeout,
    AuthenticationViolation,
    ServerShutdown,
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CloseReason::ClientClosed => "Client Closed",
            CloseReason::ReadError => "Read Error",
            CloseReason::WriteError => "Write Error",
            CloseReason::SlowConsumerPendingBytes => "Slow Consumer (Pending Bytes)",
            CloseReason::SlowConsumerWriteDeadline => "Slow Consumer (Write Deadline)",
            CloseReason::StaleConnection => "Stale Connection",
            CloseReason::ParseError => "Parse Error",
            CloseReason::ProtocolViolation => "Protocol Violation",
            CloseReason::MaxConnectionsExceeded => "Maximum Connections Exceeded",
            CloseReason::MaxPayloadExceeded => "Maximum Message Payload Exceeded",
            CloseReason::MaxControlLineExceeded => "Maximum Control Line Exceeded",
            CloseReason::AuthenticationTimeout => "Authentication Timeout",
            CloseReason::AuthenticationViolation => "Authentication Failure",
            CloseReason::ServerShutdown => "Server Shutdown",
        })
    }
}

impl CloseReason {
    /// Whether this reason counts as a slow consumer.
    pub fn is_slow_consumer(self) -> bool {
        matches!(
            self,
            CloseReason::SlowConsumerPendingBytes | CloseReason::SlowConsumerWriteDeadline
        )
    }
}

/// Descriptive facts of a client, for logs and monitoring.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub addr: SocketAddr,
    pub start: SystemTime,
    pub name: String,
    pub lang: String,
    pub version: String,
}

/// The part of a client that other tasks reach: its outbound queue, whether it
/// understands headers, and its subscriptions (which a publisher may end when an
/// auto-unsubscribe limit is reached).
#[derive(Debug)]
pub struct ClientShared {
    pub cid: u64,
    pub outbound: Outbound,
    headers: AtomicBool,
    subs: Mutex<HashMap<Box<[u8]>, Arc<Subscription>>>,
    meta: Mutex<ClientMeta>,
}

impl ClientShared {
    pub fn new(cid: u64, addr: SocketAddr, max_pending: usize) -> ClientShared {
        ClientShared {
            cid,
            outbound: Outbound::new(max_pending),
            headers: AtomicBool::new(false),
            subs: Mutex::new(HashMap::new()),
            meta: Mutex::new(ClientMeta {
                addr,
                start: SystemTime::now(),
                name: String::new(),
                lang: String::new(),
                version: String::new(),
            }),
        }
    }

    /// Whether the client declared `headers: true` in CONNECT.
    #[inline]
    pub fn supports_headers(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    pub fn meta(&self) -> ClientMeta {
        self.meta.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many subscriptions the client has.
    pub fn subscription_count(&self) -> usize {
        self.subs_lock().len()
    }

    fn subs_lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<[u8]>, Arc<Subscription>>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }
}
