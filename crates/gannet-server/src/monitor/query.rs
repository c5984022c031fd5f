//! Query-string parsing for the monitoring endpoints, with the reference's
//! decoding rules and its exact 400 messages (nats-server's `decodeBool`,
//! `decodeInt`, `decodeUint64` in `monitor.go`). Nothing here panics on input.
use std::collections::HashMap;

/// The decoded parameters of one request; the first value of a repeated key wins,
/// as Go's `Query().Get` does.
#[derive(Debug, Default, Clone)]
pub struct Query {
    params: HashMap<String, String>,
}

impl Query {
    /// Parses `a=1&b=x%2Ey` (`+` is a space, bad escapes are kept literally).
    pub fn parse(raw: Option<&str>) -> Query {
        let mut params = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params
                .entry(percent_decode(k))
                .or_insert_with(|| percent_decode(v));
        }
        Query { params }
    }

    /// The value of `name`, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    /// A Go `ParseBool` value; absent or empty is false.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        let v = self.get(name);
        match v {
            "" => Ok(false),
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
            _ => Err(format!(
                "Error decoding boolean for '{name}': strconv.ParseBool: parsing \"{v}\": invalid syntax"
            )),
        }
    }

    /// A Go `Atoi` value; absent or empty is 0.
    pub fn int(&self, name: &str) -> Result<i64, String> {
        let v = self.get(name);
        if v.is_empty() {
            return Ok(0);
        }
        v.parse::<i64>().map_err(|_| {
            format!(
                "Error decoding int for '{name}': strconv.Atoi: parsing \"{v}\": {}",
                number_error(v, true)
            )
        })
    }

    /// A Go `ParseUint` value; absent or empty is 0.
    pub fn uint64(&self, name: &str) -> Result<u64, String> {
        let v = self.get(name);
        if v.is_empty() {
            return Ok(0);
        }
        v.parse::<u64>().map_err(|_| {
            format!(
                "Error decoding uint64 for '{name}': strconv.ParseUint: parsing \"{v}\": {}",
                number_error(v, false)
            )
        })
    }

    /// `subs`: `detail`, or a boolean. Returns (list, detail).
    pub fn subs(&self) -> Result<(bool, bool), String> {
        if self.get("subs") == "detail" {
            return Ok((true, true));
        }
        Ok((self.bool("subs")?, false))
    }
}

/// Why Go refused a number: too big, or not a number.
fn number_error(v: &str, signed: bool) -> &'static str {
    let digits = if signed {
        v.strip_prefix(['-', '+']).unwrap_or(v)
    } else {
        v
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        "value out of range"
    } else {
        "invalid syntax"
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Pages `items`: a negative offset is 0; a limit of 0 or less is `default_limit`.
/// Returns the (offset, limit) reported and the page.
pub fn page<T>(
    items: Vec<T>,
    offset: i64,
    limit: i64,
    default_limit: usize,
) -> (usize, usize, Vec<T>) {
    let offset = usize::try_from(offset).unwrap_or(0);
    let limit = usize::try_from(limit)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(default_limit);
    let page = items.into_iter().skip(offset).take(limit).collect();
    (offset, limit, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_first_value() {
        let q = Query::parse(Some("test=foo%2Ebar&a=1&a=2&b=x+y&c=%zz&d"));
        assert_eq!(q.get("test"), "foo.bar");
        assert_eq!(q.get("a"), "1");
        assert_eq!(q.get("b"), "x y");
        assert_eq!(q.get("c"), "%zz");
        assert_eq!(q.get("d"), "");
        assert_eq!(Query::parse(Some("e=%4")).get("e"), "%4");
    }

    #[test]
    fn errors_match_the_reference() {
        let q = Query::parse(Some(
            "subs=maybe&offset=x&cid=-1&limit=99999999999999999999",
        ));
        assert_eq!(
            q.subs().unwrap_err(),
            "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
        assert_eq!(
            q.int("offset").unwrap_err(),
            "Error decoding int for 'offset': strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert!(q.int("limit").unwrap_err().ends_with("value out of range"));
        assert!(q.uint64("cid").unwrap_err().ends_with("invalid syntax"));
    }

    #[test]
    fn paging_clamps_offset_and_defaults_limit() {
        assert_eq!(page(vec![1, 2, 3], -1, 0, 1024), (0, 1024, vec![1, 2, 3]));
        assert_eq!(page(vec![1, 2, 3], 1, 1, 1024), (1, 1, vec![2]));
        assert_eq!(page(vec![1, 2, 3], 5, 1, 1024), (5, 1, vec![]));
    }
}
