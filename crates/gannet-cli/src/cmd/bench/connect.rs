//! `bench connect`: how fast a server accepts whole connections (natscli has
//! no such benchmark; this one reports in the layout of the others).
//!
//! `--clients` loops run at once, each opening its share of `--msgs`
//! connections one after another. One connection is: TCP connect, the
//! server's INFO, the TLS handshake when the flags (`--tlscert`, `--tlsca`...)
//! or the server ask for TLS, then CONNECT and PING; async-nats returns the
//! client only once the server answered that PING with PONG (or refused the
//! CONNECT with `-ERR`), so every counted connection made a full round trip
//! and passed authentication. Then the connection is closed. A connection's
//! latency runs from the start of the TCP connect to the PONG.
//!
//! async-nats builds a new TLS client config for every connection, so no
//! connection resumes an earlier TLS session: each handshake is a full one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Args;
use tokio::sync::watch;

use super::clients::{
    collect, msgs_per_client, wait_for_start, Bars, ClientResult, Outcome, Progress,
};
use super::log;
use super::stats::{Kind, Sample};
use super::ReportFlags;
use crate::connect::Connector;
use crate::format;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Number of concurrent clients, each opening its connections one after another
    #[arg(long, default_value_t = 1, value_name = "CLIENTS")]
    pub clients: usize,
    /// Number of connections to open (and close) in total
    #[arg(
        long,
        visible_alias = "connections",
        default_value_t = 1000,
        value_name = "MSGS"
    )]
    pub msgs: u64,
    #[command(flatten)]
    pub report: ReportFlags,
}

/// A checked `bench connect` command line.
#[derive(Debug, Clone)]
pub struct ConnectPlan {
    pub clients: usize,
    pub connections: u64,
    pub csv: Option<PathBuf>,
    pub progress: bool,
}

impl ConnectPlan {
    pub fn new(args: ConnectArgs) -> anyhow::Result<ConnectPlan> {
        if args.clients == 0 {
            bail!("number of clients should be greater than 0");
        }
        if args.msgs == 0 {
            bail!("number of connections should be greater than 0");
        }
        Ok(ConnectPlan {
            // No idle clients: at most one per connection.
            clients: args
                .clients
                .min(usize::try_from(args.msgs).unwrap_or(usize::MAX)),
            connections: args.msgs,
            csv: args.report.csv,
            progress: !args.report.no_progress,
        })
    }

    /// The first log line, like the other benchmarks' banners.
    pub fn banner(&self) -> String {
        format!(
            "Starting {} benchmark [clients={}, connections={}]",
            Kind::Connect.label(),
            format::number(self.clients as u64),
            format::number(self.connections)
        )
    }
}

/// Runs the clients; the first connection that fails ends the run with its error.
pub async fn run(plan: &ConnectPlan, connector: &Connector) -> anyhow::Result<Outcome> {
    let counts = msgs_per_client(plan.connections, plan.clients);
    for (i, count) in counts.iter().enumerate() {
        log(&format!(
            "[{}] Starting {}, opening {} connections",
            i + 1,
            Kind::Connect.label(),
            format::number(*count)
        ));
    }
    let bars = Bars::new(plan.progress);
    let (trigger, ready) = watch::channel(false);
    let connector = Arc::new(connector.clone());
    let several = plan.clients > 1;
    let mut tasks = Vec::with_capacity(counts.len());
    for (i, count) in counts.into_iter().enumerate() {
        let progress = Progress::new(bars.bar(count, "Connecting"), count);
        let connector = connector.clone();
        let mut ready = ready.clone();
        tasks.push(tokio::spawn(async move {
            wait_for_start(&mut ready).await?;
            let name = if several {
                format!("{} #{}", connector.connection_name, i + 1)
            } else {
                connector.connection_name.clone()
            };
            connect_loop(&connector, &name, i, count, several, progress).await
        }));
    }
    let _ = trigger.send(true);
    let outcome = collect(Kind::Connect, tasks).await;
    bars.end();
    outcome
}

/// One client: `count` connections in a row, each closed before the next.
async fn connect_loop(
    connector: &Connector,
    name: &str,
    index: usize,
    count: u64,
    several: bool,
    progress: Progress,
) -> anyhow::Result<ClientResult> {
    let mut latencies = Vec::with_capacity(count as usize);
    let start = Instant::now();
    for n in 1..=count {
        let began = Instant::now();
        let connected = connector.connect_now(name).await;
        let session = match connected {
            Ok(session) => session,
            // One client's first connection fails as any other command's would.
            Err(err) if !several && n == 1 => return Err(err),
            Err(err) => {
                return Err(err).with_context(|| {
                    format!(
                        "client number {} failed to connect (connection {} of its {})",
                        index + 1,
                        format::number(n),
                        format::number(count)
                    )
                })
            }
        };
        latencies.push(began.elapsed().as_nanos() as u64);
        // Dropping the last handle ends the client's connection task, which
        // closes the socket.
        drop(session);
        progress.done(n);
    }
    let end = Instant::now();
    progress.finish(count);
    latencies.sort_unstable();
    let mut sample = Sample::new(count, 0, start, end);
    sample.latencies = latencies;
    sample.conn_msgs = count;
    Ok(ClientResult {
        sample,
        troubled: false,
    })
}
