//! Log lines in the reference's layout: `[pid] 2026/11/21 07:22:44.123456 [INF] text`
//! (no timestamp with `-T=false`), or with `log_format: json` one JSON object per
//! line (`timestamp`, `level`, `message`, `target` and the event's fields), to stderr
//! or to the `-l` file. `-D` adds debug lines, `-V` protocol traces.
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use chrono::{Local, Utc};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines look.
#[derive(Debug, Clone, Copy)]
pub struct LogStyle {
    pub time: bool,
    pub utc: bool,
    /// One JSON object per line.
    pub json: bool,
}

impl LogStyle {
    /// The line prefix for `level`: pid, optional time, and the level tag.
    pub fn prefix(&self, tag: &str) -> String {
        let pid = std::process::id();
        if !self.time {
            return format!("[{pid}] [{tag}] ");
        }
        let fmt = "%Y/%m/%d %H:%M:%S%.6f";
        let now = if self.utc {
            Utc::now().format(fmt).to_string()
        } else {
            Local::now().format(fmt).to_string()
        };
        format!("[{pid}] {now} [{tag}] ")
    }
}

fn tag(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERR",
        Level::WARN => "WRN",
        Level::INFO => "INF",
        Level::DEBUG => "DBG",
        Level::TRACE => "TRC",
    }
}

struct NatsFormat(LogStyle);

impl<S, N> FormatEvent<S, N> for NatsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        writer.write_str(&self.0.prefix(tag(event.metadata().level())))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the global logger. Returns an error when the log file cannot be opened.
pub fn init(style: LogStyle, debug: bool, trace: bool, file: Option<&Path>) -> std::io::Result<()> {
    let level = if trace {
        Level::TRACE
    } else if debug {
        Level::DEBUG
    } else {
        Level::INFO
    };
    let writer = match file {
        Some(path) => {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            BoxMakeWriter::new(Mutex::new(file))
        }
        None => BoxMakeWriter::new(std::io::stderr),
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(writer);
    if style.json {
        // Timestamps in UTC, RFC 3339.
        let json = builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false);
        if style.time {
            json.init();
        } else {
            json.without_time().init();
        }
    } else {
        builder.event_format(NatsFormat(style)).init();
    }
    Ok(())
}

/// Writes a fatal line (`[FTL]`, or level `FATAL` in JSON) to stderr, for errors
/// that stop the server.
pub fn fatal(style: LogStyle, message: &str) {
    let line = if style.json {
        let mut object = serde_json::Map::new();
        if style.time {
            let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            object.insert("timestamp".into(), now.into());
        }
        object.insert("level".into(), "FATAL".into());
        object.insert("message".into(), message.into());
        serde_json::Value::Object(object).to_string()
    } else {
        format!("{}{message}", style.prefix("FTL"))
    };
    let _ = writeln!(std::io::stderr(), "{line}");
}
