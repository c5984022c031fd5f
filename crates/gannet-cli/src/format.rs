//! Value formatting shared by the commands, as natscli prints values: numbers
//! with thousands separators, sizes in IEC units (`1.5 KiB`), durations the way
//! Go prints them (`1.234ms`), and natscli's `columns` layout of labelled
//! values under a heading.

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

/// A float with thousands separators and `decimals` places: `12,345.67`.
pub fn float(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text.as_str(), None),
    };
    let mut out = number(whole.parse::<i128>().unwrap_or(0));
    if value < 0.0 {
        out.insert(0, '-');
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
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

/// Rounds a duration to a readable precision for tables (`1.23ms`).
pub fn round_duration(duration: Duration) -> Duration {
    let nanos = duration.as_nanos();
    let step = match nanos {
        0..=999 => 1,
        1_000..=999_999 => 10,
        1_000_000..=999_999_999 => 10_000,
        _ => 10_000_000,
    };
    Duration::from_nanos(((nanos / step) * step) as u64)
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
        assert_eq!(float(12345.678, 2), "12,345.68");
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
    fn columns_align_labels_on_their_colons() {
        let mut columns = Columns::new("Heading");
        columns.row("Name", "n1").row("Server URLs", "nats://x");
        assert_eq!(
            columns.render(),
            "Heading\n\n         Name: n1\n  Server URLs: nats://x\n"
        );
    }
}
