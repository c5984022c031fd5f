//! Subject tokens: splitting a subject on `.`, validating subscription patterns
//! and published (literal) subjects, and matching one pattern against one
//! literal subject token by token.
//!
//! This is the part of nats-server's `sublist.go` that deals with single
//! subjects (its token helpers and `matchLiteral`); the index itself is in
//! [`crate::trie`]. Which subjects are valid patterns, and the token splitting,
//! are the protocol's rules, taken from `gannet_proto::subject`.

pub(crate) use gannet_proto::subject::{
    is_literal as is_literal_pattern, is_valid_subscribe_subject as is_valid_pattern, tokens,
};

/// Separates the tokens of a subject.
pub(crate) const SEPARATOR: u8 = b'.';
/// The token that matches exactly one token.
pub(crate) const STAR: &[u8] = b"*";
/// The token that matches one or more trailing tokens; only valid last.
pub(crate) const FULL: &[u8] = b">";

/// Splits off the first token: `(token, rest)`, where `rest` is `None` when
/// `token` was the last one.
#[inline]
pub(crate) fn split_first(subject: &[u8]) -> (&[u8], Option<&[u8]>) {
    match subject.iter().position(|b| *b == SEPARATOR) {
        Some(i) => (&subject[..i], Some(&subject[i + 1..])),
        None => (subject, None),
    }
}

/// A published subject can be routed when it is non-empty and has no empty
/// token. Wildcard tokens in it are taken literally (a non-pedantic `PUB foo.*`
/// is delivered to `foo.*` and `>` subscribers).
pub(crate) fn is_valid_literal(subject: &[u8]) -> bool {
    !subject.is_empty()
        && subject.first() != Some(&SEPARATOR)
        && subject.last() != Some(&SEPARATOR)
        && !subject.windows(2).any(|w| w == [SEPARATOR, SEPARATOR])
}

/// Does `pattern` (a valid subscription pattern) match `subject` (a valid
/// literal subject)? Token by token: `*` takes any one token, `>` any one or
/// more remaining tokens, anything else must be equal.
pub fn pattern_matches(pattern: &[u8], subject: &[u8]) -> bool {
    let tokens: Vec<&[u8]> = tokens(pattern).collect();
    tokens_match(&tokens, subject)
}

/// Does the pattern whose tokens are `pattern` match `subject`? Taking the
/// pattern pre-split lets the cache test one pattern against many subjects
/// splitting it only once. Literal tokens are compared in place; the subject
/// is scanned for `.` only after a `*`.
pub(crate) fn tokens_match(pattern: &[&[u8]], subject: &[u8]) -> bool {
    let mut rest = Some(subject);
    for &token in pattern {
        let Some(s) = rest else {
            return false;
        };
        if token == FULL {
            return true;
        }
        if token == STAR {
            rest = s.iter().position(|b| *b == SEPARATOR).map(|i| &s[i + 1..]);
            continue;
        }
        let Some(after) = s.strip_prefix(token) else {
            return false;
        };
        rest = match after.split_first() {
            None => None,
            Some((&SEPARATOR, tail)) => Some(tail),
            Some(_) => return false,
        };
    }
    rest.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_patterns_are_accepted() {
        for p in [
            "foo", "foo.bar", "*", ">", "foo.*", "foo.>", "*.*.>", "f*o", "foo.*bar", "a>.b",
            "$SYS.x", "ü.-_~",
        ] {
            assert!(is_valid_pattern(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        for p in [
            "",
            ".",
            "foo.",
            ".foo",
            "foo..bar",
            ">.foo",
            "foo.>.bar",
            "a.>.>",
        ] {
            assert!(!is_valid_pattern(p.as_bytes()), "{p:?}");
        }
    }

    #[test]
    fn literal_subjects_reject_only_empty_tokens() {
        for s in ["foo", "foo.bar", "foo.*", ">", "a.>.b"] {
            assert!(is_valid_literal(s.as_bytes()), "{s}");
        }
        for s in ["", ".", "foo.", ".foo", "foo..bar"] {
            assert!(!is_valid_literal(s.as_bytes()), "{s:?}");
        }
    }

    #[test]
    fn literal_pattern_has_no_wildcard_token() {
        assert!(is_literal_pattern(b"foo.bar"));
        assert!(is_literal_pattern(b"f*o.b>r"));
        assert!(!is_literal_pattern(b"foo.*"));
        assert!(!is_literal_pattern(b">"));
    }

    #[test]
    fn split_first_walks_tokens() {
        assert_eq!(split_first(b"a.b.c"), (&b"a"[..], Some(&b"b.c"[..])));
        assert_eq!(split_first(b"c"), (&b"c"[..], None));
    }

    #[test]
    fn pattern_matching_follows_wildcard_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("foo", "foo", true),
            ("foo", "bar", false),
            ("foo", "foo.bar", false),
            ("foo.bar", "foo", false),
            ("*", "foo", true),
            ("*", "foo.bar", false),
            ("foo.*", "foo.bar", true),
            ("foo.*", "foo", false),
            ("*.bar", "foo.bar", true),
            (">", "foo", true),
            (">", "foo.bar.baz", true),
            ("foo.>", "foo", false),
            ("foo.>", "foo.bar", true),
            ("foo.>", "foo.bar.baz", true),
            ("*.>", "foo", false),
            ("*.>", "foo.bar", true),
            ("f*o", "foo", false),
            ("f*o", "f*o", true),
            ("foo.*", "foo.*", true),
            ("foo.bar", "foo.*", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(
                pattern_matches(p.as_bytes(), s.as_bytes()),
                *want,
                "{p} vs {s}"
            );
        }
    }
}
