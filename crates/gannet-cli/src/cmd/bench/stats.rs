//! The numbers a benchmark collects and natscli's report of them: one sample
//! per client (its message count, bytes, start and end, and per-operation
//! latencies), the summary lines `bench` prints and the CSV file of `--csv`.
//! The JetStream benchmarks report in the same layout under their own labels.
//! `bench connect` (not in natscli) reports connections in the same layout,
//! counting connections where the others count messages, without bytes.

use std::fmt::Write as _;
use std::time::Instant;

use crate::format;

/// The kinds of core NATS benchmark, with natscli's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pub,
    Sub,
    Request,
    Reply,
    /// `bench connect`: each operation is a whole connection.
    Connect,
    /// `bench js pub sync`.
    JsPubSync,
    /// `bench js pub async`.
    JsPubAsync,
    /// `bench js ordered`.
    JsOrdered,
    /// `bench js consume`.
    JsConsume,
    /// `bench js fetch`.
    JsFetch,
}

impl Kind {
    /// natscli's label, as in "Starting Core NATS publisher benchmark".
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pub => "Core NATS publisher",
            Kind::Sub => "Core NATS subscriber",
            Kind::Request => "Core NATS service requester",
            Kind::Reply => "Core NATS service server",
            Kind::Connect => "Core NATS connector",
            Kind::JsPubSync => "JetStream synchronous publisher",
            Kind::JsPubAsync => "JetStream asynchronous publisher",
            Kind::JsOrdered => "JetStream ordered ephemeral consumer",
            Kind::JsConsume => "JetStream durable consumer (callback)",
            Kind::JsFetch => "JetStream durable consumer (fetch)",
        }
    }

    /// What one operation is called in the rates: `msgs` or `conns`.
    fn unit(self) -> &'static str {
        match self {
            Kind::Connect => "conns",
            _ => "msgs",
        }
    }

    /// Whether the rates have a bytes-per-second part (not for connections).
    fn has_bytes(self) -> bool {
        self != Kind::Connect
    }

    /// The client id prefix of the CSV rows: P for senders, S for receivers.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Pub | Kind::Request | Kind::JsPubSync | Kind::JsPubAsync => "P",
            Kind::Sub | Kind::JsOrdered | Kind::JsConsume | Kind::JsFetch => "S",
            Kind::Connect => "C",
            Kind::Reply => "?",
        }
    }
}

/// What one client measured.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Messages the client was asked to send or receive.
    pub job_msgs: u64,
    /// Messages in and out on the connection (protocol messages the client
    /// counted, replies included).
    pub conn_msgs: u64,
    /// Payload bytes of the job.
    pub msg_bytes: u64,
    pub start: Instant,
    pub end: Instant,
    /// Per-operation latencies in nanoseconds, sorted.
    pub latencies: Vec<u64>,
}

impl Sample {
    pub fn new(job_msgs: u64, msg_bytes: u64, start: Instant, end: Instant) -> Self {
        Sample {
            job_msgs,
            conn_msgs: 0,
            msg_bytes,
            start,
            end,
            latencies: Vec::new(),
        }
    }

    fn seconds(&self) -> f64 {
        seconds_between(self.start, self.end)
    }

    /// Messages per second, truncated as natscli does.
    pub fn rate(&self) -> i64 {
        (self.job_msgs as f64 / self.seconds()) as i64
    }

    /// Payload bytes per second.
    pub fn throughput(&self) -> f64 {
        self.msg_bytes as f64 / self.seconds()
    }
}

/// At least a nanosecond, so that a one-message run has a finite rate.
fn seconds_between(start: Instant, end: Instant) -> f64 {
    end.saturating_duration_since(start).as_secs_f64().max(1e-9)
}

/// natscli's rate line: `1,234 msgs/sec ~ 154 KiB/sec` (`1,234 conns/sec`
/// for connections), then the latencies when there are any.
fn rate_line(kind: Kind, rate: i64, throughput: f64, latencies: &[u64]) -> String {
    let mut line = format!("{} {}/sec", format::number(rate), kind.unit());
    if kind.has_bytes() {
        let _ = write!(line, " ~ {}/sec", format::bytes(throughput as u64));
    }
    if !latencies.is_empty() {
        let _ = write!(
            line,
            " ~ min: {}us ~ avg: {}us ~ max: {}us ~ P50: {}us ~ P90: {}us ~ P99: {}us ~ P99.9: {}us",
            micros(min_latency(latencies)),
            micros(avg_latency(latencies)),
            micros(max_latency(latencies)),
            micros(percentile(latencies, 50.0)),
            micros(percentile(latencies, 90.0)),
            micros(percentile(latencies, 99.0)),
            micros(percentile(latencies, 99.9)),
        );
    }
    line
}

/// All the samples of one run.
#[derive(Debug)]
pub struct Benchmark {
    pub kind: Kind,
    pub run_id: String,
    /// In client order.
    pub samples: Vec<Sample>,
}

impl Benchmark {
    pub fn new(kind: Kind, samples: Vec<Sample>) -> Self {
        Benchmark {
            kind,
            run_id: nuid::next().to_string(),
            samples,
        }
    }

    fn all_latencies(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self
            .samples
            .iter()
            .flat_map(|s| s.latencies.iter().copied())
            .collect();
        all.sort_unstable();
        all
    }

    fn total_msgs(&self) -> u64 {
        self.samples.iter().map(|s| s.job_msgs).sum()
    }

    fn total_bytes(&self) -> u64 {
        self.samples.iter().map(|s| s.msg_bytes).sum()
    }

    /// From the first client's start to the last client's end, in seconds.
    fn span_seconds(&self) -> f64 {
        let start = self.samples.iter().map(|s| s.start).min();
        let end = self.samples.iter().map(|s| s.end).max();
        match (start, end) {
            (Some(start), Some(end)) => seconds_between(start, end),
            _ => 1e-9,
        }
    }

    fn group_rate(&self) -> i64 {
        (self.total_msgs() as f64 / self.span_seconds()) as i64
    }

    fn group_throughput(&self) -> f64 {
        self.total_bytes() as f64 / self.span_seconds()
    }

    /// The report natscli prints after a run: one stats line for a single
    /// client; per-client lines then the aggregate, rate spread and latency
    /// spread for several.
    pub fn report(&self) -> String {
        if self.samples.is_empty() || self.kind == Kind::Reply {
            return "No publisher or subscribers. Nothing to report.".to_string();
        }
        let label = self.kind.label();
        let latencies = self.all_latencies();
        let mut out = String::new();
        if self.samples.len() == 1 {
            let _ = writeln!(
                out,
                "NATS {label} stats: {}",
                rate_line(
                    self.kind,
                    self.group_rate(),
                    self.group_throughput(),
                    &latencies
                )
            );
            return out;
        }
        let unit = self.kind.unit();
        for (i, sample) in self.samples.iter().enumerate() {
            let _ = writeln!(
                out,
                "  [{}] {} ({} {unit})",
                i + 1,
                rate_line(
                    self.kind,
                    sample.rate(),
                    sample.throughput(),
                    &sample.latencies
                ),
                format::number(sample.job_msgs)
            );
        }
        let _ = write!(
            out,
            "\n NATS {label} aggregated stats: {} {unit}/sec",
            format::number(self.group_rate()),
        );
        if self.kind.has_bytes() {
            let _ = write!(
                out,
                " ~ {}/sec",
                format::bytes(self.group_throughput() as u64)
            );
        }
        out.push('\n');
        let rates: Vec<i64> = self.samples.iter().map(Sample::rate).collect();
        let (min, avg, max, stddev) = rate_spread(&rates);
        let (rates_of, per) = match self.kind {
            Kind::Connect => ("connection", "connection"),
            _ => ("message", "operation"),
        };
        let _ = writeln!(
            out,
            " {rates_of} rates min {} | avg {} | max {} | stddev {} {unit}",
            format::number(min),
            format::number(avg),
            format::number(max),
            format::number(stddev as i64)
        );
        if !latencies.is_empty() {
            let _ = writeln!(
                out,
                " latencies per {per} min {}us | avg {}us | max {}us | stddev {}us | P50 {}us | P90 {}us | P99 {}us | P99.9: {}us",
                micros(min_latency(&latencies)),
                micros(avg_latency(&latencies)),
                micros(max_latency(&latencies)),
                micros(stddev_latency(&latencies)),
                micros(percentile(&latencies, 50.0)),
                micros(percentile(&latencies, 90.0)),
                micros(percentile(&latencies, 99.0)),
                micros(percentile(&latencies, 99.9)),
            );
        }
        out
    }

    /// natscli's CSV: a header row, then one row per client; the latency
    /// columns only when latencies were measured. Connections have their own
    /// count and rate columns and no bytes.
    pub fn csv(&self) -> String {
        let with_latencies = self.samples.iter().any(|s| !s.latencies.is_empty());
        let mut header = if self.kind.has_bytes() {
            vec![
                "#RunID",
                "ClientID",
                "MsgCount",
                "MsgBytes",
                "MsgsPerSec",
                "BytesPerSec",
                "DurationSecs",
            ]
        } else {
            vec![
                "#RunID",
                "ClientID",
                "ConnCount",
                "ConnsPerSec",
                "DurationSecs",
            ]
        };
        if with_latencies {
            header.extend([
                "MinLatencyMicroSecs",
                "AvgLatencyMicroSecs",
                "MaxLatencyMicroSecs",
                "P50LatencyMicroSecs",
                "P90LatencyMicroSecs",
                "P99LatencyMicroSecs",
                "P99.9LatencyMicroSecs",
                "StdDevLatencyMicroSecs",
            ]);
        }
        let mut out = header.join(",");
        out.push('\n');
        for (i, sample) in self.samples.iter().enumerate() {
            let mut row = vec![
                csv_field(&self.run_id),
                format!("{}{i}", self.kind.prefix()),
            ];
            if self.kind.has_bytes() {
                row.extend([
                    sample.conn_msgs.to_string(),
                    sample.msg_bytes.to_string(),
                    sample.rate().to_string(),
                    format!("{:.6}", sample.throughput()),
                ]);
            } else {
                row.extend([sample.job_msgs.to_string(), sample.rate().to_string()]);
            }
            row.push(format!("{:.6}", sample.seconds()));
            if with_latencies {
                let l = &sample.latencies;
                for value in [
                    min_latency(l),
                    avg_latency(l),
                    max_latency(l),
                    percentile(l, 50.0),
                    percentile(l, 90.0),
                    percentile(l, 99.0),
                    percentile(l, 99.9),
                    stddev_latency(l),
                ] {
                    row.push(format!("{value:.6}"));
                }
            }
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

/// Quotes a CSV field the way Go's encoding/csv does when it must.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) || text.starts_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Min, integer average, max and standard deviation of the clients' rates.
fn rate_spread(rates: &[i64]) -> (i64, i64, i64, f64) {
    if rates.is_empty() {
        return (0, 0, 0, 0.0);
    }
    let min = rates.iter().copied().min().unwrap_or(0);
    let max = rates.iter().copied().max().unwrap_or(0);
    let avg = rates.iter().map(|&r| r as i128).sum::<i128>() / rates.len() as i128;
    let avg = avg as i64;
    let variance = rates
        .iter()
        .map(|&r| (r as f64 - avg as f64).powi(2))
        .sum::<f64>()
        / rates.len() as f64;
    (min, avg, max, variance.sqrt())
}

/// Smallest latency in microseconds (latencies sorted).
fn min_latency(latencies: &[u64]) -> f64 {
    latencies.first().map_or(0.0, |&l| l as f64 / 1000.0)
}

fn max_latency(latencies: &[u64]) -> f64 {
    latencies.last().map_or(0.0, |&l| l as f64 / 1000.0)
}

fn avg_latency(latencies: &[u64]) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let sum: u128 = latencies.iter().map(|&l| l as u128).sum();
    sum as f64 / latencies.len() as f64 / 1000.0
}

/// The nearest-rank percentile in microseconds (latencies sorted).
fn percentile(latencies: &[u64], percentile: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let rank = ((percentile / 100.0) * latencies.len() as f64).ceil() as usize;
    let index = rank.saturating_sub(1).min(latencies.len() - 1);
    latencies[index] as f64 / 1000.0
}

/// Standard deviation in microseconds.
fn stddev_latency(latencies: &[u64]) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let avg = avg_latency(latencies);
    let variance = latencies
        .iter()
        .map(|&l| (l as f64 / 1000.0 - avg).powi(2))
        .sum::<f64>()
        / latencies.len() as f64;
    variance.sqrt()
}

/// A float as go-humanize's `CommafWithDigits(v, 2)` prints it: the shortest
/// exact decimal, thousands separated, cut (not rounded) to two decimals.
pub fn micros(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{}", value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text.as_str(), ""),
    };
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.extend(fraction.chars().take(2));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn micros_cut_to_two_decimals_like_humanize() {
        assert_eq!(micros(12.3456), "12.34");
        assert_eq!(micros(12.5), "12.5");
        assert_eq!(micros(12.0), "12");
        assert_eq!(micros(1234567.891), "1,234,567.89");
        assert_eq!(micros(0.0), "0");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let latencies: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&latencies, 50.0), 50.0);
        assert_eq!(percentile(&latencies, 99.9), 100.0);
        assert_eq!(percentile(&[5000], 99.0), 5.0);
    }

    fn sample(msgs: u64, millis: u64, latencies: Vec<u64>) -> Sample {
        let start = Instant::now();
        let mut sample = Sample::new(
            msgs,
            msgs * 128,
            start,
            start + Duration::from_millis(millis),
        );
        sample.latencies = latencies;
        sample
    }

    #[test]
    fn single_client_report_is_one_line() {
        let bench = Benchmark::new(Kind::Sub, vec![sample(1000, 500, vec![])]);
        assert_eq!(
            bench.report(),
            "NATS Core NATS subscriber stats: 2,000 msgs/sec ~ 250 KiB/sec\n"
        );
    }

    #[test]
    fn several_clients_report_each_then_the_aggregate() {
        let bench = Benchmark::new(
            Kind::Pub,
            vec![
                sample(1000, 1000, vec![1000, 2000]),
                sample(1000, 500, vec![3000]),
            ],
        );
        let report = bench.report();
        let lines: Vec<&str> = report.lines().collect();
        assert!(lines[0].starts_with("  [1] 1,000 msgs/sec ~ 125 KiB/sec ~ min: 1us ~ avg: 1.5us"));
        assert!(lines[1].ends_with("(1,000 msgs)"));
        assert_eq!(lines[2], "");
        assert_eq!(
            lines[3],
            " NATS Core NATS publisher aggregated stats: 2,000 msgs/sec ~ 250 KiB/sec"
        );
        assert_eq!(
            lines[4],
            " message rates min 1,000 | avg 1,500 | max 2,000 | stddev 500 msgs"
        );
        assert!(lines[5].starts_with(" latencies per operation min 1us | avg 2us | max 3us"));
    }

    #[test]
    fn connections_are_counted_without_bytes() {
        let mut one = sample(100, 500, vec![1000, 3000]);
        one.msg_bytes = 0;
        let bench = Benchmark::new(Kind::Connect, vec![one.clone()]);
        assert!(
            bench
                .report()
                .starts_with("NATS Core NATS connector stats: 200 conns/sec ~ min: 1us ~ avg: 2us"),
            "{}",
            bench.report()
        );
        let bench = Benchmark::new(Kind::Connect, vec![one.clone(), one]);
        let report = bench.report();
        let lines: Vec<&str> = report.lines().collect();
        assert!(lines[0].ends_with("(100 conns)"), "{report}");
        assert_eq!(
            lines[3],
            " NATS Core NATS connector aggregated stats: 400 conns/sec"
        );
        assert_eq!(
            lines[4],
            " connection rates min 200 | avg 200 | max 200 | stddev 0 conns"
        );
        assert!(lines[5].starts_with(" latencies per connection min 1us"));
        let csv = bench.csv();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[0].starts_with(
            "#RunID,ClientID,ConnCount,ConnsPerSec,DurationSecs,MinLatencyMicroSecs,"
        ));
        assert!(
            rows[1].contains(",C0,100,200,0.500000,1.000000,"),
            "{}",
            rows[1]
        );
    }

    #[test]
    fn csv_has_the_header_and_one_row_per_client() {
        let bench = Benchmark::new(Kind::Sub, vec![sample(10, 1000, vec![])]);
        let csv = bench.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs"
        );
        assert!(
            lines[1].contains(",S0,0,1280,10,1280.000000,1.000000"),
            "{}",
            lines[1]
        );
    }
}
