//! Log lines in the reference's layout: `[pid] 2026/11/21 07:22:44.123456 [INF] text`
//! (no timestamp with `-T=false`), or with `log_format: json` one JSON object per
//! line (`timestamp`, `level`, `message`, `target` and the event's fields), to stderr
//! or to the `-l` file. `-D` adds debug lines, `-V` protocol traces. A reload
//! may change each of these.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{Local, Utc};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::{Format, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq)]
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

/// The line layout in force: the reference's, or JSON (with or without a
/// timestamp). A reload may switch it.
struct Layout {
    style: Arc<RwLock<LogStyle>>,
    json: Format<Json>,
    json_without_time: Format<Json, ()>,
}

impl<S, N> FormatEvent<S, N> for Layout
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
        let style = *self.style.read().unwrap_or_else(|e| e.into_inner());
        match (style.json, style.time) {
            (true, true) => self.json.format_event(ctx, writer, event),
            (true, false) => self.json_without_time.format_event(ctx, writer, event),
            (false, _) => {
                writer.write_str(&style.prefix(tag(event.metadata().level())))?;
                ctx.field_format().format_fields(writer.by_ref(), event)?;
                writeln!(writer)
            }
        }
    }
}

/// Where lines go: stderr or the log file, replaced on reload.
#[derive(Clone)]
struct Target(Arc<Mutex<Option<File>>>);

impl Write for &Target {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(file) => file.write(buf),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(file) => file.flush(),
            None => std::io::stderr().flush(),
        }
    }
}

impl<'a> MakeWriter<'a> for Target {
    type Writer = &'a Target;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

/// The installed logger's settings, which a reload changes.
pub struct Logger {
    level: reload::Handle<LevelFilter, Registry>,
    target: Target,
    style: Arc<RwLock<LogStyle>>,
}

/// What the logger is set to: layout, level and destination.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    pub style: LogStyle,
    pub debug: bool,
    pub trace: bool,
    pub file: Option<PathBuf>,
}

impl LogSettings {
    pub fn of(opts: &gannet_config::Options) -> LogSettings {
        LogSettings {
            style: LogStyle {
                time: opts.logtime,
                utc: opts.logtime_utc,
                json: opts.log_format == gannet_config::LogFormat::Json,
            },
            debug: opts.debug,
            trace: opts.trace,
            file: opts.log_file.clone(),
        }
    }

    fn level(&self) -> LevelFilter {
        if self.trace {
            LevelFilter::TRACE
        } else if self.debug {
            LevelFilter::DEBUG
        } else {
            LevelFilter::INFO
        }
    }
}

fn open(file: Option<&Path>) -> std::io::Result<Option<File>> {
    file.map(|path| OpenOptions::new().create(true).append(true).open(path))
        .transpose()
}

/// Installs the global logger. Returns an error when the log file cannot be opened.
pub fn init(settings: &LogSettings) -> std::io::Result<Logger> {
    let target = Target(Arc::new(Mutex::new(open(settings.file.as_deref())?)));
    let style = Arc::new(RwLock::new(settings.style));
    // JSON timestamps in UTC, RFC 3339.
    let json = tracing_subscriber::fmt::format()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false);
    let layout = Layout {
        style: style.clone(),
        json: json.clone(),
        json_without_time: json.without_time(),
    };
    let (level, handle) = reload::Layer::new(settings.level());
    let lines = tracing_subscriber::fmt::layer()
        .event_format(layout)
        .with_writer(target.clone());
    tracing_subscriber::registry()
        .with(level)
        .with(lines)
        .init();
    Ok(Logger {
        level: handle,
        target,
        style,
    })
}

impl Logger {
    /// Whether `new`'s log file can be opened.
    pub fn check(&self, new: &LogSettings) -> std::io::Result<()> {
        open(new.file.as_deref()).map(|_| ())
    }

    /// Puts reloaded settings in force. Nothing changes when the new log
    /// file cannot be opened.
    pub fn apply(&self, old: &LogSettings, new: &LogSettings) -> std::io::Result<()> {
        if old.file != new.file {
            let file = open(new.file.as_deref())?;
            *self.target.0.lock().unwrap_or_else(|e| e.into_inner()) = file;
        }
        *self.style.write().unwrap_or_else(|e| e.into_inner()) = new.style;
        if old.level() != new.level() {
            self.level
                .modify(|level| *level = new.level())
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }
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
