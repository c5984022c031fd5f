//! Asking the system account's `$SYS.REQ` services and gathering the replies
//! of every server, the way natscli's `DoReqAsync` does: one request to a
//! fresh inbox, then replies until the expected count, the timeout, or (when no
//! count is known) a short quiet spell after the last reply. The reports read
//! each reply's data with `decode_data` and keep the replies as received for
//! `--json` (`gather_answers`).

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::session::{Notice, Session};

use super::json::Json;
use super::model::{ApiResponse, ServerInfo, ServerStatsMsg};

/// natscli's words when the server answers "no responders" for `$SYS`.
pub const NEED_SYSTEM: &str = "server request failed, ensure the account used has system privileges and appropriate permissions";
/// natscli's words when nothing answered at all.
pub const NO_RESULTS: &str =
    "no results received, ensure the account used has system privileges and appropriate permissions";

/// How long to keep gathering after a reply when the number of servers is
/// not known (natscli: 300ms).
pub const QUIET_SPELL: Duration = Duration::from_millis(300);

/// When to stop gathering replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Until the timeout.
    Timeout,
    /// Until no reply came for [`QUIET_SPELL`] after the last one (or the
    /// timeout, for the first).
    Quiet,
    /// Until this many replies (or the timeout).
    Count(usize),
}

impl Wait {
    /// natscli's meaning of a wanted count: 0 = adaptive.
    pub fn from_count(count: usize) -> Wait {
        if count == 0 {
            Wait::Quiet
        } else {
            Wait::Count(count)
        }
    }
}

/// One reply and how long after the request it came.
pub struct Reply {
    pub payload: Bytes,
    pub elapsed: Duration,
}

/// Sends `body` to `subject` and hands each reply to `each` until `wait` says
/// stop or `each` breaks. Returns how many replies came. A "no responders"
/// answer fails with `no_responders`; a server `-ERR` (a permissions
/// violation, say) fails with its text.
pub async fn gather<F>(
    session: &mut Session,
    subject: &str,
    body: Vec<u8>,
    wait: Wait,
    timeout: Duration,
    no_responders: &str,
    mut each: F,
) -> anyhow::Result<usize>
where
    F: FnMut(Reply) -> anyhow::Result<ControlFlow<()>>,
{
    let client = session.client.clone();
    let inbox = client.new_inbox();
    let mut replies = client
        .subscribe(inbox.clone())
        .await
        .with_context(|| format!("cannot subscribe to the reply inbox {inbox}"))?;
    let started = Instant::now();
    client
        .publish_with_reply(subject.to_string(), inbox, Bytes::from(body))
        .await
        .with_context(|| format!("cannot publish the request to {subject}"))?;
    client
        .flush()
        .await
        .with_context(|| format!("cannot send the request to {subject}"))?;

    let deadline = tokio::time::Instant::from_std(started + timeout);
    let mut quiet_until: Option<tokio::time::Instant> = None;
    let mut count = 0usize;
    let mut notices_open = true;
    let result = loop {
        let finish = quiet_until.unwrap_or(deadline).min(deadline);
        tokio::select! {
            message = replies.next() => {
                let Some(message) = message else { break Ok(()) };
                if message.status == Some(async_nats::StatusCode::NO_RESPONDERS) {
                    break Err(anyhow!("{no_responders}"));
                }
                if let Some(status) = message.status {
                    if !status.is_success() {
                        let description = message.description.clone().unwrap_or_default();
                        break Err(anyhow!("{subject} answered status {status} {description}"));
                    }
                }
                count += 1;
                if wait == Wait::Quiet {
                    quiet_until = Some(tokio::time::Instant::now() + QUIET_SPELL);
                }
                let reply = Reply { payload: message.payload, elapsed: started.elapsed() };
                match each(reply) {
                    Ok(ControlFlow::Break(())) => break Ok(()),
                    Ok(ControlFlow::Continue(())) => {}
                    Err(err) => break Err(err),
                }
                if let Wait::Count(wanted) = wait {
                    if count >= wanted {
                        break Ok(());
                    }
                }
            }
            notice = session.next_notice(), if notices_open => match notice {
                Some(Notice::ServerError(text)) => break Err(anyhow!("{text}")),
                Some(_) => {}
                None => notices_open = false,
            },
            _ = tokio::time::sleep_until(finish) => break Ok(()),
        }
    };
    let _ = replies.unsubscribe().await;
    result.map(|()| count)
}

/// The replies a report gathered: each decoded, and each as received (what
/// `--json` prints).
pub struct Answers<A> {
    pub decoded: Vec<A>,
    pub raw: Vec<Json>,
}

impl<A> Answers<A> {
    /// The replies as received, as an indented JSON array.
    pub fn json(&self) -> String {
        Json::Array(self.raw.clone()).pretty()
    }
}

/// Gathers like [`gather`], reading each reply with `read` and keeping it
/// as received too, until `wait` says stop or `done` says the reply just
/// decoded was the last one needed. Fails when no server answered.
pub async fn gather_answers<A>(
    session: &mut Session,
    subject: &str,
    body: Vec<u8>,
    wait: Wait,
    timeout: Duration,
    read: impl Fn(&[u8]) -> anyhow::Result<A>,
    mut done: impl FnMut(&A) -> bool,
) -> anyhow::Result<Answers<A>> {
    let mut answers = Answers {
        decoded: Vec::new(),
        raw: Vec::new(),
    };
    gather(
        session,
        subject,
        body,
        wait,
        timeout,
        NEED_SYSTEM,
        |reply| {
            let answer = read(&reply.payload)?;
            answers.raw.push(decode::<Json>(subject, &reply.payload)?);
            let last = done(&answer);
            answers.decoded.push(answer);
            Ok(if last {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        },
    )
    .await?;
    if answers.decoded.is_empty() {
        bail!("did not get results from any servers");
    }
    Ok(answers)
}

/// Gathers every reply into a list.
pub async fn gather_all(
    session: &mut Session,
    subject: &str,
    body: Vec<u8>,
    wait: Wait,
    timeout: Duration,
) -> anyhow::Result<Vec<Reply>> {
    let mut all = Vec::new();
    gather(
        session,
        subject,
        body,
        wait,
        timeout,
        NEED_SYSTEM,
        |reply| {
            all.push(reply);
            Ok(ControlFlow::Continue(()))
        },
    )
    .await?;
    Ok(all)
}

/// How many servers the connected one knows of (natscli's
/// `CurrentActiveServers`): `active_servers` of the first PING reply.
pub async fn active_servers(session: &mut Session, timeout: Duration) -> anyhow::Result<usize> {
    let replies = gather_all(
        session,
        "$SYS.REQ.SERVER.PING",
        Vec::new(),
        Wait::Count(1),
        timeout,
    )
    .await?;
    let Some(reply) = replies.first() else {
        return Ok(0);
    };
    let stats: ServerStatsMsg = serde_json::from_slice(&reply.payload)
        .map_err(|err| anyhow!("invalid $SYS.REQ.SERVER.PING reply: {err}"))?;
    Ok(usize::try_from(stats.statsz.active_servers).unwrap_or(0))
}

/// When a report that follows the servers' links (routes, gateways) may stop
/// gathering: `expected` replies (the count the connected server reports),
/// and one from every server a link of an answer leads to. So a server that
/// under-reports the count still yields every linked server, and against one
/// that reports it right this stops at the same reply as the count does.
#[derive(Debug)]
pub struct Mesh {
    pub expected: usize,
    answered: BTreeSet<String>,
    listed: BTreeSet<String>,
}

impl Mesh {
    pub fn new(expected: usize) -> Mesh {
        Mesh {
            expected,
            answered: BTreeSet::new(),
            listed: BTreeSet::new(),
        }
    }

    /// Counts the answer of server `id`, linked to the servers `peers` (by
    /// id); returns whether that was the last one needed.
    pub fn add<'a>(&mut self, id: &str, peers: impl IntoIterator<Item = &'a str>) -> bool {
        self.answered.insert(id.to_string());
        self.listed.extend(
            peers
                .into_iter()
                .filter(|peer| !peer.is_empty())
                .map(str::to_string),
        );
        self.answered.len() >= self.expected && self.listed.is_subset(&self.answered)
    }
}

/// The server filters every `$SYS.REQ.SERVER` service accepts (natscli's
/// `EventFilterOptions`, always with exact matching).
#[derive(Debug, Clone, Default)]
pub struct ServerFilter {
    pub name: Option<String>,
    pub host: Option<String>,
    pub cluster: Option<String>,
    pub tags: Vec<String>,
}

impl ServerFilter {
    /// Whether no filter is set (every server answers).
    pub fn is_empty(&self) -> bool {
        let unset = |value: &Option<String>| value.as_deref().is_none_or(str::is_empty);
        unset(&self.name) && unset(&self.host) && unset(&self.cluster) && self.tags.is_empty()
    }

    /// Adds the filter keys to a request body.
    pub fn apply(&self, body: &mut Map<String, Value>) {
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                body.insert(key.to_string(), Value::from(value.clone()));
            }
        };
        put("server_name", &self.name);
        put("host", &self.host);
        put("cluster", &self.cluster);
        if !self.tags.is_empty() {
            body.insert("tags".to_string(), Value::from(self.tags.clone()));
        }
        body.insert("exact_match".to_string(), Value::Bool(true));
    }
}

/// A request body: the options, then the filter.
pub fn request_body(options: Map<String, Value>, filter: &ServerFilter) -> Vec<u8> {
    let mut body = options;
    filter.apply(&mut body);
    serde_json::to_vec(&Value::Object(body)).unwrap_or_else(|_| b"{}".to_vec())
}

/// Reads one reply as `T`, naming the subject when it is not JSON of that shape.
pub fn decode<T: serde::de::DeserializeOwned>(subject: &str, payload: &[u8]) -> anyhow::Result<T> {
    serde_json::from_slice(payload).map_err(|err| {
        anyhow!(
            "invalid reply to {subject}: {err} (body: {})",
            String::from_utf8_lossy(&payload[..payload.len().min(200)])
        )
    })
}

/// Reads one `{"server","data","error"}` reply of a `$SYS.REQ.SERVER`
/// service: the answering server and its data, or the error it sent.
pub fn decode_data<T>(subject: &str, payload: &[u8]) -> anyhow::Result<(ServerInfo, T)>
where
    T: Default + serde::de::DeserializeOwned,
{
    let response: ApiResponse<T> = decode(subject, payload)?;
    if let Some(error) = &response.error {
        bail!("invalid response received: {error}");
    }
    let Some(data) = response.data else {
        bail!("no data received in response");
    };
    Ok((response.server, data))
}

/// How many servers a gathering command waits for: natscli takes it as an
/// argument or as `-n/--expect`; 0 means "as many as the first reply reports"
/// (ping) or "until replies stop" (list).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExpectServers {
    /// How many servers to expect (stops waiting once they all answered)
    #[arg(value_name = "EXPECT")]
    expect: Option<u32>,
    /// How many servers to expect, as a flag
    #[arg(
        short = 'n',
        long = "expect",
        value_name = "N",
        conflicts_with = "expect"
    )]
    expect_flag: Option<u32>,
}

impl ExpectServers {
    pub fn count(&self) -> usize {
        self.expect.or(self.expect_flag).unwrap_or(0) as usize
    }
}
