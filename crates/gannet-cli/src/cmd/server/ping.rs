//! `server ping`: one `$SYS.REQ.SERVER.PING` to every server, a line per
//! reply with its round-trip time, then natscli's ping statistics.

use std::ops::ControlFlow;

use clap::Args;

use crate::connect::Connector;
use crate::format::go_duration;

use super::model::ServerStatsMsg;
use super::sys::{self, ExpectServers, Wait};

const SUBJECT: &str = "$SYS.REQ.SERVER.PING";

#[derive(Debug, Args)]
pub struct PingArgs {
    #[command(flatten)]
    expect: ExpectServers,
    /// Include the Server ID in the output
    #[arg(short = 'i', long)]
    id: bool,
}

pub async fn run(args: PingArgs, connector: &Connector) -> anyhow::Result<()> {
    let mut session = connector.connect().await?;
    let mut expect = args.expect.count();
    let mut seen = 0usize;
    let mut times: Vec<f64> = Vec::new();
    let no_responders = format!(
        "503 status from {SUBJECT}, ensure a system account is used with appropriate permissions"
    );
    sys::gather(
        &mut session,
        SUBJECT,
        Vec::new(),
        Wait::Timeout,
        connector.timeout,
        &no_responders,
        |reply| {
            let stats: ServerStatsMsg = sys::decode(SUBJECT, &reply.payload)?;
            seen += 1;
            if expect == 0 && seen == 1 && stats.statsz.active_servers > 0 {
                expect = usize::try_from(stats.statsz.active_servers).unwrap_or(0);
            }
            // natscli keeps whole milliseconds for the statistics.
            times.push(reply.elapsed.as_millis() as f64);
            let rtt = go_duration(reply.elapsed);
            if args.id {
                println!("{} {:<60} rtt={rtt}", stats.server.id, stats.server.name);
            } else {
                println!("{:<60} rtt={rtt}", stats.server.name);
            }
            Ok(if seen == expect {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        },
    )
    .await?;

    println!();
    println!("---- ping statistics ----");
    match summary(&times) {
        Some((max, min, avg)) => {
            println!(
                "{} replies max: {max:.2} min: {min:.2} avg: {avg:.2}",
                times.len()
            )
        }
        None => println!("no responses received"),
    }
    if expect != 0 && expect != seen {
        println!("\nMissing {} server(s)", expect.saturating_sub(seen));
    }
    Ok(())
}

/// Max, min and mean.
fn summary(times: &[f64]) -> Option<(f64, f64, f64)> {
    if times.is_empty() {
        return None;
    }
    let max = times.iter().copied().fold(f64::MIN, f64::max);
    let min = times.iter().copied().fold(f64::MAX, f64::min);
    let avg = times.iter().sum::<f64>() / times.len() as f64;
    Some((max, min, avg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_the_round_trips() {
        assert_eq!(summary(&[]), None);
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((3.0, 1.0, 2.0)));
    }
}
