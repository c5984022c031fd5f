//! `pub`: publish messages as natscli's `nats pub` does: a body from the
//! command line or stdin (whole, or one message per line with
//! `--send-on newline`), templates in the subject, body and headers,
//! `--count` copies paced by `--sleep`, a progress bar for large counts, and
//! natscli's `Published N bytes to "subject"` lines on stderr. A run ends with
//! a round trip to the server, so a denied publish is reported as the error.
//!
//! The body source, templated bodies, the template and progress flags and the
//! progress bar are shared with `request`.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::anyhow;
use async_nats::header::HeaderMap;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader, Stdin};

use super::output::{go_quote, log};
use super::template::{HeaderTemplates, Template, Values, Vocabulary};
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::session::Session;

/// natscli shows a progress bar instead of one line per message above this count.
pub const PROGRESS_THRESHOLD: u64 = 20;

#[derive(Debug, Args)]
pub struct PubArgs {
    /// Subject to publish to
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// Message body (read from stdin when not given)
    #[arg(value_name = "BODY")]
    pub body: Option<String>,
    /// Sets a custom reply to subject
    #[arg(long, value_name = "SUBJECT")]
    pub reply: Option<String>,
    /// Adds headers to the message using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// Publish multiple messages
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u64,
    /// When publishing multiple messages, sleep between publishes
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub sleep: Option<Duration>,
    /// Show just the output received
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[command(flatten)]
    pub input: InputFlags,
    #[command(flatten)]
    pub templates: TemplateFlags,
    #[command(flatten)]
    pub progress: ProgressFlags,
}

/// Where the body comes from when none is given.
#[derive(Debug, Clone, Args)]
pub struct InputFlags {
    /// Force reading from stdin
    #[arg(long)]
    pub force_stdin: bool,
    /// When to send data from stdin: 'eof' (default) or 'newline'
    #[arg(long, value_enum, value_name = "WHEN", default_value = "eof")]
    pub send_on: SendOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SendOn {
    /// All of stdin is one body
    Eof,
    /// Each line of stdin is a body
    Newline,
}

/// natscli's `--templates` (on by default) and its `--no-templates`.
#[derive(Debug, Clone, Args)]
pub struct TemplateFlags {
    /// Enables template functions in the body and subject (does not affect headers)
    #[arg(long = "templates", overrides_with = "no_templates")]
    templates: bool,
    /// Disables template functions in the body and subject
    #[arg(long = "no-templates", overrides_with = "templates")]
    no_templates: bool,
}

impl TemplateFlags {
    pub fn enabled(&self) -> bool {
        !self.no_templates
    }
}

/// `--progress` (the default) and `--no-progress`.
#[derive(Debug, Clone, Args)]
pub struct ProgressFlags {
    /// Show a progress bar instead of a line per message for large counts
    #[arg(long = "progress", overrides_with = "no_progress")]
    progress: bool,
    /// Log a line per message whatever the count
    #[arg(long = "no-progress", overrides_with = "progress")]
    no_progress: bool,
}

impl ProgressFlags {
    pub fn enabled(&self) -> bool {
        !self.no_progress
    }
}

pub async fn run(args: PubArgs, connector: &Connector) -> anyhow::Result<()> {
    let count = args.count.max(1);
    let plan = Plan::new(&args)?;
    let mut bodies = BodySource::new(args.body.clone(), &args.input);
    let mut session = connector.connect().await?;
    if bodies.uses_stdin() && !args.quiet {
        log("Reading payload from STDIN");
    }
    let progress = Progress::new(count, args.progress.enabled());
    let mut publisher = Publisher {
        session: &mut session,
        plan: &plan,
        progress: &progress,
        timeout: connector.timeout,
    };
    let result = publisher.publish_all(&mut bodies, &args, count).await;
    progress.finish();
    result
}

/// Everything about the messages that does not change between them.
struct Plan {
    subject: Template,
    reply: Option<String>,
    headers: HeaderTemplates,
    templates: bool,
}

impl Plan {
    fn new(args: &PubArgs) -> anyhow::Result<Plan> {
        let templates = args.templates.enabled();
        let subject = subject_template(&args.subject, templates)?;
        if let Some(body) = &args.body {
            // Check the body's template before connecting.
            Body::new(body.as_bytes().to_vec(), templates, Vocabulary::Publish)?;
        }
        Ok(Plan {
            subject,
            reply: args.reply.clone(),
            headers: HeaderTemplates::parse(&args.headers)?,
            templates,
        })
    }
}

/// The subject as a template (or as it is, with `--no-templates`).
pub fn subject_template(subject: &str, templates: bool) -> anyhow::Result<Template> {
    if templates {
        Template::parse(subject, "subject", Vocabulary::Publish)
    } else {
        Ok(Template::literal(subject))
    }
}

struct Publisher<'a> {
    session: &'a mut Session,
    plan: &'a Plan,
    progress: &'a Progress,
    timeout: Duration,
}

impl Publisher<'_> {
    async fn publish_all(
        &mut self,
        bodies: &mut BodySource,
        args: &PubArgs,
        count: u64,
    ) -> anyhow::Result<()> {
        while let Some(data) = bodies.next().await? {
            let body = Body::new(data, self.plan.templates, Vocabulary::Publish)?;
            self.publish_round(&body, count, args).await?;
        }
        Ok(())
    }

    /// `count` messages with one body. The server confirms the round (or
    /// reports a denied publish) before its last line is logged.
    async fn publish_round(
        &mut self,
        body: &Body,
        count: u64,
        args: &PubArgs,
    ) -> anyhow::Result<()> {
        let log_lines = !args.quiet && !self.progress.active();
        for number in 1..=count {
            let (subject, size) = self.publish_one(body, number).await?;
            let last = number == count;
            if last {
                self.session.round_trip(self.timeout).await?;
            }
            if log_lines {
                log(format!("Published {size} bytes to {}", go_quote(&subject)));
            }
            self.progress.inc();
            if let (Some(sleep), false) = (args.sleep, last) {
                self.session.client.flush().await?;
                tokio::time::sleep(sleep).await;
            }
        }
        Ok(())
    }

    /// Publishes message `number`; returns its subject and body size.
    async fn publish_one(&mut self, body: &Body, number: u64) -> anyhow::Result<(String, usize)> {
        let values = Values {
            count: number,
            ..Values::default()
        };
        let subject = self.plan.subject.render(&values);
        let payload = body.render(&values);
        let size = payload.len();
        let headers = self.plan.headers.render(number)?;
        send(
            &self.session.client,
            &subject,
            self.plan.reply.as_deref(),
            headers,
            payload,
        )
        .await?;
        Ok((subject, size))
    }
}

/// Publishes one message with whichever of reply and headers it has.
pub async fn send(
    client: &async_nats::Client,
    subject: &str,
    reply: Option<&str>,
    headers: Option<HeaderMap>,
    payload: Bytes,
) -> anyhow::Result<()> {
    let subject = subject.to_string();
    let sent = match (reply, headers) {
        (Some(reply), Some(headers)) => {
            client
                .publish_with_reply_and_headers(
                    subject.clone(),
                    reply.to_string(),
                    headers,
                    payload,
                )
                .await
        }
        (Some(reply), None) => {
            client
                .publish_with_reply(subject.clone(), reply.to_string(), payload)
                .await
        }
        (None, Some(headers)) => {
            client
                .publish_with_headers(subject.clone(), headers, payload)
                .await
        }
        (None, None) => client.publish(subject.clone(), payload).await,
    };
    sent.map_err(|err| anyhow!("cannot publish to {}: {err}", go_quote(&subject)))
}

/// A body: a template when templates are on and it is text, else bytes.
pub enum Body {
    Template(Template),
    Bytes(Bytes),
}

impl Body {
    pub fn new(data: Vec<u8>, templates: bool, vocabulary: Vocabulary) -> anyhow::Result<Body> {
        if !templates {
            return Ok(Body::Bytes(Bytes::from(data)));
        }
        match String::from_utf8(data) {
            Ok(text) => {
                let template = Template::parse(&text, "body", vocabulary)?;
                if template.is_literal() {
                    Ok(Body::Bytes(Bytes::from(text)))
                } else {
                    Ok(Body::Template(template))
                }
            }
            Err(err) => Ok(Body::Bytes(Bytes::from(err.into_bytes()))),
        }
    }

    pub fn render(&self, values: &Values) -> Bytes {
        match self {
            Body::Template(template) => Bytes::from(template.render(values)),
            Body::Bytes(bytes) => bytes.clone(),
        }
    }
}

/// The bodies to send: the one given, or stdin read whole or line by line.
/// natscli reads stdin when no body is given and stdin is not a terminal, when
/// both stdin and stdout are terminals (to type it), or with --force-stdin.
pub struct BodySource {
    given: Option<Option<String>>,
    stdin: Option<BufReader<Stdin>>,
    send_on: SendOn,
    done: bool,
}

impl BodySource {
    pub fn new(body: Option<String>, input: &InputFlags) -> BodySource {
        let stdin_tty = std::io::stdin().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        let use_stdin = body.is_none() && (!stdin_tty || stdout_tty || input.force_stdin);
        BodySource {
            given: Some(body),
            stdin: use_stdin.then(|| BufReader::new(tokio::io::stdin())),
            send_on: input.send_on,
            done: false,
        }
    }

    pub fn uses_stdin(&self) -> bool {
        self.stdin.is_some()
    }

    /// The next body, `None` when there are no more.
    pub async fn next(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let Some(stdin) = self.stdin.as_mut() else {
            self.done = true;
            let body = self.given.take().flatten().unwrap_or_default();
            return Ok(Some(body.into_bytes()));
        };
        match self.send_on {
            SendOn::Eof => {
                self.done = true;
                let mut data = Vec::new();
                stdin
                    .read_to_end(&mut data)
                    .await
                    .map_err(|err| anyhow!("cannot read stdin: {err}"))?;
                Ok(Some(data))
            }
            SendOn::Newline => self.next_line().await,
        }
    }

    async fn next_line(&mut self) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Ok(None);
        };
        let mut line = Vec::new();
        let read = stdin
            .read_until(b'\n', &mut line)
            .await
            .map_err(|err| anyhow!("cannot read stdin: {err}"))?;
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else {
            self.done = true;
        }
        if read == 0 || (!ended && line.is_empty()) {
            return Ok(None);
        }
        Ok(Some(line))
    }
}

/// The progress bar natscli shows for more than [`PROGRESS_THRESHOLD`]
/// messages instead of a line each; drawn on stdout when it is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(count: u64, enabled: bool) -> Progress {
        if !enabled || count <= PROGRESS_THRESHOLD {
            return Progress { bar: None };
        }
        let target = if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(count), target);
        let style =
            ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress { bar: Some(bar) }
    }

    /// Whether the bar replaces the per-message lines.
    pub fn active(&self) -> bool {
        self.bar.is_some()
    }

    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_with_templates_render_per_message() {
        let body = Body::new(b"n={{Count}}".to_vec(), true, Vocabulary::Publish).unwrap();
        let values = Values {
            count: 3,
            ..Values::default()
        };
        assert_eq!(body.render(&values), Bytes::from("n=3"));
        let literal = Body::new(b"n={{Count}}".to_vec(), false, Vocabulary::Publish).unwrap();
        assert_eq!(literal.render(&values), Bytes::from("n={{Count}}"));
        let binary = Body::new(vec![0xff, b'{', b'{'], true, Vocabulary::Publish).unwrap();
        assert_eq!(binary.render(&values), Bytes::from(vec![0xff, b'{', b'{']));
        assert!(Body::new(b"{{Bad}}".to_vec(), true, Vocabulary::Publish).is_err());
    }

    #[test]
    fn progress_only_for_large_counts() {
        assert!(!Progress::new(20, true).active());
        assert!(Progress::new(21, true).active());
        assert!(!Progress::new(1000, false).active());
    }
}
