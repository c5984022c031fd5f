//! Reading the values the JetStream commands' flags take, as natscli reads
//! them: byte limits with units where any negative number means unlimited,
//! durations where `-1` means unlimited, and subject lists split on commas
//! and white space.

use std::time::Duration;

use anyhow::anyhow;

use crate::cmd::bench::parse_size;
use crate::duration::parse_duration;

/// natscli's `ParseStringAsBytes`: `-1` (any negative number) for
/// unlimited, a plain number of bytes, or a number with a unit (`1GB`,
/// `512KiB`, `1m`...); `None` for an empty text.
pub fn bytes_limit(text: &str) -> anyhow::Result<Option<i64>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with('-') {
        return Ok(Some(-1));
    }
    let value = parse_size(text).ok_or_else(|| {
        anyhow!(
            "invalid bytes specification {text}: bytes must end in B, K, KB, M, MB, G, GB, T or TB"
        )
    })?;
    let value = i64::try_from(value).map_err(|_| anyhow!("bytes value {text} out of range"))?;
    Ok(Some(value))
}

/// A duration where `-1` means none (zero); Go's forms otherwise.
pub fn duration_or_unlimited(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    if text == "-1" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text).map_err(|err| anyhow!("{err}"))
}

/// natscli's `SplitCLISubjects`: every flag value split on commas and white
/// space, empty parts dropped.
pub fn split_subjects(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|value| value.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_limits_read_like_natscli() {
        assert_eq!(bytes_limit("").unwrap(), None);
        assert_eq!(bytes_limit("-1").unwrap(), Some(-1));
        assert_eq!(bytes_limit("1024").unwrap(), Some(1024));
        assert_eq!(bytes_limit("1GB").unwrap(), Some(1 << 30));
        assert_eq!(bytes_limit("2KiB").unwrap(), Some(2048));
        assert!(bytes_limit("12XB").is_err());
    }

    #[test]
    fn minus_one_is_no_age_limit() {
        assert_eq!(duration_or_unlimited("-1").unwrap(), Duration::ZERO);
        assert_eq!(
            duration_or_unlimited("1h").unwrap(),
            Duration::from_secs(3600)
        );
        assert!(duration_or_unlimited("soon").is_err());
    }

    #[test]
    fn subject_lists_split_on_commas_and_spaces() {
        assert_eq!(
            split_subjects(&["a.>, b.*".to_string(), "c".to_string()]),
            vec!["a.>", "b.*", "c"]
        );
    }
}
