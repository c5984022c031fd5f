//! The benchmark clients: one connection and one task per client, started
//! together, each publishing, receiving, requesting or replying and timing what
//! it does, with a progress bar each while they run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use async_nats::{Client, Subject, Subscriber};
use bytes::Bytes;
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng as _;
use tokio::sync::watch;

use super::stats::{Benchmark, Kind, Sample};
use super::{log, Plan};
use crate::connect::Connector;
use crate::format;
use crate::session::Session;

/// What a finished run hands back for printing.
pub struct Outcome {
    pub bench: Benchmark,
    /// A client reconnected or the server reported an error to it (a slow
    /// consumer, say): natscli warns that the results are not optimal.
    pub troubled: bool,
}

/// One client's result.
pub(super) struct ClientResult {
    pub(super) sample: Sample,
    pub(super) troubled: bool,
}

/// Opens one connection per client, named after the flags (numbered when
/// there are several).
pub(super) async fn connect_all(
    plan: &Plan,
    connector: &Connector,
) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::with_capacity(plan.clients);
    for i in 0..plan.clients {
        let session = if plan.clients == 1 {
            connector.connect().await?
        } else {
            let name = format!("{} #{}", connector.connection_name, i + 1);
            connector
                .connect_as(&name)
                .await
                .with_context(|| format!("client number {} failed to connect", i + 1))?
        };
        sessions.push(session);
    }
    Ok(sessions)
}

/// The payload the senders send: the --payload file or --size zero bytes,
/// refused when the server would refuse it.
pub(super) fn payload(plan: &Plan, client: &Client) -> anyhow::Result<Bytes> {
    let max = client.server_info().max_payload;
    if max > 0 && plan.size > max {
        bail!(
            "the message size {} is larger than the server's maximum payload of {}",
            format::bytes(plan.size as u64),
            format::bytes(max as u64)
        );
    }
    match &plan.payload_file {
        Some(file) => {
            let data = std::fs::read(file)
                .with_context(|| format!("reading the payload file {}", file.display()))?;
            Ok(Bytes::from(data))
        }
        None => Ok(Bytes::from(vec![0u8; plan.size])),
    }
}

/// natscli's share of the messages per client: equal parts, the first
/// clients taking one more when it does not divide.
pub(super) fn msgs_per_client(msgs: u64, clients: usize) -> Vec<u64> {
    let clients = clients.max(1) as u64;
    (0..clients)
        .map(|i| msgs / clients + u64::from(i < msgs % clients))
        .collect()
}

/// The progress bars, one per client, on stderr when it is a terminal.
pub(super) struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    pub(super) fn new(enabled: bool) -> Bars {
        Bars {
            multi: enabled.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    pub(super) fn bar(&self, length: u64, state: &'static str) -> ProgressBar {
        let Some(multi) = &self.multi else {
            return ProgressBar::hidden();
        };
        let style = ProgressStyle::with_template("{prefix} {elapsed:>4} {wide_bar} {percent:>3}%")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = multi.add(ProgressBar::new(length.max(1)));
        bar.set_style(style);
        bar.set_prefix(state);
        bar
    }

    /// Ends the last bar's line, which the bars leave open, so what follows
    /// starts below them.
    pub(super) fn end(&self) {
        if let Some(multi) = &self.multi {
            if !multi.is_hidden() {
                eprintln!();
            }
        }
    }
}

/// Moves a bar along without locking it for every message.
pub(super) struct Progress {
    bar: ProgressBar,
    step: u64,
}

impl Progress {
    pub(super) fn new(bar: ProgressBar, total: u64) -> Progress {
        Progress {
            bar,
            step: (total / 200).max(1),
        }
    }

    pub(super) fn done(&self, count: u64) {
        if count.is_multiple_of(self.step) {
            self.bar.set_position(count);
        }
    }

    pub(super) fn finish(&self, count: u64) {
        self.bar.set_position(count);
        self.bar.set_prefix("Finished  ");
        self.bar.finish();
    }
}

/// Paces a sender to about `target` messages per second.
pub(super) struct Throttle {
    target: f64,
    start: Instant,
}

impl Throttle {
    pub(super) fn new(plan: &Plan) -> Option<Throttle> {
        (plan.throughput > 0).then(|| Throttle {
            target: plan.throughput as f64 / plan.clients.max(1) as f64,
            start: Instant::now(),
        })
    }

    /// Sleeps until `sent` messages are due; returns how long it slept.
    pub(super) async fn pace(&self, sent: u64) -> Duration {
        let due = sent as f64 / self.target;
        let elapsed = self.start.elapsed().as_secs_f64();
        if due > elapsed {
            let wait = Duration::from_secs_f64(due - elapsed);
            tokio::time::sleep(wait).await;
            return wait;
        }
        Duration::ZERO
    }
}

/// The subjects one sender publishes on: the plan's subject, or with
/// --multisubject one per message sequence number (zero padded to the width
/// of --multisubjectmax, wrapping at it, or random below it).
pub(super) struct Subjects {
    fixed: Subject,
    base: String,
    multi: bool,
    max: u64,
    random: bool,
    width: usize,
}

impl Subjects {
    pub(super) fn new(plan: &Plan) -> Subjects {
        Subjects {
            fixed: Subject::from(plan.subject.as_str()),
            base: plan.subject.clone(),
            multi: plan.multisubject,
            max: plan.multisubject_max,
            random: plan.multisubject_random,
            width: plan.multisubject_max.to_string().len(),
        }
    }

    pub(super) fn for_message(&self, number: u64) -> Subject {
        if !self.multi {
            return self.fixed.clone();
        }
        let subject = if self.max == 0 {
            format!("{}.{number}", self.base)
        } else {
            let token = if self.random {
                rand::rng().random_range(0..self.max)
            } else {
                number % self.max
            };
            format!("{}.{token:0width$}", self.base, width = self.width)
        };
        Subject::from(subject)
    }
}

/// Staggers the senders a little when --sleep is set, as natscli does.
pub(super) async fn jitter(plan: &Plan, index: usize) {
    let nanos = plan.sleep.as_nanos() as u64;
    if nanos > 0 && index != 0 {
        let wait = rand::rng().random_range(0..nanos);
        tokio::time::sleep(Duration::from_nanos(wait)).await;
    }
}

/// After a run: a round trip through the server that fails on an error it
/// reported, such as a permission violation. A slow consumer or a reconnect
/// only marks the results as troubled.
pub(super) async fn check_session(
    session: &mut Session,
    timeout: Duration,
    what: &str,
) -> anyhow::Result<bool> {
    let reconnected = session
        .client
        .statistics()
        .connects
        .load(std::sync::atomic::Ordering::Relaxed)
        > 1;
    match session.round_trip(timeout).await {
        Ok(()) => Ok(reconnected),
        Err(err) if err.to_string().starts_with("Slow Consumer") => Ok(true),
        Err(err) => Err(anyhow!("{what}: {err:#}")),
    }
}

/// Messages in plus out on the connection so far.
pub(super) fn connection_msgs(client: &Client) -> u64 {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = client.statistics();
    stats.in_messages.load(Relaxed) + stats.out_messages.load(Relaxed)
}

/// Waits for every client task; the first failure ends the run. Ctrl-C too.
pub(super) async fn collect(
    kind: Kind,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<ClientResult>>>,
) -> anyhow::Result<Outcome> {
    let all = futures::future::try_join_all(tasks.into_iter().map(|task| async move {
        match task.await {
            Ok(result) => result,
            Err(err) => Err(anyhow!("a benchmark client stopped: {err}")),
        }
    }));
    let results = tokio::select! {
        results = all => results?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted before the benchmark completed"),
    };
    let troubled = results.iter().any(|r| r.troubled);
    let samples = results.into_iter().map(|r| r.sample).collect();
    Ok(Outcome {
        bench: Benchmark::new(kind, samples),
        troubled,
    })
}

pub async fn run_pub(plan: &Plan, connector: &Connector) -> anyhow::Result<Outcome> {
    run_senders(plan, connector, "publishing", "Publishing").await
}

pub async fn run_request(plan: &Plan, connector: &Connector) -> anyhow::Result<Outcome> {
    run_senders(plan, connector, "requesting", "Requesting").await
}

/// Publishers and requesters: connect all, then start them at once.
async fn run_senders(
    plan: &Plan,
    connector: &Connector,
    verb: &'static str,
    state: &'static str,
) -> anyhow::Result<Outcome> {
    let sessions = connect_all(plan, connector).await?;
    let payload = match sessions.first() {
        Some(session) => payload(plan, &session.client)?,
        None => bail!("no clients"),
    };
    let counts = msgs_per_client(plan.msgs, plan.clients);
    for (i, count) in counts.iter().enumerate() {
        log(&format!(
            "[{}] Starting {}, {verb} {} messages",
            i + 1,
            plan.kind.label(),
            format::number(*count)
        ));
    }
    let bars = Bars::new(plan.progress);
    let (trigger, ready) = watch::channel(false);
    let plan = Arc::new(plan.clone());
    let mut tasks = Vec::new();
    let mut offset = 0;
    for (i, (session, count)) in sessions.into_iter().zip(counts).enumerate() {
        let progress = Progress::new(bars.bar(count, state), count);
        let job = SendJob {
            plan: plan.clone(),
            payload: payload.clone(),
            count,
            offset,
            index: i,
            timeout: connector.timeout,
        };
        offset += count;
        let mut ready = ready.clone();
        tasks.push(tokio::spawn(async move {
            wait_for_start(&mut ready).await?;
            job.run(session, progress).await
        }));
    }
    let _ = trigger.send(true);
    let outcome = collect(plan.kind, tasks).await;
    bars.end();
    outcome
}

/// Waits until every client of the run is connected and the start is given;
/// an error when the run was abandoned first.
pub(super) async fn wait_for_start(ready: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    ready
        .wait_for(|go| *go)
        .await
        .map_err(|_| anyhow!("the benchmark was abandoned"))?;
    Ok(())
}

/// One sender's share of the work.
struct SendJob {
    plan: Arc<Plan>,
    payload: Bytes,
    count: u64,
    offset: u64,
    index: usize,
    timeout: Duration,
}

impl SendJob {
    /// Sends this client's share of the messages (requests, or plain
    /// publishes), timing each one and pacing them, then finishes the run.
    async fn run(self, session: Session, progress: Progress) -> anyhow::Result<ClientResult> {
        jitter(&self.plan, self.index).await;
        let requests = self.plan.kind == Kind::Request;
        let client = session.client.clone();
        let subjects = Subjects::new(&self.plan);
        let throttle = Throttle::new(&self.plan);
        let mut latencies = Vec::with_capacity(self.count as usize);
        let start = Instant::now();
        for i in 0..self.count {
            let subject = subjects.for_message(i + self.offset);
            let began = Instant::now();
            if requests {
                self.request(&client, subject).await?;
            } else {
                self.publish(&client, subject).await?;
            }
            latencies.push(began.elapsed().as_nanos() as u64);
            progress.done(i + 1);
            self.pause(i + 1, throttle.as_ref()).await;
        }
        let doing = if requests { "requesting" } else { "publishing" };
        self.finish(session, progress, latencies, start, doing)
            .await
    }

    async fn publish(&self, client: &Client, subject: Subject) -> anyhow::Result<()> {
        let sent = match &self.plan.headers {
            Some(headers) => {
                client
                    .publish_with_headers(subject, headers.clone(), self.payload.clone())
                    .await
            }
            None => client.publish(subject, self.payload.clone()).await,
        };
        sent.map_err(|err| anyhow!("publishing: {err}"))
    }

    /// One request, and a check that its reply is not an error.
    async fn request(&self, client: &Client, subject: Subject) -> anyhow::Result<()> {
        let reply = match &self.plan.headers {
            Some(headers) => {
                let request = async_nats::Request::new()
                    .payload(self.payload.clone())
                    .headers(headers.clone());
                client.send_request(subject, request).await
            }
            None => client.request(subject, self.payload.clone()).await,
        };
        let reply = reply.map_err(|err| match err.kind() {
            async_nats::RequestErrorKind::NoResponders => anyhow!(
                "requesting: no responders on {} (is `bench reply` running?)",
                self.plan.subject
            ),
            async_nats::RequestErrorKind::TimedOut => anyhow!(
                "requesting: no reply within {}",
                format::go_duration(self.timeout)
            ),
            _ => anyhow!("requesting: {err}"),
        })?;
        let data = &reply.payload;
        if data.is_empty() || data[0] == b'-' || contains(data, b"error") {
            bail!(
                "request did not receive a good reply: {:?}",
                String::from_utf8_lossy(data)
            );
        }
        Ok(())
    }

    /// Between two messages: `--sleep`, then the `--throughput` pace.
    async fn pause(&self, sent: u64, throttle: Option<&Throttle>) {
        if !self.plan.sleep.is_zero() {
            tokio::time::sleep(self.plan.sleep).await;
        }
        if let Some(throttle) = throttle {
            throttle.pace(sent).await;
        }
    }

    /// After the last message: flush, then the sample of this client's run and
    /// whatever the server reported to it while `doing` its work.
    async fn finish(
        &self,
        mut session: Session,
        progress: Progress,
        mut latencies: Vec<u64>,
        start: Instant,
        doing: &str,
    ) -> anyhow::Result<ClientResult> {
        session
            .client
            .flush()
            .await
            .map_err(|err| anyhow!("flushing: {err}"))?;
        let end = Instant::now();
        progress.finish(self.count);
        latencies.sort_unstable();
        let mut sample = Sample::new(
            self.count,
            self.count * self.payload.len() as u64,
            start,
            end,
        );
        sample.latencies = latencies;
        sample.conn_msgs = connection_msgs(&session.client);
        let troubled = check_session(&mut session, self.timeout, doing).await?;
        Ok(ClientResult { sample, troubled })
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Subscribers: each subscribes (and the server accepts it) before any
/// announces itself, then each counts the messages it receives, timed from the
/// first to the last.
pub async fn run_sub(plan: &Plan, connector: &Connector) -> anyhow::Result<Outcome> {
    let sessions = connect_all(plan, connector).await?;
    let subject = plan.subscribe_subject();
    let mut ready = Vec::with_capacity(sessions.len());
    for mut session in sessions {
        let subscriber = session
            .client
            .subscribe(subject.clone())
            .await
            .map_err(|err| anyhow!("subscribing to '{subject}': {err}"))?;
        session
            .round_trip(connector.timeout)
            .await
            .map_err(|err| anyhow!("subscribing to '{subject}': {err:#}"))?;
        ready.push((session, subscriber));
    }
    for i in 0..ready.len() {
        log(&format!(
            "[{}] Starting {}, expecting {} messages",
            i + 1,
            plan.kind.label(),
            format::number(plan.msgs)
        ));
    }
    let bars = Bars::new(plan.progress);
    let mut tasks = Vec::new();
    for (session, subscriber) in ready {
        let progress = Progress::new(bars.bar(plan.msgs, "Receiving "), plan.msgs);
        let msgs = plan.msgs;
        let timeout = connector.timeout;
        tasks.push(tokio::spawn(receive(
            session, subscriber, msgs, progress, timeout,
        )));
    }
    let outcome = collect(plan.kind, tasks).await;
    bars.end();
    outcome
}

async fn receive(
    mut session: Session,
    mut subscriber: Subscriber,
    msgs: u64,
    progress: Progress,
    timeout: Duration,
) -> anyhow::Result<ClientResult> {
    let mut received = 0u64;
    let mut bytes = 0u64;
    let mut start = None;
    while received < msgs {
        let Some(message) = subscriber.next().await else {
            bail!(
                "the subscription ended after {} of {} messages",
                format::number(received),
                format::number(msgs)
            );
        };
        if start.is_none() {
            start = Some(Instant::now());
        }
        received += 1;
        bytes += message.payload.len() as u64;
        progress.done(received);
    }
    let end = Instant::now();
    progress.finish(received);
    let mut sample = Sample::new(msgs, bytes, start.unwrap_or(end), end);
    sample.conn_msgs = connection_msgs(&session.client);
    let _ = subscriber.unsubscribe().await;
    let troubled = check_session(&mut session, timeout, "receiving").await?;
    Ok(ClientResult { sample, troubled })
}

/// Repliers answer "ok" to every request (after --sleep) in queue group "q"
/// unless --no-queue, until interrupted.
pub async fn run_reply(plan: &Plan, connector: &Connector) -> anyhow::Result<()> {
    let sessions = connect_all(plan, connector).await?;
    let mut tasks = Vec::new();
    let mut clients = Vec::new();
    for (i, mut session) in sessions.into_iter().enumerate() {
        let client = session.client.clone();
        let subscriber = if plan.queue {
            client
                .queue_subscribe(plan.subject.clone(), "q".to_string())
                .await
        } else {
            client.subscribe(plan.subject.clone()).await
        }
        .map_err(|err| anyhow!("subscribing to '{}': {err}", plan.subject))?;
        session
            .round_trip(connector.timeout)
            .await
            .map_err(|err| anyhow!("subscribing to '{}': {err:#}", plan.subject))?;
        log(&format!(
            "[{}] Starting {}, hit control-c to stop",
            i + 1,
            plan.kind.label()
        ));
        clients.push(client.clone());
        tasks.push(tokio::spawn(serve(session, subscriber, plan.sleep)));
    }
    let all = futures::future::try_join_all(tasks.into_iter().map(|task| async move {
        match task.await {
            Ok(result) => result,
            Err(err) => Err(anyhow!("a replier stopped: {err}")),
        }
    }));
    tokio::select! {
        result = all => {
            result?;
            Ok(())
        }
        _ = tokio::signal::ctrl_c() => {
            for client in clients {
                let _ = client.drain().await;
            }
            Ok(())
        }
    }
}

async fn serve(
    session: Session,
    mut subscriber: Subscriber,
    sleep: Duration,
) -> anyhow::Result<()> {
    let client = session.client.clone();
    let ok = Bytes::from_static(b"ok");
    while let Some(message) = subscriber.next().await {
        if !sleep.is_zero() {
            tokio::time::sleep(sleep).await;
        }
        if let Some(reply) = message.reply {
            client
                .publish(reply, ok.clone())
                .await
                .map_err(|err| anyhow!("replying to the request: {err}"))?;
        }
    }
    bail!("the subscription to the benchmark subject ended (connection closed?)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shared_out_evenly() {
        assert_eq!(msgs_per_client(10, 3), vec![4, 3, 3]);
        assert_eq!(msgs_per_client(9, 3), vec![3, 3, 3]);
        assert_eq!(msgs_per_client(1, 1), vec![1]);
    }
}
