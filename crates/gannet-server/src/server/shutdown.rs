//! Stopping: shutdown and lame duck mode. Shutdown tells every task the
//! server started (connections, HTTP connections, background loops) to stop,
//! waits for each of them, then lets the internal loop publish what is left
//! and stop. Nothing is left running, and nothing is waited for by polling.
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::RunningServer;

/// Time tasks get to finish on shutdown beyond the write deadline (within
/// which a connection flushes what it was sent).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

impl RunningServer {
    /// Stops accepting, closes every client after flushing what it was sent,
    /// finishes in-flight HTTP requests, stops the background loops, and
    /// waits for all of them.
    pub async fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::info!("Initiating Shutdown...");
        let server = &self.server;
        self.accept.abort();
        // SHUTDOWN reaches its subscribers before their connections close.
        server.shutdown_event();
        server.internal().flush(Duration::from_secs(1)).await;
        if let Some(js) = server.jetstream() {
            // Every stream syncs its store before the server goes.
            let _ = tokio::task::spawn_blocking(move || js.shutdown()).await;
        }
        server.shutdown.send_replace(true);
        server.tasks.close();
        let limit = server.options().write_deadline + SHUTDOWN_GRACE;
        if tokio::time::timeout(limit, server.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} tasks still running {limit:?} after shutdown began",
                server.tasks.len()
            );
        }
        // Closing connections queued their DISCONNECT events: the loop
        // publishes them, then stops.
        server.internal().stop();
        let internal_loop = self
            .internal_loop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = internal_loop {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, handle).await;
        }
        tracing::info!("Server Exiting..");
    }

    /// Lame duck mode: stop accepting clients, tell the connected ones (INFO with
    /// `ldm`), wait `lame_duck_grace_period`, then close them spread over the rest of
    /// `lame_duck_duration` so they reconnect elsewhere gradually, then shut down.
    pub async fn lame_duck(&self) {
        tracing::info!("Entering lame duck mode, stop accepting new clients");
        self.accept.abort();
        if let Some(cluster) = self.server.cluster() {
            cluster.announce_lame_duck(&self.server);
        }
        let clients = self.server.clients();
        if !clients.is_empty() {
            let opts = self.server.options();
            let mut info = self.server.info();
            info.ldm = true;
            // Where the clients go next: the rest of the cluster.
            if let Some(cluster) = self.server.cluster() {
                info.connect_urls = cluster.other_client_urls();
            }
            let mut line = bytes::BytesMut::new();
            gannet_proto::encode::write_info(&mut line, &info.to_json());
            for client in &clients {
                client.outbound.send_now(&line);
            }
            let grace = opts.lame_duck_grace_period;
            tracing::info!("Waiting {grace:?} before closing clients");
            tokio::time::sleep(grace).await;
            let spread = opts.lame_duck_duration.saturating_sub(grace);
            let pause = spread / u32::try_from(clients.len()).unwrap_or(u32::MAX).max(1);
            tracing::info!("Closing {} existing clients over {spread:?}", clients.len());
            for client in &clients {
                client
                    .outbound
                    .close(crate::client::CloseReason::ServerShutdown);
                let next = tokio::time::Instant::now() + pause;
                while self.server.num_clients() > 0 && tokio::time::Instant::now() < next {
                    tokio::time::sleep(Duration::from_millis(10).min(pause)).await;
                }
                if self.server.num_clients() == 0 {
                    break;
                }
            }
        }
        self.shutdown().await;
    }
}
