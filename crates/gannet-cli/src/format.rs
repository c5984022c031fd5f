//! Value formatting shared by the commands, as natscli prints values: numbers
//! with thousands separators, sizes in IEC units (`1.5 KiB`), durations the way
//! Go prints them (`1.234ms`) and the way natscli humanizes them (`5.23s`,
//! `1h2m3s`), and natscli's `columns` layout of labelled values under a heading.

use std::fmt::Write as _;
use std::time::Duration;

/// `1234567` → `1,234,567`.
pub fn number(value: impl Into<i128>) -> String {
    let value = value.into();
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Bytes in IEC units the way go-humanize's `IBytes` prints them: `512 B`,
/// `1.5 KiB`, `12 MiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if value < 10 {
        return format!("{value} B");
    }
    let exponent = ((value as f64).ln() / 1024f64.ln()).floor() as usize;
    let exponent = exponent.min(UNITS.len() - 1);
    let scaled = value as f64 / 1024f64.powi(exponent as i32);
    let scaled = (scaled * 10.0 + 0.5).floor() / 10.0;
    if exponent == 0 || scaled >= 10.0 {
        format!("{scaled:.0} {}", UNITS[exponent])
    } else {
        format!("{scaled:.1} {}", UNITS[exponent])
    }
}

/// A duration as Go's `time.Duration.String()` prints it: `1.5s`, `1m30s`,
/// `250ms`, `12.345µs`.
pub fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", trim_fraction(nanos, 1_000));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim_fraction(nanos, 1_000_000));
    }
    let mut out = String::new();
    let total_seconds = nanos / 1_000_000_000;
    let hours = total_seconds / 3600;
    let minutes = (total_seconds % 3600) / 60;
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let seconds_nanos = nanos % 60_000_000_000;
    let _ = write!(out, "{}s", trim_fraction(seconds_nanos, 1_000_000_000));
    out
}

/// `value / unit` with the fraction's trailing zeros removed.
fn trim_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let fraction = value % unit;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let fraction = format!("{fraction:0width$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// natscli's `HumanizeDuration`: microseconds below 1ms, milliseconds below
/// 1s, `5.23s` below a minute, then `1m2s`, `1h2m3s`, `1d2h3m4s`, `1y2d...`.
pub fn humanize_duration(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        return go_duration(go_round(duration, Duration::from_micros(1)));
    }
    if duration < Duration::from_secs(1) {
        return go_duration(go_round(duration, Duration::from_millis(1)));
    }
    let seconds = duration.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    if years > 0 {
        format!(
            "{years}y{}d{}h{}m{}s",
            days % 365,
            hours % 24,
            minutes % 60,
            seconds % 60
        )
    } else if days > 0 {
        format!("{days}d{}h{}m{}s", hours % 24, minutes % 60, seconds % 60)
    } else if hours > 0 {
        format!("{hours}h{}m{}s", minutes % 60, seconds % 60)
    } else if minutes > 0 {
        format!("{minutes}m{}s", seconds % 60)
    } else {
        format!("{:.2}s", duration.as_secs_f64())
    }
}

/// Go's `Duration.Round`: to the nearest multiple of `unit`, halves away from zero.
pub fn go_round(duration: Duration, unit: Duration) -> Duration {
    let unit = unit.as_nanos();
    if unit == 0 {
        return duration;
    }
    let nanos = duration.as_nanos();
    let rest = nanos % unit;
    let down = nanos - rest;
    let rounded = if rest + rest < unit {
        down
    } else {
        down + unit
    };
    Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX))
}

/// natscli's `columns` layout: a heading, a blank line, then one labelled value
/// per line with the labels right-aligned on their colons, and section titles.
#[derive(Debug, Default)]
pub struct Columns {
    heading: String,
    rows: Vec<ColumnRow>,
}

#[derive(Debug)]
enum ColumnRow {
    Value(String, String),
    Title(String),
}

impl Columns {
    pub fn new(heading: impl Into<String>) -> Self {
        Columns {
            heading: heading.into(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, label: &str, value: impl std::fmt::Display) -> &mut Self {
        self.rows
            .push(ColumnRow::Value(label.to_string(), value.to_string()));
        self
    }

    pub fn row_if_not_empty(&mut self, label: &str, value: &str) -> &mut Self {
        if !value.is_empty() {
            self.row(label, value);
        }
        self
    }

    pub fn title(&mut self, title: impl Into<String>) -> &mut Self {
        self.rows.push(ColumnRow::Title(title.into()));
        self
    }

    pub fn render(&self) -> String {
        let longest = self
            .rows
            .iter()
            .filter_map(|row| match row {
                ColumnRow::Value(label, _) => Some(label.chars().count()),
                ColumnRow::Title(_) => None,
            })
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        if !self.heading.is_empty() {
            let _ = writeln!(out, "{}\n", self.heading);
        }
        let mut previous_was_title = false;
        for (i, row) in self.rows.iter().enumerate() {
            match row {
                ColumnRow::Title(title) => {
                    if i != 0 && !previous_was_title {
                        out.push('\n');
                    }
                    let _ = writeln!(out, "{title}:\n");
                    previous_was_title = true;
                }
                ColumnRow::Value(label, value) => {
                    let padding = longest - label.chars().count() + 2;
                    if label.is_empty() {
                        let _ = writeln!(out, "{} {value}", " ".repeat(padding + 1));
                    } else {
                        let _ = writeln!(out, "{}{label}: {value}", " ".repeat(padding));
                    }
                    previous_was_title = false;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_thousands_separators() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(1234567), "1,234,567");
        assert_eq!(number(-1234), "-1,234");
    }

    #[test]
    fn bytes_use_iec_units_like_go_humanize() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(16 * 1024 * 1024), "16 MiB");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_micros(250)), "250µs");
        assert_eq!(go_duration(Duration::from_nanos(1_234_567)), "1.234567ms");
        assert_eq!(go_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn durations_humanize_like_natscli() {
        assert_eq!(humanize_duration(Duration::from_nanos(253_400)), "253µs");
        assert_eq!(humanize_duration(Duration::from_micros(2_600)), "3ms");
        assert_eq!(humanize_duration(Duration::from_millis(5_234)), "5.23s");
        assert_eq!(humanize_duration(Duration::from_secs(63)), "1m3s");
        assert_eq!(humanize_duration(Duration::from_secs(3_723)), "1h2m3s");
        assert_eq!(humanize_duration(Duration::from_secs(90_061)), "1d1h1m1s");
        assert_eq!(humanize_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn go_rounding_halves_away_from_zero() {
        assert_eq!(
            go_round(Duration::from_micros(1_500), Duration::from_millis(1)),
            Duration::from_millis(2)
        );
        assert_eq!(
            go_round(Duration::from_micros(1_499), Duration::from_millis(1)),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn columns_align_labels_on_their_colons() {
        let mut columns = Columns::new("Heading");
        columns.row("Name", "n1").row("Server URLs", "nats://x");
        assert_eq!(
            columns.render(),
            "Heading\n\n         Name: n1\n  Server URLs: nats://x\n"
        );
    }
}
