//! The JetStream API as the `stream`, `consumer`, `kv`, `object` and
//! `bench js` commands use it: JSON requests to `$JS.API.*`, the server's
//! error replies turned into natscli's one-line form (`stream not found
//! (10059)`), paged name and info listings, and the checks on names that go
//! into API subjects. The shapes of the replies live in `model`, the value
//! formats natscli's JetStream views share in `view`.

pub mod model;
pub mod parse;
pub mod view;

use std::fmt;
use std::time::Duration;

use anyhow::{anyhow, bail};
use async_nats::{Client, RequestErrorKind};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::format::go_duration;
use model::{ConsumerInfo, StreamInfo};

/// The prefix of every JetStream API subject.
pub const API_PREFIX: &str = "$JS.API";

/// An error the JetStream API answered with.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ApiError {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub err_code: u16,
    #[serde(default)]
    pub description: String,
}

/// natscli's form: the description and the error code in parentheses.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.description.is_empty(), self.code) {
            (true, 0) => write!(f, "unknown JetStream Error"),
            (true, code) => write!(f, "unknown JetStream {code} Error ({})", self.err_code),
            (false, _) => write!(f, "{} ({})", self.description, self.err_code),
        }
    }
}

impl std::error::Error for ApiError {}

/// Whether `err` carries an API error the server sent with HTTP-like `code`.
pub fn has_api_code(err: &anyhow::Error, code: u16) -> bool {
    err.downcast_ref::<ApiError>()
        .is_some_and(|api| api.code == code)
}

/// An error of async-nats in natscli's words: when a JetStream API error is
/// somewhere in its chain, that error's description and code; otherwise its
/// own text.
pub fn client_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(api) = current.downcast_ref::<async_nats::jetstream::Error>() {
            let description = api.to_string();
            // async-nats prints "text (code 404, error code 10059)".
            let text = description
                .rsplit_once(" (code ")
                .map(|(text, _)| text.to_string())
                .unwrap_or(description);
            return format!("{text} ({})", api.error_code().0);
        }
        source = current.source();
    }
    // Some async-nats errors carry the API error in their kind, as text.
    let chain = crate::connect::error_chain(err);
    api_error_in_text(&chain).unwrap_or(chain)
}

/// An error known by its text only, in natscli's words where it carries a
/// JetStream API error.
pub fn error_text(err: &impl fmt::Display) -> String {
    let text = err.to_string();
    api_error_in_text(&text).unwrap_or(text)
}

/// `... jetstream error: stream not found (code 404, error code 10059)` →
/// `stream not found (10059)`.
fn api_error_in_text(text: &str) -> Option<String> {
    let (before, after) = text.split_once(" (code ")?;
    let code = after.split_once("error code ")?.1;
    let code: String = code.chars().take_while(char::is_ascii_digit).collect();
    let description = before.rsplit(": ").next()?;
    Some(format!("{description} ({code})"))
}

/// Talks to the JetStream API of one account over one connection.
#[derive(Debug, Clone)]
pub struct Jsm {
    client: Client,
    timeout: Duration,
}

/// One page of a `NAMES` or `LIST` reply.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct Page<T> {
    #[serde(default)]
    total: usize,
    #[serde(default = "Option::default")]
    streams: Option<Vec<T>>,
    #[serde(default = "Option::default")]
    consumers: Option<Vec<T>>,
}

impl Jsm {
    pub fn new(client: &Client, timeout: Duration) -> Jsm {
        Jsm {
            client: client.clone(),
            timeout,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `body` (JSON, or nothing for `None`) to `$JS.API.<api>` and reads
    /// the reply as `T`; an `error` in the reply becomes an [`ApiError`].
    pub async fn request<T: DeserializeOwned>(
        &self,
        api: &str,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<T> {
        let payload = match body {
            Some(body) => Bytes::from(serde_json::to_vec(body)?),
            None => Bytes::new(),
        };
        let subject = format!("{API_PREFIX}.{api}");
        let reply = self
            .client
            .request(subject.clone(), payload)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::NoResponders => {
                    anyhow!("JetStream not enabled: no responders on {subject}")
                }
                RequestErrorKind::TimedOut => anyhow!(
                    "no JetStream reply on {subject} within {} (is JetStream enabled?)",
                    go_duration(self.timeout)
                ),
                _ => anyhow!("requesting {subject}: {err}"),
            })?;
        let value: Value = serde_json::from_slice(&reply.payload)
            .map_err(|err| anyhow!("invalid JSON reply on {subject}: {err}"))?;
        if let Some(error) = value.get("error") {
            let error: ApiError = serde_json::from_value(error.clone())
                .map_err(|err| anyhow!("invalid error reply on {subject}: {err}"))?;
            return Err(error.into());
        }
        serde_json::from_value(value).map_err(|err| anyhow!("invalid reply on {subject}: {err}"))
    }

    /// A request without a body.
    pub async fn ask<T: DeserializeOwned>(&self, api: &str) -> anyhow::Result<T> {
        self.request(api, None::<&Value>).await
    }

    pub async fn stream_info(&self, stream: &str) -> anyhow::Result<StreamInfo> {
        check_name("stream", stream)?;
        self.ask(&format!("STREAM.INFO.{stream}")).await
    }

    pub async fn consumer_info(
        &self,
        stream: &str,
        consumer: &str,
    ) -> anyhow::Result<ConsumerInfo> {
        check_name("stream", stream)?;
        check_name("consumer", consumer)?;
        self.ask(&format!("CONSUMER.INFO.{stream}.{consumer}"))
            .await
    }

    /// Every stream name, in the server's order (optionally only those
    /// listening on `subject`).
    pub async fn stream_names(&self, subject: Option<&str>) -> anyhow::Result<Vec<String>> {
        self.pages("STREAM.NAMES", subject).await
    }

    /// Every stream's info.
    pub async fn stream_list(&self) -> anyhow::Result<Vec<StreamInfo>> {
        self.pages("STREAM.LIST", None).await
    }

    pub async fn consumer_names(&self, stream: &str) -> anyhow::Result<Vec<String>> {
        check_name("stream", stream)?;
        self.pages(&format!("CONSUMER.NAMES.{stream}"), None).await
    }

    pub async fn consumer_list(&self, stream: &str) -> anyhow::Result<Vec<ConsumerInfo>> {
        check_name("stream", stream)?;
        self.pages(&format!("CONSUMER.LIST.{stream}"), None).await
    }

    /// All the items of a paged `NAMES` or `LIST` API.
    async fn pages<T: DeserializeOwned>(
        &self,
        api: &str,
        subject: Option<&str>,
    ) -> anyhow::Result<Vec<T>> {
        let mut all: Vec<T> = Vec::new();
        loop {
            let mut body = serde_json::json!({ "offset": all.len() });
            if let Some(subject) = subject {
                body["subject"] = Value::from(subject);
            }
            let page: Page<T> = self.request(api, Some(&body)).await?;
            let items = page.streams.or(page.consumers).unwrap_or_default();
            if items.is_empty() {
                break;
            }
            all.extend(items);
            if all.len() >= page.total {
                break;
            }
        }
        Ok(all)
    }
}

/// Refuses names that cannot be an API subject token: empty, or with `.`,
/// `*`, `>` or white space.
pub fn check_name(what: &str, name: &str) -> anyhow::Result<()> {
    if name.is_empty() {
        bail!("a {what} name is required");
    }
    if name.contains(['.', '*', '>']) || name.chars().any(char::is_whitespace) {
        bail!("invalid {what} name {name:?}: names may not contain '.', '*', '>' or spaces");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_read_like_natscli() {
        let error = ApiError {
            code: 404,
            err_code: 10059,
            description: "stream not found".into(),
        };
        assert_eq!(error.to_string(), "stream not found (10059)");
        assert_eq!(
            ApiError {
                code: 500,
                ..ApiError::default()
            }
            .to_string(),
            "unknown JetStream 500 Error (0)"
        );
    }

    #[test]
    fn api_errors_inside_client_errors_are_found() {
        assert_eq!(
            api_error_in_text(
                "failed to get the bucket: jetstream error: stream not found (code 404, error code 10059)"
            ),
            Some("stream not found (10059)".to_string())
        );
        assert_eq!(api_error_in_text("timed out"), None);
    }

    #[test]
    fn names_with_subject_tokens_are_refused() {
        assert!(check_name("stream", "ORDERS").is_ok());
        assert!(check_name("stream", "").is_err());
        assert!(check_name("stream", "a.b").is_err());
        assert!(check_name("stream", "a b").is_err());
        assert!(check_name("stream", "a>").is_err());
    }
}
