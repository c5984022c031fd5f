//! Go-style durations (`1h30m`, `500ms`, `-1.5s`): the syntax nats-server
//! accepts for every duration option, and the way it prints them back in
//! messages (`1m0s`). Own implementation of the documented Go format.
use std::time::Duration;

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Why a duration did not parse. The texts are Go's, since nats-server
/// passes them through (`time: invalid duration "abc"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("time: unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" => 60 * NANOS_PER_SEC,
        "h" => 3600 * NANOS_PER_SEC,
        _ => return None,
    })
}

/// Parses a Go duration into signed nanoseconds (Go's range: ±2^63 ns, about 292 years).
pub fn parse_go_duration(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(text.to_string()));
        }
        let scale = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_string(),
            text: text.to_string(),
        })?;
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut part = whole.checked_mul(scale).ok_or_else(invalid)?;
        // The fraction contributes digit by digit; digits beyond nanosecond
        // precision are dropped as Go does.
        let mut place = scale;
        for d in frac_part.bytes() {
            place /= 10;
            if place == 0 {
                break;
            }
            part += u128::from(d - b'0') * place;
        }
        total = total.checked_add(part).ok_or_else(invalid)?;
        if total > i64::MAX as u128 + u128::from(negative) {
            return Err(invalid());
        }
        rest = after;
    }
    let signed = if negative {
        -(total as i128)
    } else {
        total as i128
    };
    i64::try_from(signed).map_err(|_| invalid())
}

/// Signed nanoseconds as a non-negative [`Duration`], or `None` if negative.
pub fn nanos_to_duration(nanos: i64) -> Option<Duration> {
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

/// Prints a duration the way Go does (`0s`, `1.5s`, `1m0s`, `2h0m0s`, `500ms`, `1.5µs`).
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < NANOS_PER_SEC {
        let (scale, unit) = if nanos < NANOS_PER_MICRO {
            (1, "ns")
        } else if nanos < NANOS_PER_MILLI {
            (NANOS_PER_MICRO, "\u{b5}s")
        } else {
            (NANOS_PER_MILLI, "ms")
        };
        return format!("{}{unit}", decimal(nanos, scale));
    }
    let hours = nanos / (3600 * NANOS_PER_SEC);
    let minutes = nanos / (60 * NANOS_PER_SEC) % 60;
    let secs = decimal(nanos % (60 * NANOS_PER_SEC), NANOS_PER_SEC);
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs}s")
    } else {
        format!("{secs}s")
    }
}

/// `value / scale` with the fraction written out and trailing zeros trimmed.
fn decimal(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let s = 1_000_000_000;
        assert_eq!(parse_go_duration("5s"), Ok(5 * s));
        assert_eq!(parse_go_duration("500ms"), Ok(s / 2));
        assert_eq!(parse_go_duration("2m"), Ok(120 * s));
        assert_eq!(parse_go_duration("1h30m"), Ok(5400 * s));
        assert_eq!(parse_go_duration("1.5s"), Ok(s + s / 2));
        assert_eq!(parse_go_duration(".5s"), Ok(s / 2));
        assert_eq!(parse_go_duration("-1m"), Ok(-60 * s));
        assert_eq!(parse_go_duration("+3us"), Ok(3_000));
        assert_eq!(parse_go_duration("3µs"), Ok(3_000));
        assert_eq!(parse_go_duration("7ns"), Ok(7));
        assert_eq!(parse_go_duration("0"), Ok(0));
    }

    #[test]
    fn rejects_what_go_rejects_with_go_texts() {
        assert_eq!(
            parse_go_duration("abc").map_err(|e| e.to_string()),
            Err("time: invalid duration \"abc\"".into())
        );
        assert_eq!(
            parse_go_duration("1.5").map_err(|e| e.to_string()),
            Err("time: missing unit in duration \"1.5\"".into())
        );
        assert_eq!(
            parse_go_duration("5x").map_err(|e| e.to_string()),
            Err("time: unknown unit \"x\" in duration \"5x\"".into())
        );
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("-").is_err());
        assert!(parse_go_duration("1").is_err());
        assert!(parse_go_duration("s").is_err());
        assert!(parse_go_duration("9999999999999h").is_err());
    }

    #[test]
    fn formats_like_go() {
        let f = |ms: u64| format_go_duration(Duration::from_millis(ms));
        assert_eq!(f(0), "0s");
        assert_eq!(f(500), "500ms");
        assert_eq!(f(1500), "1.5s");
        assert_eq!(f(10_000), "10s");
        assert_eq!(f(60_000), "1m0s");
        assert_eq!(f(90_000), "1m30s");
        assert_eq!(f(7_200_000), "2h0m0s");
        assert_eq!(format_go_duration(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(format_go_duration(Duration::from_nanos(42)), "42ns");
    }

    #[test]
    fn format_then_parse_is_identity() {
        for nanos in [
            1u64,
            999,
            1_000,
            1_500_000,
            2_000_000_000,
            3_723_000_000_000,
        ] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(parse_go_duration(&format_go_duration(d)), Ok(nanos as i64));
        }
    }
}
