//! Subject transforms: a source subject pattern compiled together with a
//! destination template, the building block behind account `mappings`, stream
//! subject transforms and republish, and import/export subject remapping.
//!
//! This module owns the template language and nothing else: checking that a
//! source and destination fit together, parsing the legacy `$n` references and
//! the `{{function(args)}}` tokens, matching a literal subject against the
//! source and building the mapped subject. It keeps no server state; picking
//! which mapping applies to a message and choosing between weighted
//! destinations are left to the callers.
//!
//! The behaviour is that of nats-server 2.15 (`server/subject_transform.go`,
//! plus `ValidateMapping` from `server/sublist.go`), odd corners included, so
//! that a configuration or JWT accepted (or refused) there is accepted (or
//! refused) here and maps subjects to the same place — in particular
//! `{{partition(..)}}` picks the same partition numbers.
//!
//! Destination tokens understood (function names accept an upper-case first
//! letter for each word, e.g. `Wildcard` or `SplitFromLeft`, and whitespace
//! around the name, the parentheses and after commas):
//!
//! | token | result |
//! |---|---|
//! | `$n`, `{{wildcard(n)}}` | the source token matched by the n-th `*` |
//! | `{{partition(p)}}` | FNV-1a hash of the whole subject, modulo `p` |
//! | `{{partition(p, n, m..)}}` | FNV-1a hash of the referenced tokens (concatenated without separator), modulo `p` |
//! | `{{split(n, sep)}}` | the token cut at every `sep`, empty pieces dropped |
//! | `{{splitfromleft(n, k)}}` | the token cut in two, `k` bytes from its start |
//! | `{{splitfromright(n, k)}}` | the token cut in two, `k` bytes from its end |
//! | `{{slicefromleft(n, k)}}` | the token cut into `k`-byte pieces counted from its start |
//! | `{{slicefromright(n, k)}}` | the token cut into `k`-byte pieces counted from its end |
//! | `{{left(n, k)}}` / `{{right(n, k)}}` | the first / last `k` bytes of the token |
//! | `{{random(p)}}` | a random number below `p` |
//! | `>` | the tokens the source's `>` matched |
//!
//! Functions work on bytes, as the reference does; lengths are byte counts.

/// Why a source/destination pair does not make a transform. The texts match
/// nats-server's, so they can go into config errors and API replies as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// The source or the destination is not a valid subject, the destination
    /// contains a `*`, or only one of them ends in `>`.
    #[error("invalid subject")]
    BadSubject,
    /// [`validate_mapping`] only: the destination has an empty token, a token
    /// after `>`, or whitespace outside a function token. `token` is the
    /// offending token when the reference names it, else empty.
    #[error("invalid mapping destination: invalid transform{}", in_token(.token))]
    InvalidTransform { token: String },
    /// A `{{...}}` token that is none of the known functions.
    #[error("invalid mapping destination: unknown function in {token}")]
    UnknownFunction { token: String },
    /// A function refers to a wildcard the source does not have, or a
    /// function other than `partition`/`random` is used with a source that
    /// has no wildcards. `index` is the offending reference, when there is one.
    #[error(
        "invalid mapping destination: wildcard index out of range in {token}{}",
        index_suffix(*.index)
    )]
    IndexOutOfRange { token: String, index: Option<i64> },
    /// A function was given fewer arguments than it needs.
    #[error("invalid mapping destination: not enough arguments passed to the function in {token}")]
    NotEnoughArgs { token: String },
    /// A function argument is not a number where one is needed, is out of
    /// range, or is not an acceptable separator.
    #[error(
        "invalid mapping destination: function argument is invalid or in the wrong format in {token}"
    )]
    InvalidArg { token: String },
    /// A function was given more arguments than it takes.
    #[error("invalid mapping destination: too many arguments passed to the function in {token}")]
    TooManyArgs { token: String },
    /// Strict transforms only: a function other than `wildcard` was used.
    #[error(
        "invalid mapping destination: the only mapping function allowed for import transforms is {{{{Wildcard()}}}} in {token}"
    )]
    NotSupportedForImport { token: String },
    /// Strict transforms only: the destination does not refer to every `*` of
    /// the source. `token` is the whole destination.
    #[error("invalid mapping destination: not using all of the token wildcard(s) in {token}")]
    NotUsingAllWildcards { token: String },
}

impl TransformError {
    /// Whether this is one of the "invalid mapping destination" errors (all but
    /// [`TransformError::BadSubject`]), as nats-server's
    /// `errors.Is(err, ErrInvalidMappingDestination)` tells.
    pub fn is_invalid_destination(&self) -> bool {
        !matches!(self, TransformError::BadSubject)
    }
}

fn in_token(token: &str) -> String {
    if token.is_empty() {
        String::new()
    } else {
        format!(" in {token}")
    }
}

fn index_suffix(index: Option<i64>) -> String {
    index.map(|i| format!(": [{i}]")).unwrap_or_default()
}

/// A compiled mapping from a source pattern to a destination template.
///
/// Built with [`SubjectTransform::new`] (plain mappings) or
/// [`SubjectTransform::new_strict`] (transforms that must be reversible, as
/// for imports); applied with [`SubjectTransform::apply`] or
/// [`SubjectTransform::apply_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTransform {
    /// The source pattern; `>` when it was given empty.
    source: String,
    destination: String,
    source_tokens: Vec<String>,
    /// What to write for each destination token; empty for a pass-through
    /// transform (empty destination).
    steps: Vec<Step>,
}

/// What one destination token turns into, with wildcard references already
/// resolved to positions in the (tokenized) subject.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Written as is.
    Literal(String),
    /// The destination's closing `>`: the rest of the subject goes here.
    Tail,
    Wildcard(usize),
    /// `positions` empty: hash the whole subject.
    Partition {
        buckets: i32,
        positions: Vec<usize>,
    },
    Cut {
        kind: Cut,
        position: usize,
        arg: i32,
    },
    Split {
        position: usize,
        separator: String,
    },
    Random(i32),
}

/// The functions that take a token reference and a byte count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    SplitFromLeft,
    SplitFromRight,
    SliceFromLeft,
    SliceFromRight,
    Left,
    Right,
}

/// One destination token as written, before wildcard numbers are checked
/// against the source. Indexes are the 1-based wildcard numbers as given.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placeholder {
    Literal,
    Wildcard(i64),
    Partition { buckets: i32, indexes: Vec<i64> },
    Cut { kind: Cut, index: i64, arg: i32 },
    Split { index: i64, separator: String },
    Random(i32),
}

impl SubjectTransform {
    /// Compiles `source` → `destination` for a plain mapping.
    ///
    /// Both must be valid subjects (no empty tokens, nothing after `>`); an
    /// empty source stands for `>`. The destination may not contain `*`, and
    /// has a trailing `>` exactly when the source does. With wildcards in the
    /// source, the destination may refer to them in any order, several times
    /// or not at all; without, it may only use `partition` (whose token
    /// references are then ignored: the whole subject is hashed) and `random`.
    /// A `$` token that is not `$` plus an integer is plain text.
    ///
    /// An empty destination gives a pass-through transform: subjects matching
    /// the source come out unchanged (nats-server returns "no transform" for
    /// it, which callers treat the same way). It is accepted whatever the
    /// source.
    pub fn new(source: &str, destination: &str) -> Result<Self, TransformError> {
        Self::compile(source, destination, false)
    }

    /// Compiles `source` → `destination` for a transform that must be
    /// reversible (import and export remapping): as [`SubjectTransform::new`],
    /// but with wildcards in the source the destination may only use `$n` and
    /// `{{wildcard(n)}}`, and must make at least as many references as the
    /// source has `*`s.
    pub fn new_strict(source: &str, destination: &str) -> Result<Self, TransformError> {
        Self::compile(source, destination, true)
    }

    /// The source pattern (`>` if it was given empty).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The destination template as given.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Applies the transform to a literal subject that matches the source;
    /// `None` if it does not match or is not a valid literal subject.
    ///
    /// The mapped subject is the same bytes as [`SubjectTransform::apply_bytes`]
    /// gives, except where a byte-counting function cuts through a multi-byte
    /// character: that character becomes U+FFFD here.
    pub fn apply(&self, subject: &str) -> Option<String> {
        let mapped = self.apply_bytes(subject.as_bytes())?;
        Some(
            String::from_utf8(mapped)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// [`SubjectTransform::apply`] on a subject as it comes off the wire.
    ///
    /// A `>` → `>` (or empty source to `>` or empty destination) transform
    /// returns any subject unchanged without looking at it, as the reference
    /// does.
    pub fn apply_bytes(&self, subject: &[u8]) -> Option<Vec<u8>> {
        if self.source == ">" && (self.destination == ">" || self.destination.is_empty()) {
            return Some(subject.to_vec());
        }
        let tokens: Vec<&[u8]> = subject.split(|&b| b == b'.').collect();
        if !is_valid_literal(&tokens) {
            return None;
        }
        if self.source == ">" || subset_match(&tokens, &self.source_tokens) {
            Some(self.transform_tokens(&tokens))
        } else {
            None
        }
    }

    /// Builds the mapped subject for a subject the caller has already matched
    /// against the source (e.g. while picking a mapping), without matching or
    /// validating it again. Tokens the destination refers to but `subject`
    /// lacks count as empty.
    pub fn transform_matched(&self, subject: &[u8]) -> Vec<u8> {
        let tokens: Vec<&[u8]> = subject.split(|&b| b == b'.').collect();
        self.transform_tokens(&tokens)
    }

    /// The transform going the other way (mapped subjects back to the
    /// originals), strict, as service imports need for replies. `None` when
    /// there is none: a pass-through transform, fewer wildcard references in
    /// the destination than `*`s in the source, or a reversed pair that does
    /// not compile.
    pub fn reverse(&self) -> Option<SubjectTransform> {
        if self.steps.is_empty() {
            return None;
        }
        let (reversed_source, references) = references_to_wildcards(&self.destination);
        let mut references = references.into_iter();
        let mut parts = Vec::with_capacity(self.source_tokens.len());
        for token in &self.source_tokens {
            if token == "*" {
                parts.push(references.next()?);
            } else {
                parts.push(token.as_str());
            }
        }
        SubjectTransform::new_strict(&reversed_source, &parts.join(".")).ok()
    }

    fn compile(source: &str, destination: &str, strict: bool) -> Result<Self, TransformError> {
        let source = if source.is_empty() { ">" } else { source };
        if destination.is_empty() {
            return Ok(SubjectTransform {
                source: source.to_string(),
                destination: String::new(),
                source_tokens: source.split('.').map(str::to_string).collect(),
                steps: Vec::new(),
            });
        }
        let src = SubjectShape::of(source);
        let dest = SubjectShape::of(destination);
        let (Some(src), Some(dest)) = (src, dest) else {
            return Err(TransformError::BadSubject);
        };
        if dest.stars > 0 || src.full_wildcard != dest.full_wildcard {
            return Err(TransformError::BadSubject);
        }
        // Where each `*` of the source sits: wildcard n is star_positions[n - 1].
        let star_positions: Vec<usize> = src
            .tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == "*")
            .map(|(i, _)| i)
            .collect();

        let mut steps = Vec::with_capacity(dest.tokens.len());
        if src.stars > 0 || src.full_wildcard {
            let mut references = 0usize;
            for &token in &dest.tokens {
                let placeholder = parse_placeholder(token)?;
                if strict && !matches!(placeholder, Placeholder::Literal | Placeholder::Wildcard(_))
                {
                    return Err(TransformError::NotSupportedForImport {
                        token: token.to_string(),
                    });
                }
                // Resolves a wildcard number to a subject token position. Numbers
                // below 1 are not refused: like the reference, they end up
                // pointing at the first token.
                let mut resolve = |index: i64| -> Result<usize, TransformError> {
                    references += 1;
                    if index > src.stars as i64 {
                        return Err(TransformError::IndexOutOfRange {
                            token: token.to_string(),
                            index: Some(index),
                        });
                    }
                    Ok(usize::try_from(index)
                        .ok()
                        .and_then(|n| star_positions.get(n.checked_sub(1)?).copied())
                        .unwrap_or(0))
                };
                let step = match placeholder {
                    Placeholder::Literal if token == ">" => Step::Tail,
                    Placeholder::Literal => Step::Literal(token.to_string()),
                    Placeholder::Random(ceiling) => Step::Random(ceiling),
                    Placeholder::Wildcard(index) => Step::Wildcard(resolve(index)?),
                    Placeholder::Partition { buckets, indexes } => Step::Partition {
                        buckets,
                        positions: indexes
                            .into_iter()
                            .map(&mut resolve)
                            .collect::<Result<_, _>>()?,
                    },
                    Placeholder::Cut { kind, index, arg } => Step::Cut {
                        kind,
                        position: resolve(index)?,
                        arg,
                    },
                    Placeholder::Split { index, separator } => Step::Split {
                        position: resolve(index)?,
                        separator,
                    },
                };
                steps.push(step);
            }
            if strict && references < src.stars {
                return Err(TransformError::NotUsingAllWildcards {
                    token: destination.to_string(),
                });
            }
        } else {
            for &token in &dest.tokens {
                let step = match parse_placeholder(token)? {
                    Placeholder::Literal => Step::Literal(token.to_string()),
                    Placeholder::Random(ceiling) => Step::Random(ceiling),
                    Placeholder::Partition { buckets, .. } => Step::Partition {
                        buckets,
                        positions: Vec::new(),
                    },
                    _ => {
                        return Err(TransformError::IndexOutOfRange {
                            token: token.to_string(),
                            index: None,
                        })
                    }
                };
                steps.push(step);
            }
        }

        Ok(SubjectTransform {
            source: source.to_string(),
            destination: destination.to_string(),
            source_tokens: src.tokens.iter().map(|t| t.to_string()).collect(),
            steps,
        })
    }

    fn transform_tokens(&self, tokens: &[&[u8]]) -> Vec<u8> {
        if self.steps.is_empty() {
            return tokens.join(&b'.');
        }
        let token = |position: usize| -> &[u8] { tokens.get(position).copied().unwrap_or(b"") };
        let mut out = Vec::with_capacity(
            self.destination.len() + tokens.iter().map(|t| t.len() + 1).sum::<usize>(),
        );
        let last = self.steps.len() - 1;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Tail => break,
                Step::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Step::Wildcard(position) => out.extend_from_slice(token(*position)),
                Step::Partition { buckets, positions } => {
                    let hash = if positions.is_empty() {
                        fnv1a_32_parts(tokens, b".")
                    } else {
                        let parts: Vec<&[u8]> = positions.iter().map(|&p| token(p)).collect();
                        fnv1a_32_parts(&parts, b"")
                    };
                    let partition = if *buckets == 0 {
                        0
                    } else {
                        // A negative count is reinterpreted as a large unsigned one.
                        hash % (*buckets as u32)
                    };
                    out.extend_from_slice(partition.to_string().as_bytes());
                }
                Step::Cut {
                    kind,
                    position,
                    arg,
                } => cut(&mut out, token(*position), *kind, *arg),
                Step::Split {
                    position,
                    separator,
                } => split(&mut out, token(*position), separator.as_bytes()),
                Step::Random(ceiling) => {
                    out.extend_from_slice(random_below(*ceiling).to_string().as_bytes())
                }
            }
            if i < last {
                out.push(b'.');
            }
        }
        if matches!(self.steps.last(), Some(Step::Tail)) {
            let start = self.source_tokens.len().saturating_sub(1);
            if let Some(rest) = tokens.get(start..) {
                out.extend_from_slice(&rest.join(&b'.'));
            }
        }
        out
    }
}

/// The destination that maps subjects matching `source` to themselves: each
/// `*` replaced by its `$n` reference (`foo.*.*` → `foo.$1.$2`). nats-server
/// uses it for the implicit "keep the original" share of weighted mappings.
pub fn identity_destination(source: &str) -> String {
    let mut n = 0;
    source
        .split('.')
        .map(|token| {
            if token == "*" {
                n += 1;
                format!("${n}")
            } else {
                token.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The subscription pattern a destination's subjects fall under: each
/// wildcard reference (`$n` or `{{wildcard(n)}}`) becomes `*`
/// (`foo.$2.{{wildcard(1)}}` → `foo.*.*`), as nats-server reads an import's
/// local subject.
pub fn wildcard_pattern(destination: &str) -> String {
    references_to_wildcards(destination).0
}

/// Checks a mapping destination as nats-server's `ValidateMapping` does
/// before accepting an account mapping or a stream subject transform, then
/// compiles the pair. An empty destination is accepted.
///
/// On top of [`SubjectTransform::new`] this refuses empty tokens, tokens after
/// `>` and whitespace in plain tokens. Its list of known functions lacks
/// `left` and `right` (they are refused as unknown functions, as in
/// nats-server 2.15) although [`SubjectTransform::new`] accepts them.
pub fn validate_mapping(source: &str, destination: &str) -> Result<(), TransformError> {
    const KNOWN: [&[&str]; 8] = [
        PARTITION,
        WILDCARD,
        SPLIT_FROM_LEFT,
        SPLIT_FROM_RIGHT,
        SLICE_FROM_LEFT,
        SLICE_FROM_RIGHT,
        SPLIT,
        RANDOM,
    ];
    if destination.is_empty() {
        return Ok(());
    }
    let mut after_full_wildcard = false;
    for token in destination.split('.') {
        if token.is_empty() || after_full_wildcard {
            return Err(TransformError::InvalidTransform {
                token: token.to_string(),
            });
        }
        if looks_like_function(token) {
            if KNOWN
                .iter()
                .any(|name| function_args(token, name).is_some())
            {
                continue;
            }
            return Err(TransformError::UnknownFunction {
                token: token.to_string(),
            });
        }
        if token == ">" {
            after_full_wildcard = true;
        } else if token.bytes().any(is_space) {
            return Err(TransformError::InvalidTransform {
                token: String::new(),
            });
        }
    }
    SubjectTransform::new(source, destination).map(|_| ())
}

/// The tokens of a subject and what wildcards it has; `None` when it is not a
/// valid subject (empty, an empty token, or a token after `>`).
struct SubjectShape<'a> {
    tokens: Vec<&'a str>,
    stars: usize,
    full_wildcard: bool,
}

impl<'a> SubjectShape<'a> {
    fn of(subject: &'a str) -> Option<Self> {
        if subject.is_empty() {
            return None;
        }
        let mut shape = SubjectShape {
            tokens: Vec::new(),
            stars: 0,
            full_wildcard: false,
        };
        for token in subject.split('.') {
            if token.is_empty() || shape.full_wildcard {
                return None;
            }
            match token {
                ">" => shape.full_wildcard = true,
                "*" => shape.stars += 1,
                _ => {}
            }
            shape.tokens.push(token);
        }
        Some(shape)
    }
}

/// A subject a client may publish on: no empty tokens, no wildcard tokens.
fn is_valid_literal(tokens: &[&[u8]]) -> bool {
    tokens
        .iter()
        .all(|t| !t.is_empty() && *t != b"*" && *t != b">")
}

/// Whether literal `tokens` match the source pattern. As in the reference, a
/// pattern token whose first byte is `*` matches any one token.
fn subset_match(tokens: &[&[u8]], pattern: &[String]) -> bool {
    for (i, p) in pattern.iter().enumerate() {
        let Some(t) = tokens.get(i) else {
            return false;
        };
        let p = p.as_bytes();
        if p.is_empty() {
            return false;
        }
        if p == b">" {
            return true;
        }
        if p[0] != b'*' && *t != p {
            return false;
        }
    }
    tokens.len() == pattern.len()
}

// Function names, one entry per word: each word may start with either case.
const WILDCARD: &[&str] = &["wildcard"];
const PARTITION: &[&str] = &["partition"];
const SPLIT_FROM_LEFT: &[&str] = &["split", "from", "left"];
const SPLIT_FROM_RIGHT: &[&str] = &["split", "from", "right"];
const SLICE_FROM_LEFT: &[&str] = &["slice", "from", "left"];
const SLICE_FROM_RIGHT: &[&str] = &["slice", "from", "right"];
const SPLIT: &[&str] = &["split"];
const LEFT: &[&str] = &["left"];
const RIGHT: &[&str] = &["right"];
const RANDOM: &[&str] = &["random"];

/// Whitespace as the reference's patterns see it (no vertical tab).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

/// A token written as a function call: longer than `{{}}`, opening with `{{`
/// and closing with `}}`.
fn looks_like_function(token: &str) -> bool {
    token.len() > 4 && token.starts_with("{{") && token.ends_with("}}")
}

/// Finds a call of the function `name` in `token` and returns the text
/// between its parentheses.
///
/// The reference searches with an unanchored pattern
/// `{{ ws* name ws* ( any* ) ws* }}` and takes the first match from the left,
/// with the argument text running to the last `)` that is followed by
/// optional whitespace and `}}` (never across a newline); this does the same
/// search by hand.
fn function_args<'a>(token: &'a str, name: &[&str]) -> Option<&'a str> {
    let bytes = token.as_bytes();
    'start: for start in 0..bytes.len() {
        if !bytes[start..].starts_with(b"{{") {
            continue;
        }
        let mut at = skip_space(bytes, start + 2);
        for word in name {
            let word = word.as_bytes();
            let Some((&first, rest)) = word.split_first() else {
                continue;
            };
            let matches_first = bytes
                .get(at)
                .is_some_and(|&b| b == first || b == first.to_ascii_uppercase());
            if !matches_first || !bytes[at + 1..].starts_with(rest) {
                continue 'start;
            }
            at += word.len();
        }
        at = skip_space(bytes, at);
        if bytes.get(at) != Some(&b'(') {
            continue;
        }
        let open = at + 1;
        let line_end = bytes[open..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| open + n);
        for close in (open..line_end).rev() {
            if bytes[close] == b')' && bytes[skip_space(bytes, close + 1)..].starts_with(b"}}") {
                // `(` and `)` are ASCII, so both ends are character boundaries.
                return token.get(open..close);
            }
        }
    }
    None
}

/// Splits function arguments at each comma, dropping the whitespace that
/// follows a comma (but not the whitespace before one). Empty text is one
/// empty argument.
fn split_args(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut args = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b',' {
            args.push(&text[start..i]);
            i = skip_space(bytes, i + 1);
            start = i;
        } else {
            i += 1;
        }
    }
    args.push(&text[start..]);
    args
}

/// A whole-number argument, surrounding spaces (only spaces) ignored, an
/// optional sign allowed.
fn int_arg(arg: &str) -> Option<i64> {
    arg.trim_matches(' ').parse().ok()
}

/// A count for `partition` or `random`: any integer up to `i32::MAX`; larger
/// negative numbers wrap into 32 bits as in the reference.
fn count_arg(arg: &str) -> Option<i32> {
    int_arg(arg)
        .filter(|&n| n <= i64::from(i32::MAX))
        .map(|n| n as i32)
}

/// Reads one destination token: plain text, a `$n` reference or a function.
fn parse_placeholder(token: &str) -> Result<Placeholder, TransformError> {
    let owned = || token.to_string();
    let not_enough = || TransformError::NotEnoughArgs { token: owned() };
    let too_many = || TransformError::TooManyArgs { token: owned() };
    let invalid = || TransformError::InvalidArg { token: owned() };

    if token.len() > 1 {
        if let Some(number) = token.strip_prefix('$') {
            // `$` followed by anything but an integer is ordinary text.
            return Ok(match number.parse() {
                Ok(n) => Placeholder::Wildcard(n),
                Err(_) => Placeholder::Literal,
            });
        }
    }
    if !looks_like_function(token) {
        return Ok(Placeholder::Literal);
    }

    if let Some(text) = function_args(token, WILDCARD) {
        let args = split_args(text);
        return match args.as_slice() {
            [""] => Err(not_enough()),
            [index] => int_arg(index)
                .map(Placeholder::Wildcard)
                .ok_or_else(invalid),
            _ => Err(too_many()),
        };
    }
    if let Some(text) = function_args(token, PARTITION) {
        let args = split_args(text);
        let (buckets, indexes) = args.split_first().ok_or_else(not_enough)?;
        let buckets = count_arg(buckets).ok_or_else(invalid)?;
        let indexes = indexes
            .iter()
            .map(|i| int_arg(i).ok_or_else(invalid))
            .collect::<Result<_, _>>()?;
        return Ok(Placeholder::Partition { buckets, indexes });
    }
    let cuts = [
        (SPLIT_FROM_LEFT, Cut::SplitFromLeft),
        (SPLIT_FROM_RIGHT, Cut::SplitFromRight),
        (SLICE_FROM_LEFT, Cut::SliceFromLeft),
        (SLICE_FROM_RIGHT, Cut::SliceFromRight),
        (RIGHT, Cut::Right),
        (LEFT, Cut::Left),
    ];
    for (name, kind) in cuts {
        if let Some(text) = function_args(token, name) {
            return match split_args(text).as_slice() {
                [index, arg] => {
                    let index = int_arg(index).ok_or_else(invalid)?;
                    let arg = arg.trim_matches(' ').parse().map_err(|_| invalid())?;
                    Ok(Placeholder::Cut { kind, index, arg })
                }
                [] | [_] => Err(not_enough()),
                _ => Err(too_many()),
            };
        }
    }
    if let Some(text) = function_args(token, SPLIT) {
        return match split_args(text).as_slice() {
            [index, separator] => {
                let index = int_arg(index).ok_or_else(invalid)?;
                if separator.contains([' ', '.']) {
                    return Err(invalid());
                }
                Ok(Placeholder::Split {
                    index,
                    separator: separator.to_string(),
                })
            }
            [] | [_] => Err(not_enough()),
            _ => Err(too_many()),
        };
    }
    if let Some(text) = function_args(token, RANDOM) {
        return match split_args(text).as_slice() {
            [ceiling] => count_arg(ceiling)
                .map(Placeholder::Random)
                .ok_or_else(invalid),
            // The reference reports any other count as too few.
            _ => Err(not_enough()),
        };
    }
    Err(TransformError::UnknownFunction { token: owned() })
}

/// The source pattern a strict destination maps back from, and the wildcard
/// references of the destination in order (`foo.$2.{{wildcard(1)}}` →
/// `foo.*.*` and `["$2", "{{wildcard(1)}}"]`).
fn references_to_wildcards(destination: &str) -> (String, Vec<&str>) {
    let mut references = Vec::new();
    let pattern = destination
        .split('.')
        .map(|token| {
            let b = token.as_bytes();
            let dollar = b.len() > 1 && b[0] == b'$' && (b'1'..=b'9').contains(&b[1]);
            let wildcard = function_args(token, WILDCARD)
                .is_some_and(|text| !text.is_empty() && split_args(text).len() == 1);
            if dollar || wildcard {
                references.push(token);
                "*"
            } else {
                token
            }
        })
        .collect::<Vec<_>>()
        .join(".");
    (pattern, references)
}

/// 32-bit FNV-1a (as Go's `hash/fnv` `New32a`) of `parts` joined by `separator`.
fn fnv1a_32_parts(parts: &[&[u8]], separator: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let mut hash = OFFSET_BASIS;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            feed(separator);
        }
        feed(part);
    }
    hash
}

/// The byte-counting functions. A count that is not strictly between zero and
/// the token's length leaves the token whole.
fn cut(out: &mut Vec<u8>, token: &[u8], kind: Cut, arg: i32) {
    let len = token.len();
    let n = match usize::try_from(arg) {
        Ok(n) if n > 0 && n < len => n,
        _ => {
            out.extend_from_slice(token);
            return;
        }
    };
    match kind {
        Cut::SplitFromLeft => join_into(out, [&token[..n], &token[n..]]),
        Cut::SplitFromRight => join_into(out, [&token[..len - n], &token[len - n..]]),
        Cut::SliceFromLeft => join_into(out, token.chunks(n)),
        Cut::SliceFromRight => {
            let (head, rest) = token.split_at(len % n);
            let head = (!head.is_empty()).then_some(head);
            join_into(out, head.into_iter().chain(rest.chunks(n)));
        }
        Cut::Left => out.extend_from_slice(&token[..n]),
        Cut::Right => out.extend_from_slice(&token[len - n..]),
    }
}

fn join_into<'a>(out: &mut Vec<u8>, pieces: impl IntoIterator<Item = &'a [u8]>) {
    for (i, piece) in pieces.into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        out.extend_from_slice(piece);
    }
}

/// `split`: the token cut at each occurrence of `separator` (an empty
/// separator cuts between characters). Empty pieces are dropped, except that
/// the reference's joining rule lets a run of separators at the very start
/// leave one leading `.`; this keeps that.
fn split(out: &mut Vec<u8>, token: &[u8], separator: &[u8]) {
    let pieces = if separator.is_empty() {
        characters(token)
    } else {
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i + separator.len() <= token.len() {
            if token[i..].starts_with(separator) {
                pieces.push(&token[start..i]);
                i += separator.len();
                start = i;
            } else {
                i += 1;
            }
        }
        pieces.push(&token[start..]);
        pieces
    };
    for (j, piece) in pieces.iter().enumerate() {
        out.extend_from_slice(piece);
        let next_non_empty = pieces.get(j + 1).is_some_and(|p| !p.is_empty());
        if next_non_empty && !(j == 0 && piece.is_empty()) {
            out.push(b'.');
        }
    }
}

/// The UTF-8 characters of `bytes`, each byte of an invalid sequence on its own.
fn characters(bytes: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let end = at + c.len_utf8();
            pieces.push(&bytes[at..end]);
            at = end;
        }
        for _ in chunk.invalid() {
            pieces.push(&bytes[at..at + 1]);
            at += 1;
        }
    }
    pieces
}

/// A random number in `0..|ceiling|` (0 when `ceiling` is 0), drawn as the
/// reference does: a random non-negative 31-bit value modulo `ceiling`.
fn random_below(ceiling: i32) -> i64 {
    if ceiling == 0 {
        return 0;
    }
    let value = i64::from(rand::random::<u32>() >> 1);
    value % i64::from(ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(
        source: &str,
        destination: &str,
        strict: bool,
    ) -> Result<SubjectTransform, TransformError> {
        if strict {
            SubjectTransform::new_strict(source, destination)
        } else {
            SubjectTransform::new(source, destination)
        }
    }

    #[track_caller]
    fn ok(source: &str, destination: &str, strict: bool) -> SubjectTransform {
        compile(source, destination, strict)
            .unwrap_or_else(|e| panic!("{source:?} -> {destination:?} (strict {strict}): {e}"))
    }

    #[track_caller]
    fn err(source: &str, destination: &str, strict: bool) -> TransformError {
        match compile(source, destination, strict) {
            Ok(_) => panic!("{source:?} -> {destination:?} (strict {strict}) compiled"),
            Err(e) => e,
        }
    }

    /// Compiles a plain mapping and applies it to `subject`.
    #[track_caller]
    fn mapped(source: &str, destination: &str, subject: &str) -> Option<String> {
        ok(source, destination, false).apply(subject)
    }

    #[track_caller]
    fn assert_maps(source: &str, destination: &str, subject: &str, expected: &str) {
        assert_eq!(
            mapped(source, destination, subject).as_deref(),
            Some(expected),
            "{source:?} -> {destination:?} on {subject:?}"
        );
    }

    fn token(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn placeholders_parse() {
        use Placeholder as P;
        assert_eq!(parse_placeholder("$1"), Ok(P::Wildcard(1)));
        assert_eq!(parse_placeholder("{{wildcard(2)}}"), Ok(P::Wildcard(2)));
        let partition = P::Partition {
            buckets: 10,
            indexes: vec![1, 2, 3],
        };
        assert_eq!(
            parse_placeholder("{{partition(10,1,2,3)}}"),
            Ok(partition.clone())
        );
        assert_eq!(
            parse_placeholder("{{ Partition (10,1,2,3) }}"),
            Ok(partition)
        );
        let cases = [
            ("{{SplitFromLeft(2,1)}}", Cut::SplitFromLeft, 2, 1),
            ("{{SplitFromRight(3,2)}}", Cut::SplitFromRight, 3, 2),
            ("{{SliceFromLeft(2,2)}}", Cut::SliceFromLeft, 2, 2),
            ("{{SliceFromRight(4,3)}}", Cut::SliceFromRight, 4, 3),
            ("{{Left(3,2)}}", Cut::Left, 3, 2),
            ("{{Right(3,2)}}", Cut::Right, 3, 2),
        ];
        for (text, kind, index, arg) in cases {
            assert_eq!(
                parse_placeholder(text),
                Ok(P::Cut { kind, index, arg }),
                "{text}"
            );
        }
        assert_eq!(
            parse_placeholder("{{split(1, -)}}"),
            Ok(P::Split {
                index: 1,
                separator: token("-")
            })
        );
        assert_eq!(parse_placeholder("{{Random(7)}}"), Ok(P::Random(7)));
        // `$` without an integer, `{{}}` and non-function text are plain tokens.
        for text in ["$", "$foo", "$1x", "{{}}", "{x}", "foo", "x{{wildcard(1)}}"] {
            assert_eq!(parse_placeholder(text), Ok(P::Literal), "{text}");
        }
    }

    #[test]
    fn function_name_spelling_and_whitespace() {
        // Only the first letter of each word may be upper case.
        assert_eq!(function_args("{{Wildcard(1)}}", WILDCARD), Some("1"));
        assert_eq!(function_args("{{WildCard(1)}}", WILDCARD), None);
        assert_eq!(function_args("{{WILDCARD(1)}}", WILDCARD), None);
        assert_eq!(
            function_args("{{SplitFromLeft(1,2)}}", SPLIT_FROM_LEFT),
            Some("1,2")
        );
        assert_eq!(
            function_args("{{splitFromleft(1,2)}}", SPLIT_FROM_LEFT),
            Some("1,2")
        );
        assert_eq!(
            function_args("{{SPLITFROMLEFT(1,2)}}", SPLIT_FROM_LEFT),
            None
        );
        assert_eq!(function_args("{{splitfromleft(1,2)}}", SPLIT), None);
        // Whitespace around the name, before `}}` and inside the parentheses.
        assert_eq!(
            function_args("{{ \t wildcard \r( 1 ) \n}}", WILDCARD),
            Some(" 1 ")
        );
        // The arguments never span a newline.
        assert_eq!(function_args("{{wildcard(\n1)}}", WILDCARD), None);
        // The argument text runs to the last `)` that precedes `}}`.
        assert_eq!(function_args("{{left(a)b)}}", LEFT), Some("a)b"));
        // The call may sit anywhere in the token; the leftmost one counts.
        assert_eq!(function_args("{{x}}{{wildcard(2)}}", WILDCARD), Some("2"));
        assert_eq!(function_args("x{{wildcard(1)}}y", WILDCARD), Some("1"));
        assert_eq!(
            parse_placeholder("{{left(1,1)}}{{right(1,2)}}"),
            Ok(Placeholder::Cut {
                kind: Cut::Right,
                index: 1,
                arg: 2
            })
        );
    }

    #[test]
    fn argument_splitting() {
        assert_eq!(split_args(""), vec![""]);
        assert_eq!(split_args("1"), vec!["1"]);
        assert_eq!(split_args("1, \t2 ,3,"), vec!["1", "2 ", "3", ""]);
        assert_eq!(int_arg(" +7 "), Some(7));
        assert_eq!(int_arg("\t7"), None);
        assert_eq!(int_arg(""), None);
        assert_eq!(count_arg("2147483647"), Some(i32::MAX));
        assert_eq!(count_arg("2147483648"), None);
        assert_eq!(count_arg("-2147483649"), Some(i32::MAX));
    }

    #[test]
    fn reference_invalid_transforms() {
        use TransformError as E;
        let out_of_range = |t: &str, index| E::IndexOutOfRange {
            token: token(t),
            index,
        };
        let cases = [
            ("foo..", "bar", false, E::BadSubject),
            ("foo.*", "bar.*", false, E::BadSubject),
            ("foo.*", "bar.$2", false, out_of_range("$2", Some(2))),
            ("foo.*", "bar.$1.>", false, E::BadSubject),
            ("foo.>", "bar.baz", false, E::BadSubject),
            (
                "foo.*.*",
                "bar.$2",
                true,
                E::NotUsingAllWildcards {
                    token: token("bar.$2"),
                },
            ),
            (
                "foo.*",
                "foo.$foo",
                true,
                E::NotUsingAllWildcards {
                    token: token("foo.$foo"),
                },
            ),
            (
                "foo.*",
                "bar.{{Partition(2,1)}}",
                true,
                E::NotSupportedForImport {
                    token: token("{{Partition(2,1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard(2)}}",
                false,
                out_of_range("{{wildcard(2)}}", Some(2)),
            ),
            (
                "foo.*",
                "foo.{{unimplemented(1)}}",
                false,
                E::UnknownFunction {
                    token: token("{{unimplemented(1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{partition()}}",
                false,
                E::InvalidArg {
                    token: token("{{partition()}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{random()}}",
                false,
                E::InvalidArg {
                    token: token("{{random()}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard(foo)}}",
                false,
                E::InvalidArg {
                    token: token("{{wildcard(foo)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard()}}",
                false,
                E::NotEnoughArgs {
                    token: token("{{wildcard()}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard(1,2)}}",
                false,
                E::TooManyArgs {
                    token: token("{{wildcard(1,2)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{ wildcard5) }}",
                false,
                E::UnknownFunction {
                    token: token("{{ wildcard5) }}"),
                },
            ),
            (
                "foo.*",
                "foo.{{splitLeft(2,2}}",
                false,
                E::UnknownFunction {
                    token: token("{{splitLeft(2,2}}"),
                },
            ),
            (
                "foo",
                "bla.{{wildcard(1)}}",
                false,
                out_of_range("{{wildcard(1)}}", None),
            ),
            (
                "foo.*",
                "foo.{{partition(2147483648)}}",
                false,
                E::InvalidArg {
                    token: token("{{partition(2147483648)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{random(2147483648)}}",
                false,
                E::InvalidArg {
                    token: token("{{random(2147483648)}}"),
                },
            ),
        ];
        for (source, destination, strict, expected) in cases {
            assert_eq!(
                err(source, destination, strict),
                expected,
                "{source:?} -> {destination:?}"
            );
        }
    }

    #[test]
    fn more_invalid_transforms() {
        use TransformError as E;
        let cases = [
            (
                "foo.*",
                "foo.{{random(1,2)}}",
                E::NotEnoughArgs {
                    token: token("{{random(1,2)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{left(1)}}",
                E::NotEnoughArgs {
                    token: token("{{left(1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{left(1,2,3)}}",
                E::TooManyArgs {
                    token: token("{{left(1,2,3)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{left(1,x)}}",
                E::InvalidArg {
                    token: token("{{left(1,x)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{left(1,2147483648)}}",
                E::InvalidArg {
                    token: token("{{left(1,2147483648)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{split(1,a b)}}",
                E::InvalidArg {
                    token: token("{{split(1,a b)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{split(1)}}",
                E::NotEnoughArgs {
                    token: token("{{split(1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{WILDCARD(1)}}",
                E::UnknownFunction {
                    token: token("{{WILDCARD(1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard(\t1)}}",
                E::InvalidArg {
                    token: token("{{wildcard(\t1)}}"),
                },
            ),
            (
                "foo.*",
                "foo.{{wildcard(\n1)}}",
                E::UnknownFunction {
                    token: token("{{wildcard(\n1)}}"),
                },
            ),
            ("", "foo", E::BadSubject),
            ("foo.>.bar", "x.>", E::BadSubject),
            ("foo", "bar..baz", E::BadSubject),
        ];
        for (source, destination, expected) in cases {
            assert_eq!(
                err(source, destination, false),
                expected,
                "{source:?} -> {destination:?}"
            );
        }
    }

    #[test]
    fn error_texts() {
        let text = |s: &str, d: &str, strict| err(s, d, strict).to_string();
        assert_eq!(text("foo.*", "bar.*", false), "invalid subject");
        assert_eq!(
            text("foo.*", "bar.$2", false),
            "invalid mapping destination: wildcard index out of range in $2: [2]"
        );
        assert_eq!(
            text("foo", "bla.{{wildcard(1)}}", false),
            "invalid mapping destination: wildcard index out of range in {{wildcard(1)}}"
        );
        assert_eq!(
            text("foo.*", "bar.{{Partition(2,1)}}", true),
            "invalid mapping destination: the only mapping function allowed for import \
             transforms is {{Wildcard()}} in {{Partition(2,1)}}"
        );
        assert_eq!(
            text("foo.*.*", "bar.$2", true),
            "invalid mapping destination: not using all of the token wildcard(s) in bar.$2"
        );
        assert_eq!(
            text("foo.*", "foo.{{unimplemented(1)}}", false),
            "invalid mapping destination: unknown function in {{unimplemented(1)}}"
        );
        assert_eq!(
            text("foo.*", "foo.{{wildcard()}}", false),
            "invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}"
        );
        assert_eq!(
            text("foo.*", "foo.{{wildcard(1,2)}}", false),
            "invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}"
        );
        assert_eq!(
            text("foo.*", "foo.{{wildcard(x)}}", false),
            "invalid mapping destination: function argument is invalid or in the wrong format \
             in {{wildcard(x)}}"
        );
        assert!(!TransformError::BadSubject.is_invalid_destination());
        assert!(err("foo.*", "foo.{{x}}", false).is_invalid_destination());
    }

    #[test]
    fn reference_valid_transforms() {
        let cases = [
            ("foo.*", "bar.{{Wildcard(1)}}", true),
            ("foo.*.*", "bar.$2", false),
            ("foo.*.*", "bar.{{wildcard(1)}}", false),
            ("foo.*.*", "bar.{{partition(1)}}", false),
            ("foo.*.*", "bar.{{random(5)}}", false),
            ("foo", "bar", false),
            ("foo.*.bar.*.baz", "req.$2.$1", false),
            ("baz.>", "mybaz.>", false),
            ("*", "{{splitfromleft(1,1)}}", false),
            ("", "prefix.>", false),
            ("*.*", "{{partition(10,1,2)}}", false),
            (
                "foo.*.*",
                "foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}",
                false,
            ),
            ("foo.*", "foo.{{partition(2147483647)}}", false),
            ("foo.*", "foo.{{random(2147483647)}}", false),
            ("foo.bar", "foo.{{random(2147483647)}}", false),
            ("foo.bar", "baz.{{partition(10)}}", false),
            // Repeated references count towards "all wildcards used".
            ("foo.*.*", "bar.$1.$1", true),
            // Strictness only restricts sources with wildcards.
            ("foo", "{{partition(10,1)}}", true),
            ("foo", "{{random(1)}}", true),
        ];
        for (source, destination, strict) in cases {
            ok(source, destination, strict);
        }
        assert_eq!(ok("", "prefix.>", false).source(), ">");
        assert_eq!(ok("foo.*", "bar.$1", false).destination(), "bar.$1");
    }

    #[test]
    fn reference_mapped_subjects() {
        let cases = [
            ("", "prefix.>", "foo", "prefix.foo"),
            ("foo", "bar", "foo", "bar"),
            ("foo.*.bar.*.baz", "req.$2.$1", "foo.A.bar.B.baz", "req.B.A"),
            (
                "foo.*.bar.*.baz",
                "req.{{wildcard(2)}}.{{wildcard(1)}}",
                "foo.A.bar.B.baz",
                "req.B.A",
            ),
            ("baz.>", "my.pre.>", "baz.1.2.3", "my.pre.1.2.3"),
            ("baz.>", "foo.bar.>", "baz.1.2.3", "foo.bar.1.2.3"),
            ("*", "foo.bar.$1", "foo", "foo.bar.foo"),
            ("*", "{{splitfromleft(1,3)}}", "12345", "123.45"),
            ("*", "{{SplitFromRight(1,3)}}", "12345", "12.345"),
            ("*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0"),
            (
                "*",
                "{{SliceFromRight(1,3)}}",
                "1234567890",
                "1.234.567.890",
            ),
            ("*", "{{split(1,-)}}", "-abc-def--ghi-", "abc.def.ghi"),
            ("*", "{{split(1,-)}}", "abc-def--ghi-", "abc.def.ghi"),
            (
                "*.*",
                "{{split(2,-)}}.{{splitfromleft(1,2)}}",
                "foo.-abc-def--ghij-",
                "abc.def.ghij.fo.o",
            ),
            ("*", "{{right(1,1)}}", "1234", "4"),
            ("*", "{{right(1,3)}}", "1234", "234"),
            ("*", "{{right(1,6)}}", "1234", "1234"),
            ("*", "{{left(1,1)}}", "1234", "1"),
            ("*", "{{left(1,3)}}", "1234", "123"),
            ("*", "{{left(1,6)}}", "1234", "1234"),
            ("*", "bar.{{partition(0)}}", "baz", "bar.0"),
            ("*", "bar.{{partition(10, 0)}}", "foo", "bar.3"),
            ("*.*", "bar.{{partition(10)}}", "foo.bar", "bar.6"),
            ("*", "bar.{{partition(10)}}", "foo", "bar.3"),
            ("*", "bar.{{partition(10)}}", "baz", "bar.0"),
            ("*", "bar.{{partition(10)}}", "qux", "bar.9"),
            ("*", "bar.{{random(0)}}", "qux", "bar.0"),
            ("foo.bar", "baz.{{partition(10)}}", "foo.bar", "baz.6"),
            ("foo.baz", "qux.{{partition(10)}}", "foo.baz", "qux.4"),
            (
                "test.subject",
                "result.{{partition(5)}}",
                "test.subject",
                "result.0",
            ),
        ];
        for (source, destination, subject, expected) in cases {
            assert_maps(source, destination, subject, expected);
        }
    }

    #[test]
    fn random_stays_below_its_bound() {
        let tr = ok("*", "bar.{{random(6)}}", false);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let out = tr.apply("qux").expect("matches");
            let n: usize = out
                .strip_prefix("bar.")
                .and_then(|n| n.parse().ok())
                .expect("a number");
            seen[n] = true;
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
        // A negative bound draws below its magnitude, as the reference's `%` does.
        let tr = ok("*", "{{random(-3)}}", false);
        for _ in 0..100 {
            let n: i64 = tr
                .apply("x")
                .and_then(|n| n.parse().ok())
                .expect("a number");
            assert!((0..3).contains(&n), "{n}");
        }
    }

    #[test]
    fn missing_tokens_do_not_panic() {
        // From the reference's tests: a missing token maps to nothing.
        let tr = ok("foo.*", "one.two.{{wildcard(1)}}", false);
        assert_eq!(tr.transform_matched(b"foo"), b"one.two.");
        // Every function treats a missing token as empty (where the reference
        // would index out of bounds); 0x811c9dc5 % 3 == 1.
        let tr = ok(
            "foo.*.*.>",
            "{{split(2,-)}}.{{slicefromright(1,2)}}.{{partition(3,1,2)}}.>",
            false,
        );
        assert_eq!(tr.transform_matched(b""), b"..1.");
    }

    #[test]
    fn wildcard_references_below_one_point_at_the_first_token() {
        assert_maps(
            "foo.*.*",
            "bar.$0.$-1.$+2.$02",
            "foo.a.b",
            "bar.foo.foo.b.b",
        );
        assert_maps("foo.*", "$1x.$foo.$", "foo.a", "$1x.$foo.$");
    }

    #[test]
    fn literal_sources_hash_the_whole_subject() {
        // Token references given to partition are ignored without wildcards.
        assert_maps("foo", "{{partition(10,1)}}", "foo", "3");
        assert_maps(
            "*.*",
            "{{partition(10,1,2)}}.{{partition(10,2,1)}}",
            "foo.bar",
            "0.2",
        );
    }

    #[test]
    fn negative_partition_counts_wrap_like_the_reference() {
        assert_maps(
            "foo.*",
            "{{partition(-1)}}.{{partition(-5,1)}}.{{partition(-2147483649)}}",
            "foo.bar",
            "3415486196.1991736602.1268002549",
        );
    }

    #[test]
    fn fnv1a_matches_go() {
        assert_eq!(fnv1a_32_parts(&[], b"."), 0x811c_9dc5);
        assert_eq!(fnv1a_32_parts(&[b"a"], b"."), 0xe40c_292c);
        assert_eq!(fnv1a_32_parts(&[b"foobar"], b"."), 0xbf9c_f968);
        assert_eq!(fnv1a_32_parts(&[b"foo", b"bar"], b""), 0xbf9c_f968);
    }

    #[test]
    fn split_corners() {
        let tr = ok("*", "{{split(1,--)}}", false);
        assert_eq!(tr.apply("a----b---c").as_deref(), Some("a.b.-c"));
        assert_eq!(tr.apply("--x").as_deref(), Some("x"));
        // Two separators at the start leave a leading dot, as in the reference.
        assert_eq!(tr.apply("----x").as_deref(), Some(".x"));
        let tr = ok("*", "{{split(1,-)}}", false);
        assert_eq!(tr.apply("--abc").as_deref(), Some(".abc"));
        assert_eq!(tr.apply("---").as_deref(), Some(""));
        assert_eq!(tr.apply("a").as_deref(), Some("a"));
        // An empty separator cuts between characters.
        let tr = ok("*", "{{split(1,)}}", false);
        assert_eq!(tr.apply("abc").as_deref(), Some("a.b.c"));
        assert_eq!(tr.apply("é日").as_deref(), Some("é.日"));
        assert_eq!(tr.apply_bytes(b"a\xffb"), Some(b"a.\xff.b".to_vec()));
    }

    #[test]
    fn byte_counting_functions() {
        assert_maps("*", "{{slicefromright(1,2)}}", "12345", "1.23.45");
        assert_maps("*", "{{slicefromright(1,2)}}", "1234", "12.34");
        assert_maps("*", "{{slicefromleft(1,2)}}", "1234", "12.34");
        // Counts outside 1..len leave the token whole.
        assert_maps(
            "*",
            "{{slicefromleft(1,0)}}.{{left(1,-1)}}.{{right(1,4)}}.{{splitfromright(1,9)}}",
            "1234",
            "1234.1234.1234.1234",
        );
        // Counts are bytes: cutting through a character is exact on bytes and
        // lossy on text.
        let tr = ok("*", "{{splitfromleft(1,1)}}", false);
        assert_eq!(tr.apply_bytes("é".as_bytes()), Some(b"\xc3.\xa9".to_vec()));
        assert_eq!(tr.apply("é").as_deref(), Some("\u{fffd}.\u{fffd}"));
    }

    #[test]
    fn full_wildcards() {
        let tr = ok("foo.*.>", "{{wildcard(1)}}.>", false);
        assert_eq!(tr.apply("foo.a.b").as_deref(), Some("a.b"));
        assert_eq!(tr.apply("foo.a.b.c").as_deref(), Some("a.b.c"));
        assert_eq!(tr.apply("foo.a"), None);
        assert_maps("foo.>", ">", "foo.a.b", "a.b");
        assert_maps("a.*.b.>", "c.{{wildcard(1)}}.>", "a.x.b.y.z", "c.x.y.z");
    }

    #[test]
    fn matching() {
        let tr = ok("foo.*", "bar.$1", false);
        assert_eq!(tr.apply("foo.x").as_deref(), Some("bar.x"));
        for subject in [
            "foo", "foo.x.y", "bar.x", "foo.*", "foo.>", "foo..", "", "foo.x.",
        ] {
            assert_eq!(tr.apply(subject), None, "{subject:?}");
        }
        // `>` to `>` hands back anything, without looking at it.
        let tr = ok(">", ">", false);
        for subject in ["foo", "*", "foo..bar", ""] {
            assert_eq!(tr.apply(subject).as_deref(), Some(subject));
        }
        assert_eq!(ok("", ">", false).apply("*").as_deref(), Some("*"));
        // Otherwise wildcard tokens are not literal subjects.
        assert_eq!(ok("foo.>", "foo.>", false).apply("foo.*"), None);
        // A source token starting with `*` matches any token (reference quirk).
        let tr = ok("*foo.bar", "x", false);
        assert_eq!(tr.apply("anything.bar").as_deref(), Some("x"));
        assert_eq!(tr.apply("anything.baz"), None);
    }

    #[test]
    fn functions_found_inside_tokens() {
        assert_maps("foo.*", "x{{wildcard(1)}}", "foo.bar", "x{{wildcard(1)}}");
        assert_maps("foo.*", "{{x}}{{wildcard(1)}}", "foo.bar", "bar");
        assert_maps("foo.*", "{{left(1,1)}}{{right(1,1)}}", "foo.bar", "r");
        assert_maps("foo.*", "foo.{{ Wildcard ( 1 ) }}", "foo.bar", "foo.bar");
        assert_maps("foo.*", "foo.{{wildcard(1)\n}}", "foo.bar", "foo.bar");
    }

    #[test]
    fn empty_destination_passes_subjects_through() {
        let tr = ok("foo.*", "", false);
        assert_eq!(tr.apply("foo.bar").as_deref(), Some("foo.bar"));
        assert_eq!(tr.apply("bar.foo"), None);
        assert_eq!(tr.reverse(), None);
        // Accepted whatever the source, as the reference does.
        assert!(SubjectTransform::new("foo..bar", "").is_ok());
        assert_eq!(ok("", "", false).apply("x.y").as_deref(), Some("x.y"));
    }

    #[test]
    fn wildcard_references_to_pattern() {
        assert_eq!(references_to_wildcards("bar"), (token("bar"), vec![]));
        assert_eq!(
            references_to_wildcards("foo.$2.$1"),
            (token("foo.*.*"), vec!["$2", "$1"])
        );
        assert_eq!(
            references_to_wildcards("foo.{{wildcard(2)}}.{{wildcard(1)}}"),
            (token("foo.*.*"), vec!["{{wildcard(2)}}", "{{wildcard(1)}}"])
        );
        assert_eq!(
            references_to_wildcards("$0.$1x.{{wildcard()}}"),
            (token("$0.*.{{wildcard()}}"), vec!["$1x"])
        );
    }

    #[test]
    fn reverse() {
        let tr = ok("foo.*.*", "bar.$2.{{Wildcard(1)}}", true);
        let forward = tr.apply("foo.b.a").expect("matches");
        assert_eq!(forward, "bar.a.b");
        let back = tr.reverse().expect("reversible");
        assert_eq!(back.source(), "bar.*.*");
        assert_eq!(back.destination(), "foo.$2.{{Wildcard(1)}}");
        assert_eq!(back.apply(&forward).as_deref(), Some("foo.b.a"));

        let tr = ok("a.*.b.>", "c.{{wildcard(1)}}.>", true);
        let back = tr.reverse().expect("reversible");
        assert_eq!(back.apply("c.x.y.z").as_deref(), Some("a.x.b.y.z"));
        // Fewer references than wildcards: nothing to reverse with.
        assert_eq!(ok("*", "bar.{{partition(10)}}", false).reverse(), None);
        assert_eq!(
            ok(">", ">", false)
                .reverse()
                .map(|r| r.destination().to_string()),
            Some(token(">"))
        );
    }

    #[test]
    fn identity_destinations() {
        assert_eq!(identity_destination("foo"), "foo");
        assert_eq!(identity_destination("foo.*.bar.*"), "foo.$1.bar.$2");
        assert_eq!(identity_destination("*.>"), "$1.>");
        let source = "a.*.*.>";
        assert_maps(
            source,
            &identity_destination(source),
            "a.b.c.d.e",
            "a.b.c.d.e",
        );
    }

    #[test]
    fn validate_mapping_checks() {
        use TransformError as E;
        assert_eq!(validate_mapping("foo.*", ""), Ok(()));
        assert_eq!(validate_mapping("foo.*", "bar.{{wildcard(1)}}"), Ok(()));
        assert_eq!(
            validate_mapping("foo.*", "bar..$1"),
            Err(E::InvalidTransform { token: token("") })
        );
        assert_eq!(
            validate_mapping("foo.>", "bar.>.x"),
            Err(E::InvalidTransform { token: token("x") })
        );
        assert_eq!(
            validate_mapping("foo.*", "bar baz.$1"),
            Err(E::InvalidTransform { token: token("") })
        );
        // `left` and `right` are missing from the reference's list.
        assert_eq!(
            validate_mapping("foo.*", "{{left(1,2)}}"),
            Err(E::UnknownFunction {
                token: token("{{left(1,2)}}")
            })
        );
        assert!(SubjectTransform::new("foo.*", "{{left(1,2)}}").is_ok());
        // Whitespace is fine inside a function token.
        assert_eq!(validate_mapping("foo.*", "{{ wildcard( 1 ) }}"), Ok(()));
        // Then the transform itself must compile.
        assert_eq!(validate_mapping("foo.*", "bar.*"), Err(E::BadSubject));
        assert_eq!(
            E::InvalidTransform { token: token("") }.to_string(),
            "invalid mapping destination: invalid transform"
        );
        assert_eq!(
            E::InvalidTransform { token: token("x") }.to_string(),
            "invalid mapping destination: invalid transform in x"
        );
    }

    /// Throws many odd sources, destinations and subjects at every entry
    /// point; nothing may panic.
    #[test]
    fn odd_inputs_do_not_panic() {
        let sources = [
            "", ">", "*", "*.*", "foo.*", "foo.*.>", "é.*", "*x.*", "a..b", "a.>.b", "$1.*",
        ];
        let pieces = [
            "$1",
            "$0",
            "$-9",
            "$99999999999999999999",
            "$-9223372036854775808",
            "{{partition(2,-9223372036854775808)}}",
            "{{wildcard(1)}}",
            "{{partition(-1,1,2)}}",
            "{{partition(0)}}",
            "{{split(1,)}}",
            "{{split(2,é)}}",
            "{{splitfromleft(1,-1)}}",
            "{{slicefromright(2,2147483647)}}",
            "{{slicefromleft(1,1)}}",
            "{{left(9,1)}}",
            "{{right(-4,1)}}",
            "{{random(-2147483648)}}",
            "{{random(1)}}",
            "{{(}}",
            "{{wildcard(1)}}}}",
            "{{{{wildcard(1)}}",
            "{{ (\n) }}",
            "é",
            ">",
            "*",
            "",
        ];
        let subjects: [&[u8]; 9] = [
            b"",
            b".",
            b"foo",
            b"foo.bar",
            b"foo.bar.baz.qux",
            b"\xff.\xfe\xfd",
            "é.日本".as_bytes(),
            b"*.>",
            b"foo..bar",
        ];
        for source in sources {
            for a in pieces {
                for b in pieces {
                    let destination = format!("{a}.{b}");
                    for d in [a, destination.as_str()] {
                        let _ = validate_mapping(source, d);
                        for strict in [false, true] {
                            let Ok(tr) = compile(source, d, strict) else {
                                continue;
                            };
                            let _ = tr.reverse();
                            for subject in subjects {
                                let _ = tr.apply_bytes(subject);
                                let _ = tr.transform_matched(subject);
                                let _ = tr.apply(&String::from_utf8_lossy(subject));
                            }
                        }
                    }
                }
            }
        }
    }

    mod arbitrary {
        use super::*;
        use proptest::prelude::*;

        fn function_token() -> impl Strategy<Value = String> {
            let names = prop::sample::select(vec![
                "wildcard",
                "Partition",
                "split",
                "SplitFromLeft",
                "splitfromright",
                "SliceFromLeft",
                "slicefromright",
                "left",
                "Right",
                "random",
                "other",
            ]);
            let arg = prop_oneof![
                any::<i64>().prop_map(|n| n.to_string()),
                (-3i64..5).prop_map(|n| n.to_string()),
                "[ -,()é\\n{}a-]{0,4}",
            ];
            (names, prop::collection::vec(arg, 0..4))
                .prop_map(|(name, args)| format!("{{{{{name}({})}}}}", args.join(",")))
        }

        fn destination_token() -> impl Strategy<Value = String> {
            prop_oneof![
                function_token(),
                any::<i64>().prop_map(|n| format!("${n}")),
                "[a$0-9{}(), >*é-]{0,6}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Nothing panics, and anything that compiles maps its source's
            /// subjects without panicking either.
            #[test]
            fn never_panics(
                source in "[ab*>.é]{0,8}",
                destination in prop::collection::vec(destination_token(), 0..4),
                subject in prop::collection::vec(
                    prop_oneof![Just(b'.'), Just(b'a'), Just(0xc3), Just(0xa9), any::<u8>()],
                    0..16,
                ),
            ) {
                let destination = destination.join(".");
                let _ = validate_mapping(&source, &destination);
                for strict in [false, true] {
                    if let Ok(tr) = compile(&source, &destination, strict) {
                        let _ = tr.reverse();
                        let _ = tr.apply_bytes(&subject);
                        let _ = tr.transform_matched(&subject);
                        let _ = tr.apply(&String::from_utf8_lossy(&subject));
                    }
                }
            }
        }
    }
}
