//! The clients of the JetStream benchmarks: publishers that wait for each
//! acknowledgement (`sync`, timing each publish) or for a batch of them
//! (`async`, timing each batch), and consumers that pull batches from the
//! durable consumer (`fetch` timing each pull, `consume` not), or read an
//! ordered ephemeral consumer, acknowledging as the consumer asks. One
//! connection and one task per client, with a progress bar each.

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use async_nats::jetstream::{self, consumer::pull, message::PublishMessage};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::watch;

use super::clients::{
    check_session, collect, connect_all, connection_msgs, jitter, msgs_per_client, payload, Bars,
    ClientResult, Outcome, Progress, Subjects, Throttle,
};
use super::js::JsPlan;
use super::stats::{Kind, Sample};
use super::{clients::wait_for_start, log, Plan};
use crate::connect::Connector;
use crate::format;
use crate::jsm::{client_error, error_text};
use crate::session::Session;

/// A JetStream context on one client's connection, its requests and acks
/// timed out after the `--timeout`.
fn context(session: &Session, timeout: Duration) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(timeout)
        .build(session.client.clone())
}

/// Publishers: connect all, then start them at once.
pub async fn run_publishers(
    plan: &Plan,
    js: &JsPlan,
    connector: &Connector,
) -> anyhow::Result<Outcome> {
    let sessions = connect_all(plan, connector).await?;
    let payload = match sessions.first() {
        Some(session) => payload(plan, &session.client)?,
        None => bail!("no clients"),
    };
    let counts = msgs_per_client(plan.msgs, plan.clients);
    for (i, count) in counts.iter().enumerate() {
        log(&format!(
            "[{}] Starting {}, publishing {} messages",
            i + 1,
            plan.kind.label(),
            format::number(*count)
        ));
    }
    let bars = Bars::new(plan.progress);
    let (trigger, ready) = watch::channel(false);
    let plan = Arc::new(plan.clone());
    let js = Arc::new(js.clone());
    // natscli's prefix of the message ids: the start time in hex milliseconds.
    let id_prefix = format!("{:x}", chrono::Utc::now().timestamp_millis());
    let mut tasks = Vec::new();
    let mut offset = 0;
    for (index, (session, count)) in sessions.into_iter().zip(counts).enumerate() {
        let progress = Progress::new(bars.bar(count, "Publishing"), count);
        let job = PubJob {
            plan: plan.clone(),
            js: js.clone(),
            payload: payload.clone(),
            count,
            offset,
            index,
            id_prefix: id_prefix.clone(),
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

/// One publisher's share of the work.
struct PubJob {
    plan: Arc<Plan>,
    js: Arc<JsPlan>,
    payload: Bytes,
    count: u64,
    offset: u64,
    index: usize,
    id_prefix: String,
    timeout: Duration,
}

impl PubJob {
    fn message(&self, number: u64) -> PublishMessage {
        let mut message = PublishMessage::build().payload(self.payload.clone());
        if let Some(headers) = &self.plan.headers {
            message = message.headers(headers.clone());
        }
        if self.js.dedup {
            message = message.message_id(format!(
                "{}-{}-{}",
                self.id_prefix,
                self.index,
                number + self.offset
            ));
        }
        message
    }

    async fn run(self, mut session: Session, progress: Progress) -> anyhow::Result<ClientResult> {
        jitter(&self.plan, self.index).await;
        let context = context(&session, self.timeout);
        let subjects = Subjects::new(&self.plan);
        let throttle = Throttle::new(&self.plan);
        let start = Instant::now();
        let latencies = if self.plan.kind == Kind::JsPubSync {
            self.publish_sync(&context, &subjects, throttle.as_ref(), &progress)
                .await?
        } else {
            self.publish_async(&context, &subjects, throttle.as_ref(), &progress)
                .await?
        };
        session
            .client
            .flush()
            .await
            .map_err(|err| anyhow!("flushing: {err}"))?;
        let end = Instant::now();
        progress.finish(self.count);
        let mut sample = Sample::new(
            self.count,
            self.count * self.payload.len() as u64,
            start,
            end,
        );
        sample.latencies = latencies;
        sample.latencies.sort_unstable();
        sample.conn_msgs = connection_msgs(&session.client);
        let troubled = check_session(&mut session, self.timeout, "publishing").await?;
        Ok(ClientResult { sample, troubled })
    }

    /// One publish at a time, each waiting for its acknowledgement.
    async fn publish_sync(
        &self,
        context: &jetstream::Context,
        subjects: &Subjects,
        throttle: Option<&Throttle>,
        progress: &Progress,
    ) -> anyhow::Result<Vec<u64>> {
        let mut latencies = Vec::with_capacity(self.count as usize);
        for i in 0..self.count {
            let subject = subjects.for_message(i + self.offset);
            let began = Instant::now();
            let ack = context
                .send_publish(subject, self.message(i))
                .await
                .map_err(|err| anyhow!("publishing synchronously: {}", client_error(&err)))?;
            ack.await
                .map_err(|err| anyhow!("publishing synchronously: {}", client_error(&err)))?;
            latencies.push(began.elapsed().as_nanos() as u64);
            progress.done(i + 1);
            if !self.plan.sleep.is_zero() {
                tokio::time::sleep(self.plan.sleep).await;
            }
            if let Some(throttle) = throttle {
                throttle.pace(i + 1).await;
            }
        }
        Ok(latencies)
    }

    /// Batches of publishes, then all their acknowledgements; each batch
    /// timed without the sleeps and throttling in it, as natscli does.
    async fn publish_async(
        &self,
        context: &jetstream::Context,
        subjects: &Subjects,
        throttle: Option<&Throttle>,
        progress: &Progress,
    ) -> anyhow::Result<Vec<u64>> {
        let batch = self.js.batch.max(1) as u64;
        let mut latencies = Vec::with_capacity(self.count.div_ceil(batch) as usize);
        let mut sent = 0;
        while sent < self.count {
            let size = batch.min(self.count - sent);
            let mut paused = Duration::ZERO;
            let began = Instant::now();
            let mut acks = Vec::with_capacity(size as usize);
            for j in 0..size {
                let subject = subjects.for_message(sent + j + self.offset);
                let ack = context
                    .send_publish(subject, self.message(sent + j))
                    .await
                    .map_err(|err| anyhow!("publishing asynchronously: {}", client_error(&err)))?;
                acks.push(ack.into_future());
                progress.done(sent + j + 1);
                if !self.plan.sleep.is_zero() {
                    tokio::time::sleep(self.plan.sleep).await;
                    paused += self.plan.sleep;
                }
                if let Some(throttle) = throttle {
                    paused += throttle.pace(sent + j + 1).await;
                }
            }
            let all = futures::future::try_join_all(acks);
            match tokio::time::timeout(self.timeout, all).await {
                Err(_) => bail!("JS PubAsync ack timeout (pending={size})"),
                Ok(Err(err)) => bail!(
                    "async publish acknowledgement is an error: {}",
                    client_error(&err)
                ),
                Ok(Ok(_)) => {}
            }
            latencies.push(began.elapsed().saturating_sub(paused).as_nanos() as u64);
            sent += size;
        }
        Ok(latencies)
    }
}

/// Consumers of the durable consumer (fetch, consume) or of an ordered
/// ephemeral one: each sets its consumer up before any starts.
pub async fn run_consumers(
    plan: &Plan,
    js: &JsPlan,
    connector: &Connector,
) -> anyhow::Result<Outcome> {
    let sessions = connect_all(plan, connector).await?;
    // The durable consumer's messages are shared out; each ordered consumer
    // sees all of them.
    let counts = if plan.kind == Kind::JsOrdered {
        vec![plan.msgs; plan.clients]
    } else {
        msgs_per_client(plan.msgs, plan.clients)
    };
    let bars = Bars::new(plan.progress);
    let plan = Arc::new(plan.clone());
    let js = Arc::new(js.clone());
    let mut tasks = Vec::new();
    for (index, (session, count)) in sessions.into_iter().zip(counts).enumerate() {
        log(&format!(
            "[{}] Starting {}, expecting {} messages",
            index + 1,
            plan.kind.label(),
            format::number(count)
        ));
        let state = match plan.kind {
            Kind::JsFetch => "Fetching  ",
            Kind::JsConsume => "Consuming ",
            _ => "Receiving ",
        };
        let progress = Progress::new(bars.bar(count, state), count);
        let job = ConsumeJob {
            plan: plan.clone(),
            js: js.clone(),
            count,
            timeout: connector.timeout,
        };
        let source = job.source(&session).await?;
        tasks.push(tokio::spawn(job.run(session, source, progress)));
    }
    let outcome = collect(plan.kind, tasks).await;
    bars.end();
    outcome
}

/// Where a consuming client reads from.
enum Source {
    Durable(Box<jetstream::consumer::Consumer<pull::Config>>),
    Ordered(Box<pull::Ordered>),
}

struct ConsumeJob {
    plan: Arc<Plan>,
    js: Arc<JsPlan>,
    count: u64,
    timeout: Duration,
}

/// What a consuming client counted.
#[derive(Default)]
struct Received {
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl ConsumeJob {
    /// The durable consumer, or a new ordered consumer on the stream.
    async fn source(&self, session: &Session) -> anyhow::Result<Source> {
        let context = context(session, self.timeout);
        let stream_name = &self.js.stream;
        let stream = context
            .get_stream(stream_name)
            .await
            .map_err(|err| anyhow!("getting stream '{stream_name}': {}", client_error(&err)))?;
        if self.plan.kind == Kind::JsOrdered {
            let consumer = stream
                .create_consumer(pull::OrderedConfig {
                    filter_subjects: self.js.filter.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|err| {
                    anyhow!(
                        "creating the ephemeral ordered consumer: {}",
                        client_error(&err)
                    )
                })?;
            let messages = consumer
                .messages()
                .await
                .map_err(|err| anyhow!("reading the ordered consumer: {}", client_error(&err)))?;
            return Ok(Source::Ordered(Box::new(messages)));
        }
        let name = &self.js.consumer;
        let consumer = stream
            .get_consumer::<pull::Config>(name)
            .await
            .map_err(|err| anyhow!("getting durable consumer '{name}': {}", error_text(&err)))?;
        Ok(Source::Durable(Box::new(consumer)))
    }

    async fn run(
        self,
        mut session: Session,
        source: Source,
        progress: Progress,
    ) -> anyhow::Result<ClientResult> {
        let mut received = Received::default();
        let mut latencies = Vec::new();
        match source {
            Source::Ordered(messages) => {
                self.drain(messages, &mut received, &progress).await?;
            }
            Source::Durable(consumer) => {
                latencies = self.pull(&consumer, &mut received, &progress).await?;
                // Only fetches are timed.
                if self.plan.kind == Kind::JsConsume {
                    latencies.clear();
                }
            }
        }
        progress.finish(received.count);
        let end = received.last.unwrap_or_else(Instant::now);
        let start = received.first.unwrap_or(end);
        let mut sample = Sample::new(self.count, self.count * self.plan.size as u64, start, end);
        latencies.sort_unstable();
        sample.latencies = latencies;
        sample.conn_msgs = connection_msgs(&session.client);
        let troubled = check_session(&mut session, self.timeout, "receiving").await?;
        Ok(ClientResult { sample, troubled })
    }

    fn consumer_error(&self, doing: &str, err: &impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "{doing} from the consumer '{}': {}",
            self.js.consumer,
            error_text(err)
        )
    }

    /// Reads a continuous stream of messages until this client's count.
    async fn drain<S, E>(
        &self,
        mut messages: S,
        received: &mut Received,
        progress: &Progress,
    ) -> anyhow::Result<()>
    where
        S: Stream<Item = Result<jetstream::Message, E>> + Unpin,
        E: std::fmt::Display,
    {
        while received.count < self.count {
            let Some(message) = messages.next().await else {
                bail!(
                    "the consumer stopped after {} of {} messages",
                    format::number(received.count),
                    format::number(self.count)
                );
            };
            let message = message.map_err(|err| self.consumer_error("receiving", &err))?;
            self.handle(&message, received, progress).await?;
        }
        Ok(())
    }

    /// Pulls batches until this client's count, timing each pull. A pull never
    /// asks for more than the client still expects (natscli's `StopAfter`
    /// for `consume`), so clients sharing the consumer each get their share.
    async fn pull(
        &self,
        consumer: &jetstream::consumer::Consumer<pull::Config>,
        received: &mut Received,
        progress: &Progress,
    ) -> anyhow::Result<Vec<u64>> {
        let doing = if self.plan.kind == Kind::JsFetch {
            "fetching"
        } else {
            "consuming"
        };
        let mut latencies = Vec::new();
        while received.count < self.count {
            let wanted = (self.js.batch as u64).min(self.count - received.count);
            let began = Instant::now();
            let mut batch = consumer
                .batch()
                .max_messages(wanted as usize)
                .expires(self.timeout)
                .messages()
                .await
                .map_err(|err| self.consumer_error(doing, &err))?;
            let mut got = 0;
            while let Some(message) = batch.next().await {
                let message = message.map_err(|err| self.consumer_error(doing, &err))?;
                self.handle(&message, received, progress).await?;
                got += 1;
            }
            if got == 0 {
                bail!(
                    "{doing} from the consumer '{}': no messages within {} ({} of {} received)",
                    self.js.consumer,
                    format::go_duration(self.timeout),
                    format::number(received.count),
                    format::number(self.count)
                );
            }
            latencies.push(began.elapsed().as_nanos() as u64);
        }
        Ok(latencies)
    }

    /// One message: counted, `--sleep`, acknowledged as the consumer asks.
    async fn handle(
        &self,
        message: &jetstream::Message,
        received: &mut Received,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        received.count += 1;
        let now = Instant::now();
        received.first.get_or_insert(now);
        received.last = Some(now);
        if !self.plan.sleep.is_zero() {
            tokio::time::sleep(self.plan.sleep).await;
        }
        if self.js.acks_messages(self.plan.kind) {
            let acked = if self.js.double_ack {
                message.double_ack().await
            } else {
                message.ack().await
            };
            acked.map_err(|err| anyhow!("acknowledging the message: {err}"))?;
        }
        progress.done(received.count);
        Ok(())
    }
}
