//! Builds the value tree from the lexer's tokens: entries and their
//! separators, maps, arrays, block-scoped variables with the environment as
//! fallback, and `include`. Errors are collected rather than fatal: after
//! one, the parser skips to the next entry or element and carries on.
//! (nats-server's `conf/parse.go` stops at the first error.)
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::error::ParseError;
use super::lexer::{shown, LexError, Lexer, Loc, Place, ValueStart};
use super::value::{Entry, Kind, Map, Pos, Value};

/// Deepest nesting of maps and arrays accepted, so hostile input cannot
/// exhaust the stack.
pub const MAX_DEPTH: usize = 128;

/// Deepest chain of includes accepted (cycles are caught earlier; this
/// stops chains that never repeat a path, e.g. through a symlinked folder).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// The key an environment variable's text is parsed under.
const ENV_KEY: &str = "pk";

/// How the parser reaches the outside world: environment variables for
/// `$NAME` fallbacks and files for `include`. Tests substitute both.
pub struct Source<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub read: &'a dyn Fn(&Path) -> io::Result<String>,
}

fn system_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn system_read(path: &Path) -> io::Result<String> {
    std::fs::read_to_string(path)
}

impl Source<'static> {
    /// The process environment and the file system.
    pub fn system() -> Self {
        Source {
            env: &system_env,
            read: &system_read,
        }
    }
}

/// Parses config text read from `origin` (the name errors report, and the
/// folder includes resolve against), using the process environment and
/// file system.
pub fn parse_str(text: &str, origin: &Path) -> Result<Map, Vec<ParseError>> {
    parse_str_with(text, origin, &Source::system())
}

/// Reads and parses a config file.
pub fn parse_file(path: &Path) -> Result<Map, Vec<ParseError>> {
    parse_file_with(path, &Source::system())
}

/// [`parse_file`] with an explicit environment and file system.
pub fn parse_file_with(path: &Path, source: &Source<'_>) -> Result<Map, Vec<ParseError>> {
    match (source.read)(path) {
        Ok(text) => parse_str_with(&text, path, source),
        Err(e) => {
            let name = path.display().to_string();
            Err(vec![ParseError {
                message: format!("open {name}: {}", io_text(&e)),
                pos: Pos::new(Arc::from(name), 0, 0),
            }])
        }
    }
}

/// [`parse_str`] with an explicit environment and file system.
pub fn parse_str_with(
    text: &str,
    origin: &Path,
    source: &Source<'_>,
) -> Result<Map, Vec<ParseError>> {
    let name = origin.display().to_string();
    let mut shared = Shared {
        source,
        files: vec![(normalize(origin), name.clone())],
        env_refs: Vec::new(),
    };
    let (map, errors) = parse_text(&mut shared, text, Arc::from(name), dir_of(origin));
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// The io error texts nats-server shows (Go's), where they differ from Rust's.
fn io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

fn dir_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Removes `.` and `name/..` without touching the file system, so the same
/// file reached twice gives the same path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// State shared by a file, the files it includes and the environment
/// values it expands.
struct Shared<'s> {
    source: &'s Source<'s>,
    /// Files being parsed, outermost first: normalized path and reported name.
    files: Vec<(PathBuf, String)>,
    /// Environment variables being expanded, innermost last.
    env_refs: Vec<String>,
}

/// What encloses the entries being read; decides separators and error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    /// A `{ }` around top-level entries (a JSON document).
    Block,
    Map,
}

/// The failure of one entry or element; its error has already been recorded.
struct Failed;

fn parse_text(
    shared: &mut Shared<'_>,
    text: &str,
    file: Arc<str>,
    dir: PathBuf,
) -> (Map, Vec<ParseError>) {
    let mut parser = Parser {
        lx: Lexer::new(text),
        file,
        dir,
        shared,
        scopes: vec![Map::new()],
        errors: Vec::new(),
        depth: 0,
        eof_reported: false,
    };
    parser.entries(Ctx::Top);
    let map = parser.scopes.pop().unwrap_or_default();
    (map, parser.errors)
}

struct Parser<'t, 'c, 's> {
    lx: Lexer<'t>,
    file: Arc<str>,
    /// Folder that includes in this text resolve against.
    dir: PathBuf,
    shared: &'c mut Shared<'s>,
    /// Maps being built, outermost first: where entries go and where
    /// variables are looked up.
    scopes: Vec<Map>,
    errors: Vec<ParseError>,
    /// Maps and arrays currently open.
    depth: usize,
    /// Only the first "Unexpected EOF" is worth reporting.
    eof_reported: bool,
}

impl Parser<'_, '_, '_> {
    fn pos(&self, loc: Loc) -> Pos {
        Pos::new(self.file.clone(), loc.line, loc.column)
    }

    fn error(&mut self, loc: Loc, message: impl Into<String>) -> Failed {
        let message = message.into();
        if message.starts_with("Unexpected EOF") {
            if self.eof_reported {
                return Failed;
            }
            self.eof_reported = true;
        }
        self.errors.push(ParseError {
            pos: self.pos(loc),
            message,
        });
        Failed
    }

    fn lex_error(&mut self, e: LexError) -> Failed {
        self.error(e.loc, e.message)
    }

    fn define(&mut self, key: String, key_pos: Pos, value: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(Entry {
                key,
                key_pos,
                value,
                used_as_variable: false,
            });
        }
    }

    /// Opens one more map or array level, unless that is too deep.
    fn enter(&mut self, loc: Loc) -> Result<(), Failed> {
        if self.depth >= MAX_DEPTH {
            self.skip_balanced();
            return Err(self.error(
                loc,
                format!("maps and arrays nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Reads entries into the innermost scope until the end of the text
    /// (top level) or the closing `}`.
    fn entries(&mut self, ctx: Ctx) {
        loop {
            self.lx.skip_insignificant();
            let loc = self.lx.loc();
            match self.lx.peek() {
                None => {
                    match ctx {
                        Ctx::Top => {}
                        Ctx::Block => {
                            self.error(loc, "Unexpected EOF.");
                        }
                        Ctx::Map => {
                            self.error(loc, "Unexpected EOF processing map.");
                        }
                    }
                    return;
                }
                Some('}') if ctx != Ctx::Top => {
                    self.lx.bump();
                    return;
                }
                Some('{') if ctx != Ctx::Map => {
                    self.lx.bump();
                    if self.enter(loc).is_ok() {
                        self.entries(Ctx::Block);
                        self.depth -= 1;
                    }
                    continue;
                }
                Some(']') if ctx == Ctx::Map => {
                    self.error(loc, "Unexpected array end ']' processing map.");
                    self.lx.bump();
                    self.recover(ctx);
                    continue;
                }
                _ => {}
            }
            match self.entry(ctx) {
                Ok(()) => self.entry_end(ctx),
                Err(Failed) => self.recover(ctx),
            }
        }
    }

    /// One `key <sep> value` or `include <path>`.
    fn entry(&mut self, ctx: Ctx) -> Result<(), Failed> {
        let place = if ctx == Ctx::Map {
            Place::Map
        } else {
            Place::Top
        };
        let key_loc = self.lx.loc();
        let (key, quoted) = self.lx.key(place).map_err(|e| self.lex_error(e))?;
        if !quoted
            && key.eq_ignore_ascii_case("include")
            && self.lx.peek().is_some_and(char::is_whitespace)
        {
            return self.include(key_loc);
        }
        self.lx.skip_whitespace();
        if self.lx.peek().is_none() {
            return Err(match ctx {
                Ctx::Map => self.error(self.lx.loc(), "Unexpected EOF processing map."),
                _ => self.error(
                    key_loc,
                    format!("config is invalid: key \"{key}\" has no value"),
                ),
            });
        }
        if matches!(self.lx.peek(), Some('=' | ':')) {
            self.lx.bump();
        }
        if ctx == Ctx::Map {
            // Inside maps a value may start on the next line.
            self.lx.skip_whitespace();
            let loc = self.lx.loc();
            match self.lx.peek() {
                Some(',') => return Err(self.error(loc, "Unexpected map value terminator \",\".")),
                Some('}') => {
                    return Err(self.error(
                        loc,
                        format!("Expected a value for key \"{key}\", but got '}}' instead."),
                    ))
                }
                None => return Err(self.error(loc, "Unexpected EOF processing map.")),
                _ => {}
            }
        } else {
            self.lx.skip_blanks();
            if matches!(self.lx.peek(), Some('\n' | '\r')) {
                // An error here, but the value is most likely on the next
                // line: read it there rather than as a new key.
                self.error(self.lx.loc(), "Expected value but found new line");
                self.lx.skip_whitespace();
            }
        }
        let value = self.value()?;
        let key_pos = self.pos(key_loc);
        self.define(key, key_pos, value);
        Ok(())
    }

    /// After an entry: blanks, maybe a comment, then a separator (newline,
    /// `,`, `;`) or the end of the enclosing block.
    fn entry_end(&mut self, ctx: Ctx) {
        self.lx.skip_blanks_and_comment();
        let loc = self.lx.loc();
        match self.lx.peek() {
            None => {}
            Some('\n' | '\r' | ',' | ';') => {
                self.lx.bump();
            }
            Some('}') => {
                // nats-server also takes a stray `}` at top level as a separator.
                if ctx == Ctx::Top {
                    self.lx.bump();
                }
            }
            other => {
                let got = shown(other);
                let message = match ctx {
                    Ctx::Top => format!(
                        "Expected a top-level value to end with a new line, comment or EOF, \
                         but got '{got}' instead."
                    ),
                    Ctx::Block => format!(
                        "Expected a block-level value to end with a new line, comment or EOF, \
                         but got '{got}' instead."
                    ),
                    Ctx::Map => format!(
                        "Expected a map value terminator \",\" or a map terminator \"}}\", \
                         but got '{got}' instead."
                    ),
                };
                self.error(loc, message);
                self.recover(ctx);
            }
        }
    }

    fn value(&mut self) -> Result<Value, Failed> {
        let loc = self.lx.loc();
        let start = self.lx.value().map_err(|e| self.lex_error(e))?;
        match start {
            ValueStart::Scalar(kind) => Ok(Value::new(kind, self.pos(loc))),
            ValueStart::Array => self.array(loc),
            ValueStart::Map => self.map(loc),
            ValueStart::Variable(name) => self.variable(&name, loc),
        }
    }

    /// A `{ ... }` value (the `{` is consumed). Its entries are a new scope.
    fn map(&mut self, loc: Loc) -> Result<Value, Failed> {
        self.enter(loc)?;
        self.scopes.push(Map::new());
        self.entries(Ctx::Map);
        let map = self.scopes.pop().unwrap_or_default();
        self.depth -= 1;
        Ok(Value::new(Kind::Map(map), self.pos(loc)))
    }

    /// A `[ ... ]` value (the `[` is consumed): elements separated by `,` or
    /// newlines, a trailing `,` allowed.
    fn array(&mut self, loc: Loc) -> Result<Value, Failed> {
        self.enter(loc)?;
        let mut items = Vec::new();
        loop {
            self.lx.skip_insignificant();
            let here = self.lx.loc();
            match self.lx.peek() {
                None => {
                    self.error(here, "Unexpected EOF processing array.");
                    break;
                }
                Some(']') => {
                    self.lx.bump();
                    break;
                }
                Some(',') => {
                    self.error(here, "Unexpected array value terminator ','.");
                    self.lx.bump();
                    continue;
                }
                _ => {}
            }
            match self.value() {
                Ok(v) => {
                    items.push(v);
                    if self.array_value_end().is_err() {
                        self.skip_to(&[',', '\n', '\r'], Some(']'));
                    }
                }
                Err(Failed) => self.skip_to(&[',', '\n', '\r'], Some(']')),
            }
        }
        self.depth -= 1;
        Ok(Value::new(Kind::Array(items), self.pos(loc)))
    }

    fn array_value_end(&mut self) -> Result<(), Failed> {
        self.lx.skip_blanks_and_comment();
        let loc = self.lx.loc();
        match self.lx.peek() {
            Some(',' | '\n' | '\r') => {
                self.lx.bump();
                Ok(())
            }
            Some(']') | None => Ok(()),
            other => Err(self.error(
                loc,
                format!(
                    "Expected an array value terminator \",\" or an array terminator \"]\", \
                     but got '{}' instead.",
                    shown(other)
                ),
            )),
        }
    }

    /// `$name`: the nearest enclosing map's entry of that name (marked as
    /// used), else the environment variable, parsed as a config value.
    fn variable(&mut self, name: &str, loc: Loc) -> Result<Value, Failed> {
        let pos = self.pos(loc);
        for scope in self.scopes.iter_mut().rev() {
            if let Some(entry) = scope.get_mut(name) {
                entry.used_as_variable = true;
                let mut value = entry.value.clone();
                value.pos = pos;
                return Ok(value);
            }
        }
        let line = loc.line;
        if self.shared.env_refs.iter().any(|n| n == name) {
            return Err(self.error(
                loc,
                format!(
                    "variable reference for '{name}' on line {line} could not be parsed: \
                     variable reference cycle for '{name}'"
                ),
            ));
        }
        let Some(text) = (self.shared.source.env)(name) else {
            return Err(self.error(
                loc,
                format!("variable reference for '{name}' on line {line} can not be found"),
            ));
        };
        self.shared.env_refs.push(name.to_string());
        let doc = format!("{ENV_KEY}={text}");
        let (map, errors) = parse_text(self.shared, &doc, self.file.clone(), self.dir.clone());
        self.shared.env_refs.pop();
        if let Some(first) = errors.into_iter().next() {
            return Err(self.error(
                loc,
                format!(
                    "variable reference for '{name}' on line {line} could not be parsed: {}",
                    first.message
                ),
            ));
        }
        match map.get(ENV_KEY) {
            Some(entry) => {
                let mut value = entry.value.clone();
                value.relocate(&pos);
                Ok(value)
            }
            None => Err(self.error(
                loc,
                format!("variable reference for '{name}' on line {line} can not be found"),
            )),
        }
    }

    /// `include <path>`: parses the file (relative to this text's folder)
    /// and adds its top-level entries to the current map.
    fn include(&mut self, loc: Loc) -> Result<(), Failed> {
        let path = self.lx.include_path().map_err(|e| self.lex_error(e))?;
        let target = self.dir.join(&path);
        let name = target.display().to_string();
        let key = normalize(&target);
        let failed = |reason: String| format!("error parsing include file '{path}', {reason}");
        if let Some(i) = self.shared.files.iter().position(|(p, _)| *p == key) {
            let chain: Vec<&str> = self.shared.files[i..]
                .iter()
                .map(|(_, n)| n.as_str())
                .chain([name.as_str()])
                .collect();
            let message = failed(format!("include cycle: {}", chain.join(" -> ")));
            self.error(loc, message);
            return Ok(());
        }
        if self.shared.files.len() >= MAX_INCLUDE_DEPTH {
            let message = failed(format!(
                "includes nested deeper than {MAX_INCLUDE_DEPTH} files"
            ));
            self.error(loc, message);
            return Ok(());
        }
        let text = match (self.shared.source.read)(&target) {
            Ok(text) => text,
            Err(e) => {
                let message = failed(format!("open {name}: {}", io_text(&e)));
                self.error(loc, message);
                return Ok(());
            }
        };
        self.shared.files.push((key, name.clone()));
        let (map, errors) = parse_text(self.shared, &text, Arc::from(name), dir_of(&target));
        self.shared.files.pop();
        self.errors.extend(errors);
        if let Some(scope) = self.scopes.last_mut() {
            for entry in map {
                scope.insert(entry);
            }
        }
        Ok(())
    }

    /// After an error: skips to just past the next `stops` character, or to
    /// the `closer` (left for the caller), outside any brackets or quotes
    /// that start on the way.
    fn skip_to(&mut self, stops: &[char], closer: Option<char>) {
        let mut depth = 0usize;
        while let Some(c) = self.lx.peek() {
            if depth == 0 && Some(c) == closer {
                return;
            }
            match c {
                '"' | '\'' => {
                    self.skip_quoted(c);
                    continue;
                }
                _ if self.lx.at_comment() => {
                    self.lx.skip_comment();
                    continue;
                }
                '{' | '[' => depth += 1,
                '}' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.lx.bump();
            if depth == 0 && stops.contains(&c) {
                return;
            }
        }
    }

    /// Skips an entry that failed, up to the next separator or the end of
    /// the enclosing map.
    fn recover(&mut self, ctx: Ctx) {
        let closer = if ctx == Ctx::Top { None } else { Some('}') };
        self.skip_to(&['\n', '\r', ',', ';'], closer);
    }

    /// Skips a quoted string during recovery, stopping at its line's end.
    fn skip_quoted(&mut self, quote: char) {
        self.lx.bump();
        while let Some(c) = self.lx.peek() {
            if c == '\n' || c == '\r' {
                return;
            }
            self.lx.bump();
            if c == quote {
                return;
            }
            if c == '\\' && quote == '"' {
                self.lx.bump();
            }
        }
    }

    /// Skips the rest of a map or array whose opening bracket was just
    /// consumed, nested ones included.
    fn skip_balanced(&mut self) {
        let mut depth = 1usize;
        while let Some(c) = self.lx.peek() {
            match c {
                '"' | '\'' => {
                    self.skip_quoted(c);
                    continue;
                }
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                _ => {}
            }
            self.lx.bump();
            if depth == 0 {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
