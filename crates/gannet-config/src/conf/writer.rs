//! Writes a value tree back out in conf syntax, so that reading the text
//! gives the same tree (positions aside). Used by tests and by tools that
//! generate configs.
use std::fmt::Write;

use super::value::{Kind, Map, Value};

/// The map as a config file: one `"key": value` per line, nested maps
/// indented by two spaces.
///
/// A key holding both `"` and `'` cannot be written back (the format has no
/// escapes in keys); floats must be finite.
pub fn to_conf_string(map: &Map) -> String {
    let mut out = String::new();
    write_entries(&mut out, map, 0);
    out
}

fn write_entries(out: &mut String, map: &Map, indent: usize) {
    for entry in map {
        push_indent(out, indent);
        write_key(out, &entry.key);
        out.push_str(": ");
        write_value(out, &entry.value, indent);
        out.push('\n');
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.push_str(&" ".repeat(indent));
}

fn write_key(out: &mut String, key: &str) {
    let quote = if key.contains('"') && !key.contains('\'') {
        '\''
    } else {
        '"'
    };
    out.push(quote);
    out.push_str(key);
    out.push(quote);
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    match &value.kind {
        Kind::String(s) => write_string(out, s),
        Kind::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Kind::Float(f) => {
            let text = f.to_string();
            out.push_str(&text);
            if !text.contains('.') {
                out.push_str(".0");
            }
        }
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Duration { value, .. } => {
            // One unit only: `1m0s` would read back as the integer 1m.
            let nanos = value.as_nanos();
            let _ = match nanos {
                n if n % 1_000_000_000 == 0 => write!(out, "{}s", n / 1_000_000_000),
                n if n % 1_000_000 == 0 => write!(out, "{}ms", n / 1_000_000),
                n if n % 1_000 == 0 => write!(out, "{}us", n / 1_000),
                n => write!(out, "{n}ns"),
            };
        }
        Kind::DateTime(text) => out.push_str(text),
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item, indent);
            }
            out.push(']');
        }
        Kind::Map(map) if map.is_empty() => out.push_str("{}"),
        Kind::Map(map) => {
            out.push_str("{\n");
            write_entries(out, map, indent + 2);
            push_indent(out, indent);
            out.push('}');
        }
    }
}

/// A double-quoted string; control characters become `\t`, `\n`, `\r` or `\xXX`.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::value::{Entry, Pos};
    use std::sync::Arc;
    use std::time::Duration;

    fn v(kind: Kind) -> Value {
        Value::new(kind, Pos::new(Arc::from("t"), 1, 1))
    }

    fn map(entries: Vec<(&str, Kind)>) -> Map {
        let mut m = Map::new();
        for (k, kind) in entries {
            m.insert(Entry {
                key: k.into(),
                key_pos: Pos::new(Arc::from("t"), 1, 1),
                value: v(kind),
                used_as_variable: false,
            });
        }
        m
    }

    #[test]
    fn writes_every_kind() {
        let inner = map(vec![("x", Kind::Integer(1))]);
        let m = map(vec![
            ("s", Kind::String("a\"b\\c\n\u{1}".into())),
            ("i", Kind::Integer(-5)),
            ("f", Kind::Float(2.0)),
            ("b", Kind::Bool(true)),
            (
                "d",
                Kind::Duration {
                    value: Duration::from_millis(1500),
                    text: "1.5s".into(),
                },
            ),
            (
                "a",
                Kind::Array(vec![v(Kind::Integer(1)), v(Kind::Bool(false))]),
            ),
            ("m", Kind::Map(inner)),
            ("e", Kind::Map(Map::new())),
        ]);
        assert_eq!(
            to_conf_string(&m),
            "\"s\": \"a\\\"b\\\\c\\n\\x01\"\n\
             \"i\": -5\n\
             \"f\": 2.0\n\
             \"b\": true\n\
             \"d\": 1500ms\n\
             \"a\": [1, false]\n\
             \"m\": {\n  \"x\": 1\n}\n\
             \"e\": {}\n"
        );
    }
}
