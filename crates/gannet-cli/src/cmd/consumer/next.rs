//! `consumer next STREAM NAME [--count N]`: pulls messages from a pull
//! consumer one at a time, as natscli does (a one-message `MSG.NEXT` request
//! that waits up to the timeout), prints each with its delivery details
//! from the `$JS.ACK` reply subject, and acknowledges it unless `--no-ack`
//! (or negatively with `--nak`, or terminates it with `--term`).

use std::time::Duration;

use anyhow::{anyhow, bail};
use async_nats::{Message, StatusCode};
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;

use crate::cmd::output::{header_lines, write_stdout};
use crate::connect::Connector;
use crate::format::number;
use crate::jsm::view::to_nanos;
use crate::jsm::{check_name, Jsm, API_PREFIX};

/// How much longer than the pull's expiry to wait for the server's answer.
const GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, Args)]
pub struct NextArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Consumer name
    #[arg(value_name = "CONSUMER")]
    consumer: String,
    /// Acknowledge received messages (the default)
    #[arg(long, overrides_with = "no_ack")]
    ack: bool,
    /// Do not acknowledge received messages
    #[arg(long, overrides_with = "ack")]
    no_ack: bool,
    /// Perform a Negative Acknowledgement on the message
    #[arg(long)]
    nak: bool,
    /// Terminates the message
    #[arg(long)]
    term: bool,
    /// Show only the message
    #[arg(short = 'r', long)]
    raw: bool,
    /// Number of messages to try to fetch from the pull consumer
    #[arg(long, default_value_t = 1, value_name = "COUNT")]
    count: u64,
}

/// What to answer each message with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    None,
    Ack,
    Nak,
    Term,
}

impl NextArgs {
    /// natscli's rules: `--term` alone turns the default ack off, and may
    /// not be combined with an ack or a nak.
    fn answer(&self) -> anyhow::Result<Answer> {
        let ack = !self.no_ack && (!self.term || self.ack);
        if self.term {
            if ack || self.nak {
                bail!("can not both Acknowledge and Terminate message");
            }
            return Ok(Answer::Term);
        }
        if self.nak {
            return Ok(Answer::Nak);
        }
        Ok(if ack { Answer::Ack } else { Answer::None })
    }
}

pub async fn run(args: NextArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    check_name("consumer", &args.consumer)?;
    let answer = args.answer()?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    for _ in 0..args.count {
        next(&jsm, &args, answer).await?;
    }
    Ok(())
}

/// Delivery details from a `$JS.ACK` reply subject, old (9 tokens) or new
/// (12 tokens, with domain and account hash) form.
#[derive(Debug, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: u64,
    pub stream_seq: u64,
    pub consumer_seq: u64,
    pub pending: u64,
}

pub fn parse_ack_subject(reply: &str) -> Option<Delivery> {
    let tokens: Vec<&str> = reply.split('.').collect();
    if tokens.len() < 9 || tokens[0] != "$JS" || tokens[1] != "ACK" {
        return None;
    }
    // After the stream and consumer names: delivered, stream sequence,
    // consumer sequence, timestamp, pending.
    let first = if tokens.len() == 9 { 4 } else { 6 };
    let number = |i: usize| tokens.get(i)?.parse::<u64>().ok();
    Some(Delivery {
        delivered: number(first)?,
        stream_seq: number(first + 1)?,
        consumer_seq: number(first + 2)?,
        pending: number(first + 4)?,
    })
}

async fn next(jsm: &Jsm, args: &NextArgs, answer: Answer) -> anyhow::Result<()> {
    let client = jsm.client();
    let timeout = jsm.timeout();
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    let body = serde_json::json!({ "batch": 1, "expires": to_nanos(timeout) });
    let subject = format!(
        "{API_PREFIX}.CONSUMER.MSG.NEXT.{}.{}",
        args.stream, args.consumer
    );
    client
        .publish_with_reply(subject, inbox, Bytes::from(body.to_string()))
        .await?;
    client.flush().await?;
    let message = tokio::time::timeout(timeout + GRACE, replies.next())
        .await
        .ok()
        .flatten();
    let _ = replies.unsubscribe().await;
    let message = match message {
        Some(message) if message.status.is_none() => message,
        Some(message) if message.status == Some(StatusCode::NO_RESPONDERS) => {
            return Err(not_pull_or(
                jsm,
                args,
                anyhow!("no message received: nats: no responders available for request"),
            )
            .await);
        }
        Some(message) => {
            let status = message.status.map(|s| s.as_u16()).unwrap_or_default();
            let failure = if matches!(status, 404 | 408) {
                anyhow!("no message received: nats: timeout")
            } else {
                anyhow!(
                    "no message received: {status} {}",
                    message.description.as_deref().unwrap_or_default()
                )
            };
            return Err(not_pull_or(jsm, args, failure).await);
        }
        None => {
            return Err(
                not_pull_or(jsm, args, anyhow!("no message received: nats: timeout")).await,
            );
        }
    };
    write_stdout(&show(&message, args.raw))?;
    let reply = message.reply.clone();
    let acknowledgement: Option<(&str, &str)> = match answer {
        Answer::None => None,
        Answer::Ack => Some(("+ACK", "\nAcknowledged message\n\n")),
        Answer::Nak => Some(("-NAK", "\nNegative Acknowledged message\n\n")),
        Answer::Term => Some(("+TERM", "\nTerminated message\n")),
    };
    if let Some((payload, said)) = acknowledgement {
        let Some(reply) = reply else {
            bail!("could not Acknowledge message: the message has no reply subject");
        };
        client
            .publish(reply, Bytes::from_static(payload.as_bytes()))
            .await
            .map_err(|err| anyhow!("could not Acknowledge message: {err}"))?;
        client.flush().await?;
        if !args.raw || answer == Answer::Term {
            print!("{said}");
        }
    }
    Ok(())
}

/// natscli's check after a failed pull: a missing or push consumer says so,
/// otherwise the failure stands.
async fn not_pull_or(jsm: &Jsm, args: &NextArgs, failure: anyhow::Error) -> anyhow::Error {
    match jsm.consumer_info(&args.stream, &args.consumer).await {
        Err(err) => err.context(format!("could not load consumer {:?}", args.consumer)),
        Ok(info) if !info.config.deliver_subject.is_empty() => {
            anyhow!("consumer {:?} is not a Pull consumer", args.consumer)
        }
        Ok(_) => failure,
    }
}

/// One message as natscli's `consumer next` prints it.
fn show(message: &Message, raw: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if raw {
        out.extend_from_slice(&message.payload);
        out.push(b'\n');
        return out;
    }
    let reply = message.reply.as_deref().unwrap_or_default();
    let line = match parse_ack_subject(reply) {
        Some(delivery) => format!(
            "[{}] subj: {} / tries: {} / cons seq: {} / str seq: {} / pending: {}\n",
            chrono::Local::now().format("%H:%M:%S"),
            message.subject,
            delivery.delivered,
            delivery.consumer_seq,
            delivery.stream_seq,
            number(delivery.pending)
        ),
        None if reply.is_empty() => format!("--- subject: {}\n", message.subject),
        None => format!("--- subject: {} reply: {reply}\n", message.subject),
    };
    out.extend_from_slice(line.as_bytes());
    let headers = header_lines(message);
    if !headers.is_empty() {
        out.extend_from_slice(b"\nHeaders:\n\n");
        for (key, value) in headers {
            out.extend_from_slice(format!("  {key}: {value}\n").as_bytes());
        }
        out.extend_from_slice(b"\nData:\n\n");
    }
    out.push(b'\n');
    out.extend_from_slice(&message.payload);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ack_subject_forms_parse() {
        let expected = Delivery {
            delivered: 2,
            stream_seq: 7,
            consumer_seq: 3,
            pending: 11,
        };
        assert_eq!(
            parse_ack_subject("$JS.ACK.ORDERS.C1.2.7.3.1796624598199510876.11"),
            Some(expected)
        );
        assert_eq!(
            parse_ack_subject("$JS.ACK.hub.ACCHASH.ORDERS.C1.2.7.3.1796624598199510876.11.rnd"),
            Some(Delivery {
                delivered: 2,
                stream_seq: 7,
                consumer_seq: 3,
                pending: 11,
            })
        );
        assert_eq!(parse_ack_subject("_INBOX.x"), None);
        assert_eq!(parse_ack_subject("$JS.ACK.S.C.x.7.3.1.11"), None);
    }

    fn args(extra: &[&str]) -> anyhow::Result<Answer> {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(flatten)]
            next: NextArgs,
        }
        let mut all = vec!["next", "S", "C"];
        all.extend_from_slice(extra);
        Cli::try_parse_from(all)?.next.answer()
    }

    #[test]
    fn acknowledgement_flags_follow_natscli() {
        assert_eq!(args(&[]).unwrap(), Answer::Ack);
        assert_eq!(args(&["--no-ack"]).unwrap(), Answer::None);
        assert_eq!(args(&["--nak"]).unwrap(), Answer::Nak);
        assert_eq!(args(&["--term"]).unwrap(), Answer::Term);
        assert!(args(&["--term", "--ack"]).is_err());
        assert!(args(&["--term", "--nak"]).is_err());
    }
}
