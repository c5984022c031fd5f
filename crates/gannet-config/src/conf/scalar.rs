//! Turning scanned words into scalars: boolean words, integers with size
//! suffixes (`k`=1000, `kb`/`ki`/`kib`=1024, ... up to `e`/`eb`) and floats.

/// `true/yes/on` and `false/no/off`, in any case.
pub(crate) fn bool_word(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The letters that can start a size suffix.
pub(crate) fn is_size_suffix(c: char) -> bool {
    matches!(c.to_ascii_lowercase(), 'k' | 'm' | 'g' | 't' | 'p' | 'e')
}

/// What a size suffix multiplies by: the bare letter is a power of 1000,
/// with `b`, `i` or `ib` after it a power of 1024.
fn multiplier(suffix: &str) -> Option<i64> {
    let suffix = suffix.to_ascii_lowercase();
    let mut chars = suffix.chars();
    let power = match chars.next() {
        None => return Some(1),
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some('p') => 5,
        Some('e') => 6,
        Some(_) => return None,
    };
    let base: i64 = match chars.as_str() {
        "" => 1000,
        "b" | "i" | "ib" => 1024,
        _ => return None,
    };
    base.checked_pow(power)
}

/// An optionally negative decimal integer with an optional size suffix.
/// The error texts are the reference's.
pub(crate) fn integer(text: &str) -> Result<i64, String> {
    let digits_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let (number, suffix) = text.split_at(digits_end);
    let out_of_range = || format!("integer '{text}' is out of the range");
    let n: i64 = number.parse().map_err(|_| out_of_range())?;
    let scale = multiplier(suffix).ok_or_else(|| format!("expected integer, but got '{text}'"))?;
    n.checked_mul(scale).ok_or_else(out_of_range)
}

/// A decimal float such as `0.5` or `-12.25`.
pub(crate) fn float(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        Ok(_) => Err(format!("float '{text}' is out of the range")),
        Err(_) => Err(format!("expected float, but got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_case_insensitive_powers_of_1000_or_1024() {
        assert_eq!(integer("3"), Ok(3));
        assert_eq!(integer("3k"), Ok(3000));
        assert_eq!(integer("3KB"), Ok(3072));
        assert_eq!(integer("3Ki"), Ok(3072));
        assert_eq!(integer("3kIb"), Ok(3072));
        assert_eq!(integer("1M"), Ok(1_000_000));
        assert_eq!(integer("1mb"), Ok(1 << 20));
        assert_eq!(integer("1G"), Ok(1_000_000_000));
        assert_eq!(integer("1gib"), Ok(1 << 30));
        assert_eq!(integer("-1T"), Ok(-1_000_000_000_000));
        assert_eq!(integer("1e"), Ok(1_000_000_000_000_000_000));
        assert_eq!(integer("1eb"), Ok(1 << 60));
    }

    #[test]
    fn bad_suffixes_and_overflow_are_errors() {
        assert_eq!(
            integer("1kbb"),
            Err("expected integer, but got '1kbb'".into())
        );
        assert_eq!(
            integer("8eb"),
            Err("integer '8eb' is out of the range".into())
        );
        assert_eq!(
            integer("9223372036854775808"),
            Err("integer '9223372036854775808' is out of the range".into())
        );
        assert_eq!(integer("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn bool_words() {
        assert_eq!(bool_word("YES"), Some(true));
        assert_eq!(bool_word("Off"), Some(false));
        assert_eq!(bool_word("1"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(float("0.5"), Ok(0.5));
        assert_eq!(float("-2.25"), Ok(-2.25));
    }
}
