//! Subject rules (the checks of nats-server's `sublist.go`: `IsValidSubject`,
//! `IsValidPublishSubject`, `subjectIsLiteral`), on bytes.
//!
//! A subject is a sequence of tokens separated by `.`. No token may be empty
//! (`foo..bar`, `.foo`, `foo.` are invalid), and no byte may be white space (space,
//! tab, CR, LF, form feed). Any other byte is allowed, UTF-8 or not. `*` (one
//! token) and `>` (one or more trailing tokens) are wildcards only as a whole
//! token (`f*o` and `foo.*bar` are literal), and `>` only as the last token.
//! Subscriptions may use wildcards; publish subjects may not.

/// Separates the tokens of a subject.
pub const SEPARATOR: u8 = b'.';
/// As a whole token, matches exactly one token.
pub const SINGLE_WILDCARD: u8 = b'*';
/// As a whole last token, matches one or more trailing tokens.
pub const FULL_WILDCARD: u8 = b'>';

/// The bytes no subject or queue name may contain.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0c)
}

/// The tokens of `subject`, split at every `.`. Like `str::split`, an empty
/// subject yields one empty token and `a..b` yields `a`, ``, `b`.
pub fn tokens(subject: &[u8]) -> Tokens<'_> {
    Tokens {
        rest: Some(subject),
    }
}

/// Iterator over the tokens of a subject; see [`tokens`].
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match memchr::memchr(SEPARATOR, rest) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

impl std::iter::FusedIterator for Tokens<'_> {}

/// True when `token` is the wildcard `*` or `>`.
pub fn is_wildcard_token(token: &[u8]) -> bool {
    token == [SINGLE_WILDCARD] || token == [FULL_WILDCARD]
}

/// True for a subject a client may subscribe to: non-empty tokens, no white
/// space, and `>` only as the last token.
pub fn is_valid_subscribe_subject(subject: &[u8]) -> bool {
    if subject.is_empty() {
        return false;
    }
    let mut after_full_wildcard = false;
    for token in tokens(subject) {
        if token.is_empty() || after_full_wildcard || token.iter().any(|&b| is_space(b)) {
            return false;
        }
        after_full_wildcard = token == [FULL_WILDCARD];
    }
    true
}

/// True for a subject a client may publish to: a valid subject without any
/// wildcard token.
pub fn is_valid_publish_subject(subject: &[u8]) -> bool {
    is_valid_subscribe_subject(subject) && is_literal(subject)
}

/// True when no token of `subject` is a wildcard (`f*o` is literal). Says
/// nothing about validity: `foo..bar` is literal but invalid.
pub fn is_literal(subject: &[u8]) -> bool {
    !tokens(subject).any(is_wildcard_token)
}

/// Whether `pattern` (a subscribe subject, `*` and `>` as whole tokens) matches
/// the published `subject`, token by token. For one-off checks; the subject
/// index does this for many patterns at once.
pub fn pattern_matches(pattern: &[u8], subject: &[u8]) -> bool {
    let mut subject_tokens = tokens(subject);
    for p in tokens(pattern) {
        match (p, subject_tokens.next()) {
            (b">", Some(_)) => return true,
            (b"*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// True for a queue group name: non-empty and free of white space (anything a
/// SUB line can carry as its middle argument, except CR and form feed).
pub fn is_valid_queue_name(queue: &[u8]) -> bool {
    !queue.is_empty() && !queue.iter().any(|&b| is_space(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matches_token_by_token() {
        assert!(pattern_matches(b"foo.*", b"foo.bar"));
        assert!(!pattern_matches(b"foo.*", b"foo.bar.baz"));
        assert!(pattern_matches(b"foo.>", b"foo.bar.baz"));
        assert!(!pattern_matches(b"foo.>", b"foo"));
        assert!(pattern_matches(b"foo", b"foo"));
        assert!(!pattern_matches(b"foo.bar", b"foo"));
        assert!(!pattern_matches(b"foo", b"foo.bar"));
    }

    #[test]
    fn tokens_split_at_every_dot() {
        let t: Vec<&[u8]> = tokens(b"a.bc.>").collect();
        assert_eq!(t, vec![&b"a"[..], b"bc", b">"]);
        let t: Vec<&[u8]> = tokens(b"a..b").collect();
        assert_eq!(t, vec![&b"a"[..], b"", b"b"]);
        let t: Vec<&[u8]> = tokens(b"").collect();
        assert_eq!(t, vec![&b""[..]]);
        let t: Vec<&[u8]> = tokens(b"foo.").collect();
        assert_eq!(t, vec![&b"foo"[..], b""]);
    }

    #[test]
    fn empty_tokens_are_invalid() {
        for s in [&b""[..], b"foo..bar", b".foo", b"foo.", b".", b".."] {
            assert!(
                !is_valid_subscribe_subject(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
            assert!(!is_valid_publish_subject(s));
        }
    }

    #[test]
    fn full_wildcard_only_last() {
        assert!(is_valid_subscribe_subject(b">"));
        assert!(is_valid_subscribe_subject(b"foo.>"));
        assert!(is_valid_subscribe_subject(b"*.>"));
        assert!(!is_valid_subscribe_subject(b"foo.>.bar"));
        assert!(!is_valid_subscribe_subject(b">.foo"));
        assert!(!is_valid_subscribe_subject(b">.>"));
    }

    #[test]
    fn single_wildcard_anywhere_as_whole_token() {
        assert!(is_valid_subscribe_subject(b"*"));
        assert!(is_valid_subscribe_subject(b"*.*"));
        assert!(is_valid_subscribe_subject(b"foo.*.bar"));
        assert!(!is_valid_publish_subject(b"foo.*.bar"));
        assert!(!is_valid_publish_subject(b"*"));
        assert!(!is_valid_publish_subject(b"foo.>"));
    }

    #[test]
    fn wildcard_inside_token_is_literal_and_valid() {
        for s in [&b"f*o"[..], b"foo.*bar", b"a>", b">b.c", b"**", b">>"] {
            assert!(is_literal(s));
            assert!(is_valid_subscribe_subject(s));
            assert!(is_valid_publish_subject(s));
        }
    }

    #[test]
    fn white_space_is_invalid() {
        for s in [
            &b"foo bar"[..],
            b"foo\tbar",
            b"foo\r",
            b"\n",
            b"a.\x0c",
            b" ",
        ] {
            assert!(!is_valid_subscribe_subject(s));
            assert!(!is_valid_publish_subject(s));
        }
    }

    #[test]
    fn other_bytes_are_allowed() {
        for s in [
            &b"$SYS.REQ"[..],
            b"a-b_c~d",
            "ünï.çødé".as_bytes(),
            b"\xff\xfe",
            b"_INBOX.x",
        ] {
            assert!(is_valid_publish_subject(s), "{s:?}");
        }
    }

    #[test]
    fn literal_ignores_validity() {
        assert!(is_literal(b"foo..bar"));
        assert!(!is_literal(b"foo.*"));
        assert!(!is_literal(b">"));
        assert!(is_literal(b""));
    }

    #[test]
    fn wildcard_token_detection() {
        assert!(is_wildcard_token(b"*"));
        assert!(is_wildcard_token(b">"));
        assert!(!is_wildcard_token(b"*a"));
        assert!(!is_wildcard_token(b""));
    }

    #[test]
    fn queue_names() {
        assert!(is_valid_queue_name(b"q1"));
        assert!(is_valid_queue_name(b"workers.eu-*"));
        assert!(!is_valid_queue_name(b""));
        assert!(!is_valid_queue_name(b"a b"));
        assert!(!is_valid_queue_name(b"a\r"));
    }
}
