//! natscli's message templates, shared by `pub`, `request` and `reply`: the
//! Go-template subset that natscli documents (`{{Count}}`, `{{ID}}`,
//! `{{TimeStamp}}`, `{{Unix}}`, `{{UnixNano}}`, `{{Time}}`,
//! `{{Random min max}}`, `{{Request}}` in replies, and the same names as fields,
//! `{{.Count}}`), the `{{Subject}}` of `--translate` commands, and the
//! `-H K:V` header flags, whose values are always templates.
//!
//! A template is parsed once, before anything is sent, so a bad one is one
//! error line; rendering cannot fail.

use anyhow::{anyhow, bail};
use async_nats::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Local, SecondsFormat};
use rand::Rng;

/// Which names a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// `pub`, `request` and header values.
    Publish,
    /// `reply` bodies and commands: adds `Request`.
    Reply,
    /// `--translate` commands: only `Subject` and `Stream`.
    Translate,
}

/// One value an action produces.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Count,
    Unix,
    UnixNano,
    TimeStamp,
    Time,
    Id,
    Request,
    Subject,
    Stream,
    Random(u64, u64),
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Action(Action),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What a rendering fills in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<'a> {
    /// The message number (`{{Count}}`).
    pub count: u64,
    /// The request body (`{{Request}}`, replies only).
    pub request: &'a str,
    /// The message subject (`{{Subject}}`, translate only).
    pub subject: &'a str,
}

impl Template {
    /// Parses `text`; `what` names it in errors ("body", "subject").
    pub fn parse(text: &str, what: &str, vocabulary: Vocabulary) -> anyhow::Result<Template> {
        parse_parts(text, vocabulary)
            .map(|parts| Template { parts })
            .map_err(|err| anyhow!("invalid {what} template {text:?}: {err}"))
    }

    /// A template that renders `text` as it is (for `--no-templates`).
    pub fn literal(text: &str) -> Template {
        Template {
            parts: vec![Part::Text(text.to_string())],
        }
    }

    /// Whether the template has no actions.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|part| matches!(part, Part::Text(_)))
    }

    /// The text with every action filled in.
    pub fn render(&self, values: &Values) -> String {
        let now = Local::now();
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Action(action) => out.push_str(&evaluate(action, values, &now)),
            }
        }
        out
    }
}

fn evaluate(action: &Action, values: &Values, now: &DateTime<Local>) -> String {
    match action {
        Action::Count => values.count.to_string(),
        Action::Unix => now.timestamp().to_string(),
        Action::UnixNano => now
            .timestamp_nanos_opt()
            .unwrap_or_else(|| now.timestamp().saturating_mul(1_000_000_000))
            .to_string(),
        Action::TimeStamp => now.to_rfc3339_opts(SecondsFormat::Secs, true),
        // Go's time.Kitchen: 3:04PM
        Action::Time => now.format("%-I:%M%p").to_string(),
        Action::Id => nuid::next().to_string(),
        Action::Request => values.request.to_string(),
        Action::Subject => values.subject.to_string(),
        Action::Stream => String::new(),
        Action::Random(shortest, longest) => random_string(*shortest, *longest),
        Action::Nothing => String::new(),
    }
}

/// A random `a-zA-Z0-9` string between `shortest` and `longest` long
/// (inclusive; swapped when given the wrong way round, as natscli does).
pub fn random_string(shortest: u64, longest: u64) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let (low, high) = if shortest > longest {
        (longest, shortest)
    } else {
        (shortest, longest)
    };
    let mut rng = rand::rng();
    let length = rng.random_range(low..=high);
    (0..length)
        .map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())]))
        .collect()
}

/// Longest string `{{Random}}` may ask for: a typo of `100000000` should be an
/// error, not an out-of-memory.
const MAX_RANDOM: u64 = 64 * 1024 * 1024;

fn parse_parts(text: &str, vocabulary: Vocabulary) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        let after_open = &rest[start + 2..];
        let (inner, trim_left) = match after_open.strip_prefix("- ") {
            Some(inner) => (inner, true),
            None => (after_open, false),
        };
        if trim_left {
            before = before.trim_end();
        }
        let end = find_close(inner).ok_or_else(|| "unclosed action".to_string())?;
        let mut body = &inner[..end];
        let mut after = &inner[end + 2..];
        if let Some(trimmed) = body.strip_suffix(" -") {
            body = trimmed;
            after = after.trim_start();
        }
        if !before.is_empty() {
            parts.push(Part::Text(before.to_string()));
        }
        parts.push(Part::Action(parse_action(body, vocabulary)?));
        rest = after;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

/// Where the action's `}}` is, skipping over quoted strings and comments.
fn find_close(inner: &str) -> Option<usize> {
    if inner.trim_start().starts_with("/*") {
        let end = inner.find("*/")?;
        return inner[end..].find("}}").map(|i| end + i);
    }
    let bytes = inner.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' && q == b'"' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' => quote = Some(b),
            None if b == b'}' && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn parse_action(body: &str, vocabulary: Vocabulary) -> Result<Action, String> {
    let body = body.trim();
    if body.starts_with("/*") {
        return Ok(Action::Nothing);
    }
    if body.is_empty() {
        return Err("missing value for command".to_string());
    }
    if body.contains('|') {
        return Err(format!("pipelines are not supported in {{{{{body}}}}}"));
    }
    let words: Vec<&str> = body.split_whitespace().collect();
    let (name, args) = match words.split_first() {
        Some((name, args)) => (*name, args),
        None => return Err("missing value for command".to_string()),
    };
    match name.strip_prefix('.') {
        Some(field) => parse_field(field, args, vocabulary),
        None => parse_function(name, args, vocabulary),
    }
}

fn parse_field(field: &str, args: &[&str], vocabulary: Vocabulary) -> Result<Action, String> {
    let action = lookup(field, vocabulary)
        .filter(|action| !matches!(action, Action::Random(..)))
        .ok_or_else(|| format!("can't evaluate field {field}"))?;
    if !args.is_empty() {
        return Err(format!("{field} is not a method but has arguments"));
    }
    Ok(action)
}

fn parse_function(name: &str, args: &[&str], vocabulary: Vocabulary) -> Result<Action, String> {
    let action =
        lookup(name, vocabulary).ok_or_else(|| format!("function {name:?} not defined"))?;
    match action {
        Action::Random(..) => parse_random(args),
        action if args.is_empty() => Ok(action),
        _ => Err(format!(
            "wrong number of args for {name}: want 0 got {}",
            args.len()
        )),
    }
}

fn parse_random(args: &[&str]) -> Result<Action, String> {
    let [shortest, longest] = args else {
        return Err(format!(
            "wrong number of args for Random: want 2 got {}",
            args.len()
        ));
    };
    let number = |text: &str| -> Result<u64, String> {
        let value: u64 = text
            .parse()
            .map_err(|_| format!("Random needs two whole numbers, got {text:?}"))?;
        if value > MAX_RANDOM {
            return Err(format!(
                "Random length {value} is over the limit of {MAX_RANDOM}"
            ));
        }
        Ok(value)
    };
    Ok(Action::Random(number(shortest)?, number(longest)?))
}

fn lookup(name: &str, vocabulary: Vocabulary) -> Option<Action> {
    if vocabulary == Vocabulary::Translate {
        return match name {
            "Subject" => Some(Action::Subject),
            "Stream" => Some(Action::Stream),
            _ => None,
        };
    }
    let action = match name {
        "Count" | "Cnt" => Action::Count,
        "Unix" => Action::Unix,
        "UnixNano" => Action::UnixNano,
        "TimeStamp" => Action::TimeStamp,
        "Time" => Action::Time,
        "ID" => Action::Id,
        "Random" => Action::Random(0, 0),
        "Request" if vocabulary == Vocabulary::Reply => Action::Request,
        _ => return None,
    };
    Some(action)
}

/// The `-H K:V` flags, parsed once; values are templates (natscli templates
/// header values even with `--no-templates`).
#[derive(Debug, Clone, Default)]
pub struct HeaderTemplates {
    entries: Vec<(HeaderName, Template)>,
}

impl HeaderTemplates {
    pub fn parse(flags: &[String]) -> anyhow::Result<HeaderTemplates> {
        let mut entries = Vec::with_capacity(flags.len());
        for flag in flags {
            let Some((name, value)) = flag.split_once(':') else {
                bail!("invalid header {flag:?}: expected K:V");
            };
            let name = name.trim();
            if name.is_empty() {
                bail!("invalid header {flag:?}: the name is empty");
            }
            let header: HeaderName = name
                .parse()
                .map_err(|_| anyhow!("invalid header name {name:?} in {flag:?}"))?;
            let value =
                Template::parse(value.trim(), &format!("header {name}"), Vocabulary::Publish)?;
            entries.push((header, value));
        }
        Ok(HeaderTemplates { entries })
    }

    /// The headers for message number `count`; `None` when there are none.
    pub fn render(&self, count: u64) -> anyhow::Result<Option<HeaderMap>> {
        if self.entries.is_empty() {
            return Ok(None);
        }
        let values = Values {
            count,
            ..Values::default()
        };
        let mut headers = HeaderMap::new();
        for (name, template) in &self.entries {
            let text = template.render(&values);
            let value: HeaderValue = text
                .parse()
                .map_err(|_| anyhow!("header {name} may not contain line breaks: {text:?}"))?;
            headers.append(name.clone(), value);
        }
        Ok(Some(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, count: u64) -> String {
        Template::parse(text, "body", Vocabulary::Publish)
            .unwrap()
            .render(&Values {
                count,
                ..Values::default()
            })
    }

    fn parse_error(text: &str, vocabulary: Vocabulary) -> String {
        Template::parse(text, "body", vocabulary)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn text_without_actions_is_kept() {
        assert_eq!(render("hello {world} }}", 1), "hello {world} }}");
        assert_eq!(render(r#"{"a":{"b":1}}"#, 1), r#"{"a":{"b":1}}"#);
        assert!(Template::parse("plain", "body", Vocabulary::Publish)
            .unwrap()
            .is_literal());
    }

    #[test]
    fn count_as_function_and_field() {
        assert_eq!(render("msg {{Count}}", 7), "msg 7");
        assert_eq!(render("msg {{ .Count }}/{{Cnt}}", 3), "msg 3/3");
    }

    #[test]
    fn trim_markers_remove_whitespace() {
        assert_eq!(render("a   {{- Count -}}   b", 2), "a2b");
    }

    #[test]
    fn comments_render_nothing() {
        assert_eq!(render("a{{/* note }} here */}}b", 1), "ab");
    }

    #[test]
    fn random_has_the_asked_length() {
        for _ in 0..20 {
            let text = render("{{ Random 3 6 }}", 1);
            assert!((3..=6).contains(&text.len()), "{text}");
            assert!(text.chars().all(|c| c.is_ascii_alphanumeric()));
        }
        assert_eq!(render("{{Random 5 5}}", 1).len(), 5);
        let swapped = render("{{Random 4 2}}", 1);
        assert!((2..=4).contains(&swapped.len()), "{swapped}");
    }

    #[test]
    fn times_and_ids_have_their_shapes() {
        let unix: i64 = render("{{Unix}}", 1).parse().unwrap();
        assert!(unix > 1_600_000_000);
        let nanos: i128 = render("{{UnixNano}}", 1).parse().unwrap();
        assert!(nanos > 1_600_000_000_000_000_000);
        let stamp = render("{{TimeStamp}}", 1);
        assert!(DateTime::parse_from_rfc3339(&stamp).is_ok(), "{stamp}");
        let time = render("{{Time}}", 1);
        assert!(time.ends_with("AM") || time.ends_with("PM"), "{time}");
        let id = render("{{ID}}", 1);
        assert_eq!(id.len(), 22, "{id}");
        assert_ne!(id, render("{{ID}}", 1));
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!(parse_error("{{Count", Vocabulary::Publish).contains("unclosed action"));
        assert!(
            parse_error("{{Nope}}", Vocabulary::Publish).contains(r#"function "Nope" not defined"#)
        );
        assert!(parse_error("{{.Nope}}", Vocabulary::Publish).contains("can't evaluate field Nope"));
        assert!(parse_error("{{Random 1}}", Vocabulary::Publish).contains("want 2 got 1"));
        assert!(parse_error("{{Random a b}}", Vocabulary::Publish).contains("whole numbers"));
        assert!(parse_error("{{Count 1}}", Vocabulary::Publish).contains("want 0 got 1"));
        assert!(parse_error("{{}}", Vocabulary::Publish).contains("missing value"));
        assert!(parse_error("{{Request}}", Vocabulary::Publish).contains("not defined"));
        assert!(parse_error("{{Count}}", Vocabulary::Translate).contains("not defined"));
    }

    #[test]
    fn reply_templates_see_the_request() {
        let template =
            Template::parse("got {{Request}} #{{.Count}}", "body", Vocabulary::Reply).unwrap();
        let values = Values {
            count: 2,
            request: "ping",
            subject: "",
        };
        assert_eq!(template.render(&values), "got ping #2");
    }

    #[test]
    fn translate_templates_see_the_subject() {
        let template = Template::parse(
            "tr {{Subject}}{{Stream}}",
            "translate",
            Vocabulary::Translate,
        )
        .unwrap();
        let values = Values {
            subject: "a.b",
            ..Values::default()
        };
        assert_eq!(template.render(&values), "tr a.b");
    }

    #[test]
    fn headers_are_split_trimmed_and_templated() {
        let headers =
            HeaderTemplates::parse(&["X-Seq: n{{Count}}".into(), "A:b:c".into()]).unwrap();
        let map = headers.render(4).unwrap().unwrap();
        assert_eq!(map.get("X-Seq").unwrap().as_str(), "n4");
        assert_eq!(map.get("A").unwrap().as_str(), "b:c");
        assert!(HeaderTemplates::parse(&[])
            .unwrap()
            .render(1)
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_headers_are_errors() {
        let err = HeaderTemplates::parse(&["novalue".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains(r#"invalid header "novalue""#), "{err}");
        let err = HeaderTemplates::parse(&["X: {{Nope}}".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("header X"), "{err}");
        let err = HeaderTemplates::parse(&["bad name: v".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid header name"), "{err}");
    }
}
