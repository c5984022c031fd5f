//! One permission subject, pre-split into tokens, and the three questions a
//! permission check asks of it about another subject:
//!
//! - [`Pattern::matches`]: does it match a published (literal) subject?
//! - [`Pattern::covers`]: does it match *every* subject a subscription could
//!   receive? (allow `a.>` covers `SUB a.*`; allow `a.*` does not cover `SUB a.>`)
//! - [`Pattern::intersects`]: is there *some* subject both would match?
//!   (deny `a.b` intersects `SUB a.>`)
//!
//! nats-server answers these with a `Sublist` per allow/deny list plus
//! `subjectIsSubsetMatch` (in `client.go`/`sublist.go`). Permission lists are
//! a handful of entries per user, so a linear scan over pre-split patterns is
//! simpler and faster than a trie here; the token and validity rules are
//! `gannet_proto::subject`'s, so subjects mean the same as in the sublist.

use std::fmt;

use gannet_proto::subject::{is_valid_subscribe_subject, tokens, FULL_WILDCARD, SINGLE_WILDCARD};

/// One token of a pattern.
#[derive(Clone, PartialEq, Eq)]
enum Token {
    /// Must equal the subject's token byte for byte.
    Literal(Box<[u8]>),
    /// `*`: any one token.
    Star,
    /// `>`: one or more trailing tokens (always the last token).
    Full,
}

/// A token of the other side of a comparison, borrowed from its subject.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Other<'a> {
    Literal(&'a [u8]),
    Star,
    Full,
}

fn classify(token: &[u8]) -> Other<'_> {
    match token {
        [SINGLE_WILDCARD] => Other::Star,
        [FULL_WILDCARD] => Other::Full,
        t => Other::Literal(t),
    }
}

/// A valid subscription-style subject (wildcards allowed), split once.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Box<[Token]>,
}

impl Pattern {
    /// `None` unless `subject` is a valid subscription subject (non-empty
    /// tokens, no white space, `>` only last).
    pub(crate) fn parse(subject: &[u8]) -> Option<Pattern> {
        if !is_valid_subscribe_subject(subject) {
            return None;
        }
        let tokens = tokens(subject)
            .map(|t| match classify(t) {
                Other::Star => Token::Star,
                Other::Full => Token::Full,
                Other::Literal(l) => Token::Literal(l.into()),
            })
            .collect();
        Some(Pattern { tokens })
    }

    /// True when the pattern has a `*` or `>` token.
    pub(crate) fn has_wildcard(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Literal(_)))
    }

    /// Does the pattern match the published `subject`? The subject's tokens
    /// are taken literally (a non-pedantic `PUB foo.*` is routed as the
    /// literal subject `foo.*`, so it is checked as one). A subject with an
    /// empty token (`foo..bar`, which is never delivered) matches nothing.
    pub(crate) fn matches(&self, subject: &[u8]) -> bool {
        let mut rest = tokens(subject);
        for t in self.tokens.iter() {
            let Some(s) = rest.next() else {
                return false;
            };
            if s.is_empty() {
                return false;
            }
            match t {
                Token::Full => return rest.all(|s| !s.is_empty()),
                Token::Star => {}
                Token::Literal(l) => {
                    if **l != *s {
                        return false;
                    }
                }
            }
        }
        rest.next().is_none()
    }

    /// Is every subject that the subscription subject `sub` can match also
    /// matched by this pattern? `sub` must be a valid subscription subject.
    pub(crate) fn covers(&self, sub: &[u8]) -> bool {
        let mut rest = tokens(sub);
        for t in self.tokens.iter() {
            let Some(s) = rest.next() else {
                return false;
            };
            let s = classify(s);
            match (t, s) {
                // `>` takes the rest, whatever it is (including `>`).
                (Token::Full, _) => return true,
                // One token of any kind, but not the many of a `>`.
                (Token::Star, Other::Full) => return false,
                (Token::Star, _) => {}
                (Token::Literal(l), Other::Literal(s)) if **l == *s => {}
                (Token::Literal(_), _) => return false,
            }
        }
        rest.next().is_none()
    }

    /// Could some literal subject be matched both by this pattern and by the
    /// subscription subject `sub`? `sub` must be a valid subscription subject.
    pub(crate) fn intersects(&self, sub: &[u8]) -> bool {
        let mut rest = tokens(sub);
        for t in self.tokens.iter() {
            let Some(s) = rest.next() else {
                return false;
            };
            let s = classify(s);
            match (t, s) {
                (Token::Full, _) | (_, Other::Full) => return true,
                (Token::Star, _) | (_, Other::Star) => {}
                (Token::Literal(l), Other::Literal(s)) => {
                    if **l != *s {
                        return false;
                    }
                }
            }
        }
        rest.next().is_none()
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for t in self.tokens.iter() {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            match t {
                Token::Literal(l) => f.write_str(&String::from_utf8_lossy(l))?,
                Token::Star => f.write_str("*")?,
                Token::Full => f.write_str(">")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn invalid_subjects_are_not_patterns() {
        for s in ["", "a..b", ".a", "a.", "a.>.b", "a b"] {
            assert!(Pattern::parse(s.as_bytes()).is_none(), "{s:?}");
        }
        assert!(p("a.*").has_wildcard());
        assert!(p(">").has_wildcard());
        assert!(!p("a.f*o.b>").has_wildcard());
        assert_eq!(format!("{:?}", p("a.*.>")), "a.*.>");
    }

    #[test]
    fn matches_published_subjects() {
        let cases: &[(&str, &str, bool)] = &[
            ("foo", "foo", true),
            ("foo", "foo.bar", false),
            ("foo.bar", "foo", false),
            ("foo.*", "foo.bar", true),
            ("foo.*", "foo", false),
            ("foo.*", "foo.bar.baz", false),
            ("foo.>", "foo", false),
            ("foo.>", "foo.bar.baz", true),
            (">", "x", true),
            ("*.b", "a.b", true),
            // Wildcards in the published subject are literal tokens.
            ("foo.bar", "foo.*", false),
            ("foo.*", "foo.*", true),
            ("foo.>", "foo.>", true),
            // Empty tokens never match.
            (">", "a..b", false),
            ("a.*.b", "a..b", false),
            (">", "", false),
            ("a.>", "a.b.", false),
        ];
        for (pat, subj, want) in cases {
            assert_eq!(p(pat).matches(subj.as_bytes()), *want, "{pat} ~ {subj}");
        }
    }

    #[test]
    fn covers_requires_every_possible_subject() {
        let cases: &[(&str, &str, bool)] = &[
            ("a.>", ">", false),
            ("a.*", "a.b", true),
            ("a.>", "a.*", true),
            ("a.>", "a.>", true),
            ("a.>", "a.b.>", true),
            ("a.*", "a.>", false),
            ("a.*", "a.*", true),
            ("a.b", "a.*", false),
            ("a.b", "a.b", true),
            ("*", "*", true),
            ("*", ">", false),
            (">", ">", true),
            (">", "a.*.c", true),
            ("a.*.c", "a.b.c", true),
            ("a.*.c", "a.*.c", true),
            ("a.*.c", "a.*.d", false),
            ("a.b", "a.b.c", false),
            ("a.b.c", "a.b", false),
        ];
        for (pat, sub, want) in cases {
            assert_eq!(p(pat).covers(sub.as_bytes()), *want, "{pat} covers {sub}");
        }
    }

    #[test]
    fn intersects_when_some_subject_matches_both() {
        let cases: &[(&str, &str, bool)] = &[
            ("a.b", "a.>", true),
            ("y.>", ">", true),
            ("a.b", "a.*", true),
            ("a.*", "a.b", true),
            ("a.*", "*.b", true),
            ("a.b", "a.c", false),
            ("a.b", "a.b.>", false),
            ("a.b.>", "a.b", false),
            ("a.>", "a", false),
            ("a.*", "a.b.c", false),
            ("a.*.c", "a.b.>", true),
        ];
        for (pat, sub, want) in cases {
            assert_eq!(p(pat).intersects(sub.as_bytes()), *want, "{pat} ∩ {sub}");
            // Symmetric.
            assert_eq!(p(sub).intersects(pat.as_bytes()), *want, "{sub} ∩ {pat}");
        }
    }

    #[test]
    fn relations_agree_with_brute_force_on_small_alphabet() {
        // Every pattern of up to three tokens over {a, b, *, >}; subjects of
        // up to four literal tokens over {a, b, c} stand for "all subjects".
        let toks = ["a", "b", "*", ">"];
        let mut pats = Vec::new();
        for n in 1..=3usize {
            let mut idx = vec![0usize; n];
            loop {
                let s: Vec<&str> = idx.iter().map(|&i| toks[i]).collect();
                let s = s.join(".");
                if Pattern::parse(s.as_bytes()).is_some() {
                    pats.push(s);
                }
                let mut k = 0;
                while k < n {
                    idx[k] += 1;
                    if idx[k] < toks.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == n {
                    break;
                }
            }
        }
        let lits = ["a", "b", "c"];
        let mut subjects = Vec::new();
        for n in 1..=4usize {
            let mut idx = vec![0usize; n];
            loop {
                let s: Vec<&str> = idx.iter().map(|&i| lits[i]).collect();
                subjects.push(s.join("."));
                let mut k = 0;
                while k < n {
                    idx[k] += 1;
                    if idx[k] < lits.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == n {
                    break;
                }
            }
        }
        for a in &pats {
            for b in &pats {
                let pa = p(a);
                let pb = p(b);
                let matched_b: Vec<&String> = subjects
                    .iter()
                    .filter(|s| pb.matches(s.as_bytes()))
                    .collect();
                let covers = matched_b.iter().all(|s| pa.matches(s.as_bytes()));
                let intersects = matched_b.iter().any(|s| pa.matches(s.as_bytes()));
                // Subjects are bounded at four tokens and patterns at three, so
                // `>` always has a longer subject to witness non-coverage.
                assert_eq!(pa.covers(b.as_bytes()), covers, "{a} covers {b}");
                assert_eq!(pa.intersects(b.as_bytes()), intersects, "{a} ∩ {b}");
            }
        }
    }
}
