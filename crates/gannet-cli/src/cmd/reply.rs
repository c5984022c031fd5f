//! `reply`: answer requests as natscli's `nats reply` does, in the queue group
//! `NATS-RPLY-22` by default: with a templated body, by echoing the request
//! (headers included, plus `NATS-Reply-Counter`), or with the output of a
//! command. Each request is logged (`[#0] Received on subject "x":`, its
//! headers) on stderr and its body printed on stdout.

use std::time::Duration;

use anyhow::anyhow;
use async_nats::header::HeaderMap;
use async_nats::{Message, Subscriber};
use bytes::Bytes;
use clap::Args;
use futures::StreamExt;
use rand::Rng as _;

use super::external::run_command;
use super::output::{go_quote, header_lines, log, write_stdout};
use super::publish::send;
use super::template::{HeaderTemplates, Template, Values, Vocabulary};
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::session::{Notice, Session};

/// natscli's default queue group for `reply`.
pub const DEFAULT_QUEUE: &str = "NATS-RPLY-22";
/// The header an echo adds with the reply's number.
const COUNTER_HEADER: &str = "NATS-Reply-Counter";

#[derive(Debug, Args)]
pub struct ReplyArgs {
    /// Subject to subscribe to
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// Reply body (a template: {{Count}}, {{Request}}, ...)
    #[arg(value_name = "BODY")]
    pub body: Option<String>,
    /// Echo back what is received
    #[arg(long)]
    pub echo: bool,
    /// Runs a command and responds with the output ({{0}}, {{1}}, ... are the subject's tokens)
    #[arg(long, value_name = "COMMAND")]
    pub command: Option<String>,
    /// Queue group name
    #[arg(short = 'q', long, value_name = "NAME", default_value = DEFAULT_QUEUE)]
    pub queue: String,
    /// Inject a random sleep delay between replies up to this duration max
    #[arg(long, value_name = "MAX", value_parser = parse_duration)]
    pub sleep: Option<Duration>,
    /// Adds headers to the message using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// Quit after receiving this many messages
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub count: u64,
}

/// How replies are made.
enum Answer {
    Echo,
    Command(String),
    Body(Template),
}

pub async fn run(args: ReplyArgs, connector: &Connector) -> anyhow::Result<()> {
    let answer = answer_of(&args)?;
    let headers = HeaderTemplates::parse(&args.headers)?;
    let mut session = connector.connect().await?;
    let subscriber = session
        .client
        .queue_subscribe(args.subject.clone(), args.queue.clone())
        .await
        .map_err(|err| anyhow!("cannot subscribe to {}: {err}", go_quote(&args.subject)))?;
    // natscli flushes before saying it listens: the server has the subscription
    // (or has refused it) by then.
    session.round_trip(connector.timeout).await?;
    log(format!(
        "Listening on {} in group {}",
        go_quote(&args.subject),
        go_quote(&args.queue)
    ));
    let mut replier = Replier {
        answer,
        headers,
        sleep: args.sleep,
        limit: args.count,
        counter: 0,
    };
    replier.serve(&mut session, subscriber).await?;
    session.client.flush().await?;
    Ok(())
}

fn answer_of(args: &ReplyArgs) -> anyhow::Result<Answer> {
    let body = args.body.as_deref().unwrap_or("");
    if args.echo {
        return Ok(Answer::Echo);
    }
    if let Some(command) = &args.command {
        // Check the template now; the subject tokens fill {{0}}.. later.
        Template::parse(&replace_tokens(command, &[]), "command", Vocabulary::Reply)?;
        return Ok(Answer::Command(command.clone()));
    }
    if body.is_empty() {
        log("No body or command supplied, enabling echo mode");
        return Ok(Answer::Echo);
    }
    Ok(Answer::Body(Template::parse(
        body,
        "body",
        Vocabulary::Reply,
    )?))
}

struct Replier {
    answer: Answer,
    headers: HeaderTemplates,
    sleep: Option<Duration>,
    limit: u64,
    /// Replies sent so far; natscli numbers requests from 0.
    counter: u64,
}

impl Replier {
    async fn serve(
        &mut self,
        session: &mut Session,
        mut requests: Subscriber,
    ) -> anyhow::Result<()> {
        let mut notices_open = true;
        while self.limit == 0 || self.counter < self.limit {
            tokio::select! {
                request = requests.next() => {
                    let request = request.ok_or_else(|| anyhow!("the connection to the server was closed"))?;
                    self.answer_one(session, &request).await?;
                }
                notice = session.next_notice(), if notices_open => match notice {
                    Some(notice) => on_notice(notice)?,
                    None => notices_open = false,
                },
            }
        }
        Ok(())
    }

    async fn answer_one(&mut self, session: &Session, request: &Message) -> anyhow::Result<()> {
        show_request(self.counter, request)?;
        if let Some(max) = self.sleep {
            tokio::time::sleep(random_below(max)).await;
        }
        let (headers, payload) = self.make_reply(request).await?;
        let Some(reply_to) = &request.reply else {
            log("Could not publish reply: nats: message does not have a reply");
            return Ok(());
        };
        if let Err(err) = send(&session.client, reply_to, None, headers, payload).await {
            log(format!("Could not publish reply: {err:#}"));
            return Ok(());
        }
        self.counter += 1;
        Ok(())
    }

    async fn make_reply(&self, request: &Message) -> anyhow::Result<(Option<HeaderMap>, Bytes)> {
        let mut headers = self.headers.render(self.counter)?;
        let payload = match &self.answer {
            Answer::Echo => {
                headers = Some(echo_headers(headers, request, self.counter));
                request.payload.clone()
            }
            Answer::Command(command) => self.run_command(command, request).await,
            Answer::Body(template) => {
                let text = String::from_utf8_lossy(&request.payload);
                Bytes::from(template.render(&Values {
                    count: self.counter,
                    request: &text,
                    subject: "",
                }))
            }
        };
        Ok((headers, payload))
    }

    /// The command's output; a failing command is logged and its output sent.
    async fn run_command(&self, command: &str, request: &Message) -> Bytes {
        let tokens: Vec<&str> = request.subject.split('.').collect();
        let line = replace_tokens(command, &tokens);
        let body = String::from_utf8_lossy(&request.payload).into_owned();
        let line = match Template::parse(&line, "command", Vocabulary::Reply) {
            Ok(template) => template.render(&Values {
                count: self.counter,
                request: &body,
                subject: "",
            }),
            Err(err) => {
                log(format!("Could not parse command template: {err:#}"));
                line
            }
        };
        let env = [
            ("NATS_REQUEST_SUBJECT", request.subject.as_str()),
            ("NATS_REQUEST_BODY", body.as_str()),
        ];
        match run_command(&line, &request.payload, &env).await {
            Ok(output) => Bytes::from(output),
            Err(failure) => {
                log(format!(
                    "Command {} failed to run: {}",
                    go_quote(&line),
                    failure.error
                ));
                Bytes::from(failure.output)
            }
        }
    }
}

/// `[#N] Received on subject "x":` and the headers on stderr, then a blank
/// line and the body on stdout.
fn show_request(number: u64, request: &Message) -> anyhow::Result<()> {
    log(format!(
        "[#{number}] Received on subject {}:",
        go_quote(&request.subject)
    ));
    for (name, value) in header_lines(request) {
        log(format!("{name}: {value}"));
    }
    let mut out = b"\n".to_vec();
    out.extend_from_slice(&request.payload);
    out.push(b'\n');
    write_stdout(&out)
}

/// The request's headers, the `-H` ones and `NATS-Reply-Counter`.
fn echo_headers(extra: Option<HeaderMap>, request: &Message, counter: u64) -> HeaderMap {
    let mut headers = extra.unwrap_or_default();
    if let Some(original) = &request.headers {
        for (name, values) in original.iter() {
            for value in values {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    headers.append(COUNTER_HEADER, counter.to_string().as_str());
    headers
}

/// `{{0}}`, `{{1}}`, ... replaced by the subject's tokens (empty past the last).
fn replace_tokens(command: &str, tokens: &[&str]) -> String {
    let mut out = String::with_capacity(command.len());
    let mut rest = command;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let closes = digits > 0 && after[digits..].starts_with("}}");
        out.push_str(&rest[..start]);
        if closes {
            let index: usize = after[..digits].parse().unwrap_or(usize::MAX);
            out.push_str(tokens.get(index).copied().unwrap_or(""));
            rest = &after[digits + 2..];
        } else {
            out.push_str("{{");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn random_below(max: Duration) -> Duration {
    let nanos = max.as_nanos().min(u128::from(u64::MAX)) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::rng().random_range(0..nanos))
}

/// A denied subscription ends `reply`; other server errors (a denied reply
/// subject, say) are logged and it goes on serving.
fn on_notice(notice: Notice) -> anyhow::Result<()> {
    match notice {
        Notice::ServerError(text) if text.contains("for Subscription to") => Err(anyhow!("{text}")),
        Notice::ServerError(text) => {
            log(format!(">>> Unexpected NATS error: {text}"));
            Ok(())
        }
        Notice::Disconnected => {
            log(">>> Disconnected, will attempt reconnect");
            Ok(())
        }
        Notice::Reconnected | Notice::LameDuck => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tokens_fill_numbered_placeholders() {
        let tokens = ["weather", "london"];
        assert_eq!(
            replace_tokens("curl wttr.in/{{1}}?format=3", &tokens),
            "curl wttr.in/london?format=3"
        );
        assert_eq!(
            replace_tokens("{{0}}-{{5}}-{{Count}}", &tokens),
            "weather--{{Count}}"
        );
        assert_eq!(replace_tokens("{{ 1 }} {{", &tokens), "{{ 1 }} {{");
    }

    #[test]
    fn echo_copies_headers_and_counts() {
        let mut original = HeaderMap::new();
        original.append("X-Req", "1");
        let request = Message {
            subject: "s".into(),
            reply: Some("r".into()),
            payload: Bytes::from_static(b"body"),
            headers: Some(original),
            status: None,
            description: None,
            length: 4,
        };
        let headers = echo_headers(None, &request, 3);
        assert_eq!(headers.get("X-Req").unwrap().as_str(), "1");
        assert_eq!(headers.get(COUNTER_HEADER).unwrap().as_str(), "3");
    }

    #[test]
    fn random_sleep_stays_below_the_maximum() {
        for _ in 0..50 {
            assert!(random_below(Duration::from_millis(5)) < Duration::from_millis(5));
        }
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
    }
}
