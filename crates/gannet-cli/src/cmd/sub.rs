//! `sub`: subscribe to subjects and print what arrives, as natscli's
//! `nats sub` prints it (`[#N] Received on "subject"`, headers, body), raw,
//! dumped as JSON files, translated through a command, matched with replies,
//! or decoded as BOSH traffic (`--bosh`, see `bosh.rs`).
//!
//! The printing pieces it shares with `request` and `reply` live in
//! `output.rs`; running `--translate` commands lives in `external.rs`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use async_nats::{Message, Subscriber};
use clap::Args;
use futures::stream::SelectAll;
use futures::StreamExt;
use serde::Serialize;

use super::bosh;
use super::external::Translate;
use super::output::{
    base64, body_output, go_quote, go_quote_bytes, header_lines, log, write_body,
    write_body_compact, write_stdout,
};
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::go_duration;
use crate::session::{Notice, Session};

/// What `sub --bosh` watches when no subject is given: every subject BOSH uses.
const BOSH_SUBJECTS: [&str; 3] = ["agent.*", "director.>", "hm.>"];

#[derive(Debug, Args)]
pub struct SubArgs {
    /// Subjects to subscribe to (wildcards allowed)
    #[arg(value_name = "SUBJECTS")]
    pub subjects: Vec<String>,
    /// Subscribe to a named queue group
    #[arg(long, value_name = "NAME")]
    pub queue: Option<String>,
    /// Show the raw data received
    #[arg(short = 'r', long)]
    pub raw: bool,
    /// Translate the message data by running it through the given command before output
    #[arg(long, value_name = "COMMAND")]
    pub translate: Option<String>,
    /// Match replies to requests
    #[arg(long)]
    pub match_replies: bool,
    /// Subscribes to a generated inbox
    #[arg(short = 'i', long)]
    pub inbox: bool,
    /// Quit after receiving this many messages
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub count: u64,
    /// Dump received messages to files, 1 file per message. Specify - for null terminated STDOUT for use with xargs -0
    #[arg(long, value_name = "DIRECTORY")]
    pub dump: Option<PathBuf>,
    /// Do not render any data, shows only headers
    #[arg(long)]
    pub headers_only: bool,
    /// Prints only the messages' subjects
    #[arg(long)]
    pub subjects_only: bool,
    /// Subjects for which corresponding messages will be ignored and therefore not shown in the output
    #[arg(short = 'I', long = "ignore-subject", value_name = "SUBJECT")]
    pub ignore_subjects: Vec<String>,
    /// Unsubscribe after this amount of time without any traffic
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// Show timestamps in output
    #[arg(short = 't', long)]
    pub timestamp: bool,
    /// Show time since start in output
    #[arg(short = 'd', long)]
    pub delta_time: bool,
    /// Decode BOSH director, agent and health monitor traffic, one line per message
    #[arg(long)]
    pub bosh: bool,
}

pub async fn run(args: SubArgs, connector: &Connector) -> anyhow::Result<()> {
    validate(&args)?;
    let translate = args
        .translate
        .as_deref()
        .map(Translate::parse)
        .transpose()?;
    let mut session = connector.connect().await?;
    let subjects = subjects_to_watch(&args, &session);
    prepare_dump(args.dump.as_deref())?;
    let inbox_prefix = connector.inbox_prefix.as_deref().unwrap_or("_INBOX");
    let replies = subscribe_replies(&args, &session, inbox_prefix).await?;
    let quiet = args.raw || args.dump.is_some();
    if !quiet || args.inbox {
        log(format!("Subscribing on {} ", subjects.join(", ")));
    }
    let messages = subscribe_all(&session, &subjects, args.queue.as_deref()).await?;
    session.client.flush().await?;
    let mut watch = Watch::new(args, translate);
    watch.run(&mut session, messages, replies).await
}

/// natscli's checks that need no connection.
fn validate(args: &SubArgs) -> anyhow::Result<()> {
    if args.subjects.is_empty() && !args.inbox && !args.bosh {
        bail!("subject is required");
    }
    if args.timestamp && args.delta_time {
        bail!("timestamp and delta-time flags are mutually exclusive");
    }
    let is_stdout = args.dump.as_deref() == Some(Path::new("-"));
    if is_stdout && args.inbox {
        bail!("generating inboxes is not compatible with dumping to stdout using null terminated strings");
    }
    if args.bosh {
        let others = [
            (args.raw, "--raw"),
            (args.dump.is_some(), "--dump"),
            (args.translate.is_some(), "--translate"),
            (args.headers_only, "--headers-only"),
            (args.subjects_only, "--subjects-only"),
            (args.match_replies, "--match-replies"),
        ];
        if let Some((_, flag)) = others.iter().find(|(set, _)| *set) {
            bail!("--bosh prints its own one-line format and cannot be combined with {flag}");
        }
    }
    Ok(())
}

fn subjects_to_watch(args: &SubArgs, session: &Session) -> Vec<String> {
    match (args.subjects.is_empty(), args.inbox) {
        (true, true) => vec![session.client.new_inbox()],
        (true, false) => BOSH_SUBJECTS.iter().map(|s| s.to_string()).collect(),
        (false, _) => args.subjects.clone(),
    }
}

fn prepare_dump(dump: Option<&Path>) -> anyhow::Result<()> {
    match dump {
        Some(dir) if dir != Path::new("-") => create_private_dir(dir)
            .with_context(|| format!("cannot create the dump directory {}", dir.display())),
        _ => Ok(()),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// With --match-replies: every inbox, to catch the replies to requests seen.
async fn subscribe_replies(
    args: &SubArgs,
    session: &Session,
    inbox_prefix: &str,
) -> anyhow::Result<Option<Subscriber>> {
    if !args.match_replies {
        return Ok(None);
    }
    let subject = format!("{inbox_prefix}.>");
    if !args.raw && args.dump.is_none() {
        log(format!("Matching replies with inbox prefix {subject}"));
    }
    let subscriber = session
        .client
        .subscribe(subject.clone())
        .await
        .map_err(|err| anyhow!("cannot subscribe to {subject:?}: {err}"))?;
    Ok(Some(subscriber))
}

async fn subscribe_all(
    session: &Session,
    subjects: &[String],
    queue: Option<&str>,
) -> anyhow::Result<SelectAll<Subscriber>> {
    let mut all = SelectAll::new();
    for subject in subjects {
        let subscribed = match queue {
            Some(queue) => {
                session
                    .client
                    .queue_subscribe(subject.clone(), queue.to_string())
                    .await
            }
            None => session.client.subscribe(subject.clone()).await,
        };
        let subscriber =
            subscribed.map_err(|err| anyhow!("cannot subscribe to {subject:?}: {err}"))?;
        all.push(subscriber);
    }
    Ok(all)
}

/// The state of one `sub` run.
struct Watch {
    args: SubArgs,
    translate: Option<Translate>,
    ignore: Vec<String>,
    counter: u64,
    started: Instant,
    /// Requests seen with --match-replies, by their reply subject.
    pending: HashMap<String, Message>,
    /// The --count limit was reached: no more requests are taken.
    limit_reached: bool,
}

impl Watch {
    fn new(args: SubArgs, translate: Option<Translate>) -> Watch {
        let ignore = split_subjects(&args.ignore_subjects);
        Watch {
            args,
            translate,
            ignore,
            counter: 0,
            started: Instant::now(),
            pending: HashMap::new(),
            limit_reached: false,
        }
    }

    async fn run(
        &mut self,
        session: &mut Session,
        messages: SelectAll<Subscriber>,
        mut replies: Option<Subscriber>,
    ) -> anyhow::Result<()> {
        let mut messages = Some(messages);
        let mut notices_open = true;
        let idle = tokio::time::sleep(self.args.wait.unwrap_or(Duration::MAX));
        tokio::pin!(idle);
        while !self.finished() {
            tokio::select! {
                // A request reaches its channel before its reply reaches the
                // inbox one, so taking messages first keeps the pairs matched.
                biased;
                message = next_of(&mut messages) => {
                    let message = message.ok_or_else(closed)?;
                    if self.is_ignored(message.subject.as_str()) {
                        continue;
                    }
                    if let Some(wait) = self.args.wait {
                        idle.as_mut().reset(tokio::time::Instant::now() + wait);
                    }
                    self.on_message(message).await?;
                    if self.limit_reached {
                        messages = None;
                    }
                }
                reply = next_reply(&mut replies) => {
                    self.on_reply(reply.ok_or_else(closed)?).await?;
                }
                notice = session.next_notice(), if notices_open => match notice {
                    Some(notice) => on_notice(notice)?,
                    None => notices_open = false,
                },
                _ = &mut idle, if self.args.wait.is_some() => return Ok(()),
            }
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.limit_reached && (!self.args.match_replies || self.pending.is_empty())
    }

    async fn on_message(&mut self, message: Message) -> anyhow::Result<()> {
        self.counter += 1;
        match (&message.reply, self.args.match_replies) {
            (Some(reply), true) => {
                self.pending.insert(reply.to_string(), message);
            }
            _ => self.show(&message, None).await?,
        }
        if self.args.count > 0 && self.counter >= self.args.count {
            self.limit_reached = true;
        }
        Ok(())
    }

    async fn on_reply(&mut self, reply: Message) -> anyhow::Result<()> {
        if let Some(request) = self.pending.remove(reply.subject.as_str()) {
            self.show(&request, Some(&reply)).await?;
        }
        Ok(())
    }

    fn is_ignored(&self, subject: &str) -> bool {
        self.ignore
            .iter()
            .any(|ignored| subjects_collide(subject, ignored))
    }

    async fn show(&self, message: &Message, reply: Option<&Message>) -> anyhow::Result<()> {
        if let Some(dump) = &self.args.dump {
            return self.dump(dump, message, reply).await;
        }
        let mut out = Vec::new();
        if self.args.raw {
            self.render_raw(&mut out, message, reply).await;
        } else {
            self.render_pretty(&mut out, message, reply).await;
        }
        write_stdout(&out)
    }

    async fn render_raw(&self, out: &mut Vec<u8>, message: &Message, reply: Option<&Message>) {
        let body = body_output(&message.payload, self.translate.as_ref(), &message.subject).await;
        write_body_compact(out, &body);
        if let Some(reply) = reply {
            out.extend_from_slice(&reply.payload);
            out.push(b'\n');
        }
    }

    async fn render_pretty(&self, out: &mut Vec<u8>, message: &Message, reply: Option<&Message>) {
        let stamp = self.stamp();
        let number = self.counter;
        if self.args.bosh {
            if let Some(line) = bosh::describe(message.subject.as_str(), &message.payload) {
                let _ = writeln!(out, "[#{number}]{stamp} {line}");
                return;
            }
        }
        let _ = write!(
            out,
            "[#{number}]{stamp} Received on {}",
            go_quote(&message.subject)
        );
        if let Some(reply_to) = &message.reply {
            let _ = write!(out, " with reply {}", go_quote(reply_to));
        }
        out.push(b'\n');
        if !self.args.subjects_only {
            self.render_headers_and_body(out, message).await;
        }
        if let Some(reply) = reply {
            let _ = writeln!(
                out,
                "[#{number}]{stamp} Matched reply on {}",
                go_quote(&reply.subject)
            );
            self.render_headers_and_body(out, reply).await;
        }
    }

    async fn render_headers_and_body(&self, out: &mut Vec<u8>, message: &Message) {
        let headers = header_lines(message);
        if !headers.is_empty() {
            for (name, value) in &headers {
                let _ = writeln!(out, "{name}: {value}");
            }
            out.push(b'\n');
        }
        if !self.args.headers_only {
            let body =
                body_output(&message.payload, self.translate.as_ref(), &message.subject).await;
            write_body(out, &body);
        }
    }

    /// ` @ Jan _2 15:04:05.000000` or ` @ 1.234s` (time since start).
    fn stamp(&self) -> String {
        if self.args.timestamp {
            format!(" @ {}", chrono::Local::now().format("%b %e %H:%M:%S%.6f"))
        } else if self.args.delta_time {
            format!(" @ {}", go_duration(self.started.elapsed()))
        } else {
            String::new()
        }
    }

    async fn dump(
        &self,
        dump: &Path,
        message: &Message,
        reply: Option<&Message>,
    ) -> anyhow::Result<()> {
        let to_stdout = dump == Path::new("-");
        let number = self.counter;
        self.dump_one(message, to_stdout, &dump.join(format!("{number}.json")))
            .await?;
        if let Some(reply) = reply {
            self.dump_one(reply, to_stdout, &dump.join(format!("{number}_reply.json")))
                .await?;
        }
        Ok(())
    }

    async fn dump_one(
        &self,
        message: &Message,
        to_stdout: bool,
        file: &Path,
    ) -> anyhow::Result<()> {
        let mut data = message.payload.to_vec();
        if let Some(translate) = &self.translate {
            match translate.run(&data, &message.subject).await {
                Ok(output) => data = output,
                Err(failure) => {
                    log(format!(
                        "{}\nError while translating msg body: {}\n\n",
                        go_quote_bytes(&failure.output),
                        failure.error
                    ));
                    return Ok(());
                }
            }
        }
        let json = dump_json(message, &data);
        if to_stdout {
            let mut out = json.into_bytes();
            out.push(0);
            return write_stdout(&out);
        }
        if let Err(err) = write_private_file(file, json.as_bytes()) {
            log(format!("Could not save message: {err}"));
        }
        if self.counter.is_multiple_of(100) {
            write_stdout(b".")?;
        }
        Ok(())
    }
}

async fn next_of(messages: &mut Option<SelectAll<Subscriber>>) -> Option<Message> {
    match messages {
        Some(messages) => messages.next().await,
        None => std::future::pending().await,
    }
}

async fn next_reply(replies: &mut Option<Subscriber>) -> Option<Message> {
    match replies {
        Some(replies) => replies.next().await,
        None => std::future::pending().await,
    }
}

fn closed() -> anyhow::Error {
    anyhow!("the connection to the server was closed")
}

/// A server error ends `sub` (a denied subscription); slow consumer reports
/// and disconnects are logged as natscli logs them.
fn on_notice(notice: Notice) -> anyhow::Result<()> {
    match notice {
        Notice::ServerError(text) if text.starts_with("Slow Consumer") => {
            log(format!(">>> Unexpected NATS error: {text}"));
            Ok(())
        }
        Notice::ServerError(text) => bail!("{text}"),
        Notice::Disconnected => {
            log(">>> Disconnected, will attempt reconnect");
            Ok(())
        }
        Notice::Reconnected | Notice::LameDuck => Ok(()),
    }
}

/// `-I a,b c` → `[a, b, c]`, as natscli splits them.
fn split_subjects(flags: &[String]) -> Vec<String> {
    flags
        .iter()
        .flat_map(|flag| flag.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether some subject could match both `a` and `b` (wildcards on either side).
pub fn subjects_collide(a: &str, b: &str) -> bool {
    let a: Vec<&str> = a.split('.').collect();
    let b: Vec<&str> = b.split('.').collect();
    let mut i = 0;
    loop {
        match (a.get(i), b.get(i)) {
            (Some(&">"), Some(_)) | (Some(_), Some(&">")) => return true,
            (Some(x), Some(y)) if x == y || *x == "*" || *y == "*" => i += 1,
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The JSON natscli writes with --dump: Go's encoding of a `nats.Msg`.
#[derive(Serialize)]
struct DumpedMessage<'a> {
    #[serde(rename = "Subject")]
    subject: &'a str,
    #[serde(rename = "Reply")]
    reply: &'a str,
    #[serde(rename = "Header")]
    header: Option<std::collections::BTreeMap<String, Vec<String>>>,
    #[serde(rename = "Data")]
    data: String,
    #[serde(rename = "Sub")]
    sub: Option<()>,
}

fn dump_json(message: &Message, data: &[u8]) -> String {
    let header = message.headers.as_ref().map(|_| {
        let mut map = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (name, value) in header_lines(message) {
            map.entry(name).or_default().push(value);
        }
        map
    });
    let dumped = DumpedMessage {
        subject: message.subject.as_str(),
        reply: message.reply.as_ref().map(|r| r.as_str()).unwrap_or(""),
        header,
        data: base64(data),
        sub: None,
    };
    // Serializing plain strings and maps cannot fail.
    let json = serde_json::to_string(&dumped).unwrap_or_default();
    go_html_escape(&json)
}

/// Go's JSON encoder escapes `<`, `>` and `&` (they only occur inside strings).
fn go_html_escape(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn write_private_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::output::tests::message;

    #[test]
    fn dump_json_is_a_go_nats_msg() {
        let mut msg = message("a.b", b"hi<");
        msg.reply = Some("r".into());
        assert_eq!(
            dump_json(&msg, &msg.payload),
            r#"{"Subject":"a.b","Reply":"r","Header":null,"Data":"aGk8","Sub":null}"#
        );
        let mut headers = async_nats::HeaderMap::new();
        headers.append("K", "v&");
        msg.headers = Some(headers);
        assert!(dump_json(&msg, b"").contains(r#""Header":{"K":["v\u0026"]},"Data":"""#));
    }

    #[test]
    fn subject_collisions() {
        assert!(subjects_collide("a.b", "a.b"));
        assert!(subjects_collide("a.b", "a.*"));
        assert!(subjects_collide("a.b.c", "a.>"));
        assert!(subjects_collide("*.b", "a.*"));
        assert!(!subjects_collide("a.b", "a.c"));
        assert!(!subjects_collide("a.b.c", "a.*"));
        assert!(!subjects_collide("a", "a.>"));
    }

    #[test]
    fn ignore_flags_split_on_commas_and_spaces() {
        let flags = vec!["a,b c".to_string(), "d".to_string()];
        assert_eq!(split_subjects(&flags), ["a", "b", "c", "d"]);
    }
}
