//! `stream get STREAM SEQ` and `stream get STREAM --last-for SUBJECT`: one
//! stored message through `STREAM.MSG.GET`, printed as natscli prints it (the
//! `Item:` line, headers, then the body).

use anyhow::{anyhow, bail};
use clap::Args;

use crate::connect::Connector;
use crate::format::humanize_duration;
use crate::jsm::model::MsgGetResponse;
use crate::jsm::view::{base64_decode, go_time_string, header_block, parse_time, since};
use crate::jsm::{check_name, Jsm};

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Message Sequence to retrieve
    #[arg(value_name = "SEQ")]
    seq: Option<u64>,
    /// Retrieves the last message for a specific subject
    #[arg(
        short = 'S',
        long = "last-for",
        value_name = "SUBJECT",
        conflicts_with = "seq"
    )]
    last_for: Option<String>,
}

pub async fn run(args: GetArgs, connector: &Connector) -> anyhow::Result<()> {
    check_name("stream", &args.stream)?;
    let body = match (args.seq, &args.last_for) {
        (Some(seq), _) => serde_json::json!({ "seq": seq }),
        (None, Some(subject)) => serde_json::json!({ "last_by_subj": subject }),
        (None, None) => bail!("no ID or subject specified (give a sequence or --last-for SUBJECT)"),
    };
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let what = match args.seq {
        Some(seq) => format!("{}#{seq}", args.stream),
        None => format!("{}#-1", args.stream),
    };
    let reply: MsgGetResponse = jsm
        .request(&format!("STREAM.MSG.GET.{}", args.stream), Some(&body))
        .await
        .map_err(|err| err.context(format!("could not retrieve {what}")))?;
    let message = reply.message;
    let data = decode(message.data.as_deref())?;
    let headers = decode(message.hdrs.as_deref())?;
    let ago = parse_time(&message.time)
        .map(|time| humanize_duration(since(time)))
        .unwrap_or_default();
    let mut out = format!(
        "Item: {}#{} received {} ({ago}) on Subject {}\n\n",
        args.stream,
        message.seq,
        go_time_string(&message.time),
        message.subject
    );
    let headers = header_block(&headers);
    if !headers.is_empty() {
        out.push_str("Headers:\n");
        for (key, value) in headers {
            out.push_str(&format!("  {key}: {value}\n"));
        }
        out.push('\n');
    }
    out.push_str(&body_block(&data));
    crate::cmd::output::write_stdout(out.as_bytes())
}

fn decode(field: Option<&str>) -> anyhow::Result<Vec<u8>> {
    match field {
        Some(text) => base64_decode(text).ok_or_else(|| anyhow!("the server sent invalid base64")),
        None => Ok(Vec::new()),
    }
}

/// natscli's `outPutMSGBody`: the body (or `nil body`) on its own line, then
/// a blank line, and one more when the body did not end in a newline.
pub fn body_block(data: &[u8]) -> String {
    let mut out = String::new();
    let text = if data.is_empty() {
        "nil body".to_string()
    } else {
        String::from_utf8_lossy(data).into_owned()
    };
    out.push_str(&text);
    let ends_in_newline = !data.is_empty() && text.ends_with('\n');
    if !ends_in_newline {
        out.push('\n');
    }
    out.push('\n');
    if !ends_in_newline {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_end_like_natscli() {
        assert_eq!(body_block(b"hello"), "hello\n\n\n");
        assert_eq!(body_block(b"hello\n"), "hello\n\n");
        assert_eq!(body_block(b""), "nil body\n\n\n");
    }
}
