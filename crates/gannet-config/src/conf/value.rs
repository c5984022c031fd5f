//! The value tree a config file parses into. Every value and every map key
//! remembers where it was written ([`Pos`]), so the options layer can point
//! at the exact spot when it rejects something (nats-server's `token`).
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A place in a config file: file name as reported, 1-based line and column
/// (the column counts characters, a tab is one; nats-server counts the first
/// line's columns from 0). Line and column 0 mean "the file as a whole".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pos {
    /// The file as named by the caller or by the `include` that pulled it in.
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub fn new(file: Arc<str>, line: usize, column: usize) -> Self {
        Pos { file, line, column }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub pos: Pos,
}

/// What a value is. Strings keep their text whether they were quoted or
/// not; unquoted words that read as a Go duration (`5s`, `1h30m`) become
/// [`Kind::Duration`] but still remember their text, because nats-server
/// treats them as strings wherever a string is expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String(String),
    /// An integer, size suffixes (`1MB`, `2k`) already applied.
    Integer(i64),
    Float(f64),
    Bool(bool),
    /// An unquoted duration such as `5s` or `500ms`.
    Duration {
        value: Duration,
        text: String,
    },
    /// An unquoted ISO 8601 Zulu timestamp (`2024-01-02T03:04:05Z`), kept as text.
    DateTime(String),
    Array(Vec<Value>),
    Map(Map),
}

impl Kind {
    /// The type name nats-server prints for this kind in its conversion
    /// errors (`interface {} is string, not int64`).
    pub fn go_type_name(&self) -> &'static str {
        match self {
            Kind::String(_) | Kind::Duration { .. } => "string",
            Kind::Integer(_) => "int64",
            Kind::Float(_) => "float64",
            Kind::Bool(_) => "bool",
            Kind::DateTime(_) => "time.Time",
            Kind::Array(_) => "[]interface {}",
            Kind::Map(_) => "map[string]interface {}",
        }
    }
}

impl Value {
    pub fn new(kind: Kind, pos: Pos) -> Self {
        Value { kind, pos }
    }

    /// The text of a string, including an unquoted duration's text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) | Kind::Duration { text: s, .. } => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.kind {
            Kind::Integer(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Compares what the values say, ignoring where they were written.
    pub fn content_eq(&self, other: &Value) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Array(a), Kind::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.content_eq(y))
            }
            (Kind::Map(a), Kind::Map(b)) => a.content_eq(b),
            (Kind::Duration { value: a, .. }, Kind::Duration { value: b, .. }) => a == b,
            (a, b) => a == b,
        }
    }

    /// Moves this value and everything inside it to `pos` (used for values
    /// that came from an environment variable, which have no file of their own).
    pub(crate) fn relocate(&mut self, pos: &Pos) {
        self.pos = pos.clone();
        match &mut self.kind {
            Kind::Array(items) => items.iter_mut().for_each(|v| v.relocate(pos)),
            Kind::Map(map) => {
                for e in &mut map.entries {
                    e.key_pos = pos.clone();
                    e.value.relocate(pos);
                }
            }
            _ => {}
        }
    }
}

/// One `key: value` of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written (case kept; the options layer compares it case-insensitively).
    pub key: String,
    /// Where the key starts; nats-server reports problems with a value here.
    pub key_pos: Pos,
    pub value: Value,
    /// Set when some `$key` referenced this entry: such an entry is a variable
    /// and is not reported as an unknown field.
    pub used_as_variable: bool,
}

/// A map in the order its keys were written. Keys are unique (compared
/// exactly): a repeated key replaces the earlier entry wholesale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map {
    entries: Vec<Entry>,
}

impl Map {
    pub fn new() -> Self {
        Map::default()
    }

    /// Adds an entry; an entry with the same key is removed first, so the
    /// later definition wins and sits where it was written.
    pub fn insert(&mut self, entry: Entry) {
        self.entries.retain(|e| e.key != entry.key);
        self.entries.push(entry);
    }

    /// The entry with exactly this key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The last entry whose key matches ignoring ASCII case.
    pub fn get_ignore_case(&self, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Compares keys and values in order, ignoring positions and variable use.
    pub fn content_eq(&self, other: &Map) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.key == b.key && a.value.content_eq(&b.value))
    }
}

impl IntoIterator for Map {
    type Item = Entry;
    type IntoIter = std::vec::IntoIter<Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize) -> Pos {
        Pos::new(Arc::from("f.conf"), line, 1)
    }

    fn entry(key: &str, v: i64, line: usize) -> Entry {
        Entry {
            key: key.into(),
            key_pos: pos(line),
            value: Value::new(Kind::Integer(v), pos(line)),
            used_as_variable: false,
        }
    }

    #[test]
    fn later_key_replaces_earlier_and_moves_to_its_place() {
        let mut m = Map::new();
        m.insert(entry("a", 1, 1));
        m.insert(entry("b", 2, 2));
        m.insert(entry("a", 3, 3));
        let keys: Vec<_> = m.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(m.get("a").and_then(|e| e.value.as_i64()), Some(3));
    }

    #[test]
    fn keys_differing_in_case_are_distinct_but_found_ignoring_case() {
        let mut m = Map::new();
        m.insert(entry("port", 1, 1));
        m.insert(entry("PORT", 2, 2));
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.get_ignore_case("Port").and_then(|e| e.value.as_i64()),
            Some(2)
        );
    }

    #[test]
    fn content_eq_ignores_positions() {
        let a = Value::new(Kind::Integer(1), pos(1));
        let b = Value::new(Kind::Integer(1), pos(9));
        assert!(a.content_eq(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn go_type_names_match_the_reference_wording() {
        assert_eq!(Kind::String(String::new()).go_type_name(), "string");
        assert_eq!(Kind::Integer(0).go_type_name(), "int64");
        assert_eq!(
            Kind::Map(Map::new()).go_type_name(),
            "map[string]interface {}"
        );
        assert_eq!(Kind::Array(vec![]).go_type_name(), "[]interface {}");
    }
}
