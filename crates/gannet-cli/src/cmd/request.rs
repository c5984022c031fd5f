//! `request` (alias `req`): send requests and print the replies as natscli's
//! `nats request` does: `Sending request on "x"` and `Received with rtt ...`
//! (with the reply's headers) on stderr, the body on stdout. `--replies`
//! gathers several replies; `--count` sends several requests. No responders,
//! no reply in time and a denied publish are errors.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use async_nats::{Message, StatusCode, Subscriber};
use clap::Args;
use futures::StreamExt;

use super::external::Translate;
use super::output::{body_output, go_quote, header_lines, log, write_body, write_stdout};
use super::publish::{
    send, subject_template, Body, BodySource, InputFlags, Progress, ProgressFlags, TemplateFlags,
};
use super::template::{HeaderTemplates, Template, Values, Vocabulary};
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::go_duration;
use crate::session::{Notice, Session};

/// natscli's `--count 0`: as good as unlimited (Go's math.MaxInt16).
const UNLIMITED_REQUESTS: u64 = 32_767;
/// natscli's `--wait-for-empty`: replies until an empty one.
const UNLIMITED_REPLIES: u64 = 32_767;

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Subject to send the request to
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// Message body (read from stdin when not given)
    #[arg(value_name = "BODY")]
    pub body: Option<String>,
    /// Show just the output received
    #[arg(short = 'r', long)]
    pub raw: bool,
    /// Adds headers to the message using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// Publish multiple messages (0 sends requests until stopped)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,
    /// Wait for multiple replies from services. 0 waits until timeout
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub replies: u64,
    /// Maximum time between replies when waiting for more than one
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "300ms")]
    pub reply_timeout: Duration,
    /// Wait for multiple replies until a empty message is received
    #[arg(long)]
    pub wait_for_empty: bool,
    /// Translate the message data by running it through the given command before output
    #[arg(long, value_name = "COMMAND")]
    pub translate: Option<String>,
    #[command(flatten)]
    pub input: InputFlags,
    #[command(flatten)]
    pub templates: TemplateFlags,
    #[command(flatten)]
    pub progress: ProgressFlags,
}

pub async fn run(args: RequestArgs, connector: &Connector) -> anyhow::Result<()> {
    let count = if args.count == 0 {
        UNLIMITED_REQUESTS
    } else {
        args.count
    };
    let requester = Requester::new(&args, connector.timeout)?;
    let mut bodies = BodySource::new(args.body.clone(), &args.input);
    let mut session = connector.connect().await?;
    if bodies.uses_stdin() {
        log("Reading payload from STDIN");
    }
    let progress = Progress::new(count, args.progress.enabled() && !args.raw);
    let mut result = Ok(());
    while let Some(data) = bodies.next().await? {
        let body = Body::new(data, args.templates.enabled(), Vocabulary::Publish)?;
        result = requester
            .send_all(&mut session, &body, count, &progress)
            .await;
        if result.is_err() {
            break;
        }
    }
    progress.finish();
    result
}

/// What stays the same between the requests of one run.
struct Requester {
    subject: Template,
    headers: HeaderTemplates,
    translate: Option<Translate>,
    raw: bool,
    replies: u64,
    reply_timeout: Duration,
    timeout: Duration,
}

impl Requester {
    fn new(args: &RequestArgs, timeout: Duration) -> anyhow::Result<Requester> {
        let templates = args.templates.enabled();
        if let Some(body) = &args.body {
            Body::new(body.as_bytes().to_vec(), templates, Vocabulary::Publish)?;
        }
        Ok(Requester {
            subject: subject_template(&args.subject, templates)?,
            headers: HeaderTemplates::parse(&args.headers)?,
            translate: args
                .translate
                .as_deref()
                .map(Translate::parse)
                .transpose()?,
            raw: args.raw,
            replies: if args.wait_for_empty {
                UNLIMITED_REPLIES
            } else {
                args.replies
            },
            reply_timeout: args.reply_timeout,
            timeout,
        })
    }

    async fn send_all(
        &self,
        session: &mut Session,
        body: &Body,
        count: u64,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let log_output = !self.raw && !progress.active();
        for number in 1..=count {
            self.send_one(session, body, number, log_output).await?;
            progress.inc();
        }
        Ok(())
    }

    /// One request and its replies.
    async fn send_one(
        &self,
        session: &mut Session,
        body: &Body,
        number: u64,
        log_output: bool,
    ) -> anyhow::Result<()> {
        let values = Values {
            count: number,
            ..Values::default()
        };
        let subject = self.subject.render(&values);
        if log_output {
            log(format!("Sending request on {}", go_quote(&subject)));
        }
        let inbox = session.client.new_inbox();
        let mut replies = session
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(|err| anyhow!("cannot subscribe to the reply inbox {inbox:?}: {err}"))?;
        let headers = self.headers.render(number)?;
        send(
            &session.client,
            &subject,
            Some(&inbox),
            headers,
            body.render(&values),
        )
        .await?;
        let received = self
            .gather(session, &mut replies, &subject, log_output)
            .await?;
        let _ = replies.unsubscribe().await;
        if received == 0 {
            bail!(
                "no reply to the request on {} within {}",
                go_quote(&subject),
                go_duration(self.timeout)
            );
        }
        Ok(())
    }

    /// Prints replies until enough came or the time is up; returns how many.
    async fn gather(
        &self,
        session: &mut Session,
        replies: &mut Subscriber,
        subject: &str,
        log_output: bool,
    ) -> anyhow::Result<u64> {
        let start = Instant::now();
        let mut timeout = self.timeout;
        let mut received = 0u64;
        let mut rtt_total = Duration::ZERO;
        while let Some(reply) = next_reply(session, replies, timeout).await? {
            if reply.status == Some(StatusCode::NO_RESPONDERS) {
                bail!(
                    "no responders are available for requests on {}",
                    go_quote(subject)
                );
            }
            let rtt = start.elapsed();
            self.show(&reply, rtt, log_output).await?;
            received += 1;
            if self.replies > 0 && (received == self.replies || reply.payload.is_empty()) {
                break;
            }
            timeout = if self.replies == 0 {
                self.timeout.saturating_sub(start.elapsed())
            } else {
                rtt_total += rtt;
                rtt_total / received as u32 + self.reply_timeout
            };
        }
        Ok(received)
    }

    async fn show(&self, reply: &Message, rtt: Duration, log_output: bool) -> anyhow::Result<()> {
        if !self.raw && !log_output {
            return Ok(());
        }
        if log_output {
            log(format!("Received with rtt {}", go_duration(rtt)));
            let headers = header_lines(reply);
            for (name, value) in &headers {
                log(format!("{name}: {value}"));
            }
            if !headers.is_empty() {
                log("");
            }
        }
        let body = body_output(&reply.payload, self.translate.as_ref(), &reply.subject).await;
        let mut out = Vec::new();
        write_body(&mut out, &body);
        write_stdout(&out)
    }
}

/// The next reply within `timeout`, `None` when the time is up; a server
/// error (a denied publish or inbox) is the error.
async fn next_reply(
    session: &mut Session,
    replies: &mut Subscriber,
    timeout: Duration,
) -> anyhow::Result<Option<Message>> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut notices_open = true;
    loop {
        tokio::select! {
            reply = replies.next() => {
                return reply
                    .map(Some)
                    .ok_or_else(|| anyhow!("the connection to the server was closed"));
            }
            notice = session.next_notice(), if notices_open => match notice {
                Some(Notice::ServerError(text)) if !text.starts_with("Slow Consumer") => bail!("{text}"),
                Some(_) => {}
                None => notices_open = false,
            },
            _ = &mut deadline => return Ok(None),
        }
    }
}
