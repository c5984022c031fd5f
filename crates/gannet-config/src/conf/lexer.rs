//! Character-level scanning of the NATS config format: a cursor that tracks
//! line and column, plus one scanner per kind of token (keys, quoted and
//! bare strings, numbers, include paths). The format is context-sensitive
//! (what ends a word depends on where it is), so the parser drives the
//! lexer and asks for the token it expects next. Error texts are the ones
//! nats-server's `conf/lex.go` prints.
use super::duration::{nanos_to_duration, parse_go_duration};
use super::scalar;
use super::value::Kind;

/// A 1-based line and column (in characters) inside one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub line: usize,
    pub column: usize,
}

/// A scanning failure, before the parser attaches the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub loc: Loc,
    pub message: String,
}

/// What a value starts with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueStart {
    /// `[` was consumed.
    Array,
    /// `{` was consumed.
    Map,
    Scalar(Kind),
    /// `$NAME` (the name without the `$`).
    Variable(String),
}

/// Where a key or value sits, for context-dependent error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Top level, or inside the `{ }` that may wrap a whole file.
    Top,
    /// Inside a map value.
    Map,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    at: usize,
    line: usize,
    column: usize,
}

/// Characters that end an unquoted value (besides end of input).
fn ends_bare(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | ',' | ';' | ']' | '}' | '\'')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// How a character is shown inside an error text.
pub(crate) fn shown(c: Option<char>) -> String {
    match c {
        None => "EOF".to_string(),
        Some('\n') => "\\n".to_string(),
        Some('\r') => "\\r".to_string(),
        Some(c) => c.to_string(),
    }
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            at: 0,
            line: 1,
            column: 1,
        }
    }

    pub fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            column: self.column,
        }
    }

    pub fn peek(&self) -> Option<char> {
        self.src[self.at..].chars().next()
    }

    /// The character after the next one.
    pub fn peek_second(&self) -> Option<char> {
        let mut it = self.src[self.at..].chars();
        it.next();
        it.next()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(&self, loc: Loc, message: impl Into<String>) -> LexError {
        LexError {
            loc,
            message: message.into(),
        }
    }

    /// Skips spaces and tabs.
    pub fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.bump();
        }
    }

    /// Skips all whitespace, newlines included.
    pub fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// True at `#` or `//`.
    pub fn at_comment(&self) -> bool {
        match self.peek() {
            Some('#') => true,
            Some('/') => self.peek_second() == Some('/'),
            _ => false,
        }
    }

    /// Skips a comment up to (not including) the end of its line.
    pub fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| !is_newline(c)) {
            self.bump();
        }
    }

    /// Skips whitespace, newlines and comments.
    pub fn skip_insignificant(&mut self) {
        loop {
            self.skip_whitespace();
            if self.at_comment() {
                self.skip_comment();
            } else {
                return;
            }
        }
    }

    /// Skips spaces, tabs and a trailing comment, stopping at the newline.
    pub fn skip_blanks_and_comment(&mut self) {
        self.skip_blanks();
        if self.at_comment() {
            self.skip_comment();
        }
    }

    /// Reads a key: quoted with `"` or `'` (taken verbatim) or bare up to
    /// whitespace, `=` or `:`. Returns the key and whether it was quoted.
    pub fn key(&mut self, place: Place) -> Result<(String, bool), LexError> {
        let start = self.loc();
        match self.peek() {
            Some(c @ ('=' | ':')) => {
                let dot = if place == Place::Map { "." } else { "" };
                Err(self.error(start, format!("Unexpected key separator '{c}'{dot}")))
            }
            Some(q @ ('"' | '\'')) => {
                self.bump();
                let from = self.at;
                loop {
                    match self.peek() {
                        Some(c) if c == q => break,
                        Some(_) => {
                            self.bump();
                        }
                        None => {
                            let message = match (place, q) {
                                (Place::Top, _) => "Unexpected EOF.",
                                (Place::Map, '"') => {
                                    "Unexpected EOF processing double quoted map key."
                                }
                                (Place::Map, _) => "Unexpected EOF processing quoted map key.",
                            };
                            return Err(self.error(self.loc(), message));
                        }
                    }
                }
                let key = self.src[from..self.at].to_string();
                self.bump();
                Ok((key, true))
            }
            _ => {
                let from = self.at;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || c == '=' || c == ':' {
                        break;
                    }
                    self.bump();
                }
                if place == Place::Map && self.peek().is_none() {
                    return Err(self.error(self.loc(), "Unexpected EOF processing map key."));
                }
                Ok((self.src[from..self.at].to_string(), false))
            }
        }
    }

    /// Reads the path after the `include` keyword (blanks already allowed
    /// before it): quoted verbatim, or bare up to whitespace, `;`, `}` or `'`.
    pub fn include_path(&mut self) -> Result<String, LexError> {
        self.skip_blanks();
        let loc = self.loc();
        let found = |what: &str| format!("Expected include value but found {what}");
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.bump();
                let from = self.at;
                while self.peek().is_some_and(|c| c != q) {
                    self.bump();
                }
                if self.peek().is_none() {
                    let which = if q == '"' { "double quoted" } else { "quoted" };
                    return Err(
                        self.error(self.loc(), format!("Unexpected EOF in {which} include"))
                    );
                }
                let path = self.src[from..self.at].to_string();
                self.bump();
                Ok(path)
            }
            Some('[') => Err(self.error(loc, found("start of an array"))),
            Some('{') => Err(self.error(loc, found("start of a map"))),
            Some('(') => Err(self.error(loc, found("start of a block"))),
            Some(c) if c.is_ascii_digit() || c == '-' => {
                Err(self.error(loc, found("start of a number")))
            }
            Some('\\') => Err(self.error(loc, found("escape sequence"))),
            Some(c) if is_newline(c) => Err(self.error(loc, found("new line"))),
            _ => {
                let from = self.at;
                while self
                    .peek()
                    .is_some_and(|c| !(c.is_whitespace() || c == ';' || c == '}' || c == '\''))
                {
                    self.bump();
                }
                Ok(self.src[from..self.at].to_string())
            }
        }
    }

    /// Reads the start of a value; blanks before it are the caller's business.
    pub fn value(&mut self) -> Result<ValueStart, LexError> {
        let loc = self.loc();
        match self.peek() {
            None => Ok(ValueStart::Scalar(Kind::String(String::new()))),
            Some(c) if is_newline(c) => Err(self.error(loc, "Expected value but found new line")),
            Some('[') => {
                self.bump();
                Ok(ValueStart::Array)
            }
            Some('{') => {
                self.bump();
                Ok(ValueStart::Map)
            }
            Some('"') => {
                self.bump();
                self.double_quoted()
                    .map(|s| ValueStart::Scalar(Kind::String(s)))
            }
            Some('\'') => {
                self.bump();
                self.single_quoted()
                    .map(|s| ValueStart::Scalar(Kind::String(s)))
            }
            Some('(') => {
                self.bump();
                self.block_string()
                    .map(|s| ValueStart::Scalar(Kind::String(s)))
            }
            Some('-') => self.negative_number(),
            Some('.') => Err(self.error(loc, "Floats must start with a digit")),
            Some(c) if c.is_ascii_digit() => self.number_like(),
            Some(_) => self.bare(String::new()),
        }
    }

    /// Appends the character an escape stands for (the `\` is consumed).
    /// On a bad escape the error is returned but scanning may go on.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), LexError> {
        let loc = self.loc();
        let c = self.bump();
        let simple = match c {
            Some('t') => Some(b'\t'),
            Some('n') => Some(b'\n'),
            Some('r') => Some(b'\r'),
            Some('"') => Some(b'"'),
            Some('\\') => Some(b'\\'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(());
        }
        match c {
            Some('x') => {
                let hex_loc = self.loc();
                let mut digits = String::new();
                for _ in 0..2 {
                    match self.peek() {
                        Some(d) if is_newline(d) => {
                            return Err(self.error(
                                hex_loc,
                                "Expected two hexadecimal digits after '\\x', but hit end of line",
                            ))
                        }
                        // A quote is shown in the error but left to end the string.
                        Some('"') => {
                            digits.push('"');
                            break;
                        }
                        Some(d) => {
                            self.bump();
                            digits.push(d);
                        }
                        None => break,
                    }
                }
                match u8::from_str_radix(&digits, 16) {
                    Ok(b) if digits.len() == 2 && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        out.push(b);
                        Ok(())
                    }
                    _ => Err(self.error(
                        hex_loc,
                        format!("Expected two hexadecimal digits after '\\x', but got '{digits}'"),
                    )),
                }
            }
            None => Err(self.error(loc, "Unexpected EOF.")),
            Some(other) => Err(self.error(
                loc,
                format!(
                    "Invalid escape character '{}'. Only the following escape characters \
                     are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
                    shown(Some(other))
                ),
            )),
        }
    }

    /// The body of a `"` string (opening quote consumed). On an error the
    /// rest of the string is still consumed so the parser resumes after it.
    fn double_quoted(&mut self) -> Result<String, LexError> {
        let mut out = Vec::new();
        let mut first_error = None;
        loop {
            match self.bump() {
                None => {
                    return Err(
                        first_error.unwrap_or_else(|| self.error(self.loc(), "Unexpected EOF."))
                    )
                }
                Some('"') => break,
                Some('\\') => {
                    if let Err(e) = self.escape(&mut out) {
                        if self.peek().is_none() {
                            return Err(first_error.unwrap_or(e));
                        }
                        first_error.get_or_insert(e);
                    }
                }
                Some(c) => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(bytes_to_string(out)),
        }
    }

    /// The body of a `'` string (opening quote consumed): verbatim.
    fn single_quoted(&mut self) -> Result<String, LexError> {
        let from = self.at;
        while self.peek().is_some_and(|c| c != '\'') {
            self.bump();
        }
        if self.peek().is_none() {
            return Err(self.error(self.loc(), "Unexpected EOF."));
        }
        let s = self.src[from..self.at].to_string();
        self.bump();
        Ok(s)
    }

    /// The body of a `( ... )` block (opening parenthesis consumed): verbatim
    /// text up to a line holding only `)`.
    fn block_string(&mut self) -> Result<String, LexError> {
        let from = self.at;
        loop {
            let rest = &self.src[self.at..];
            if let Some(after) = rest.strip_prefix("\n)") {
                if after.is_empty() || after.starts_with('\n') {
                    let s = self.src[from..self.at].to_string();
                    self.bump();
                    self.bump();
                    return Ok(s);
                }
            }
            if self.bump().is_none() {
                return Err(self.error(self.loc(), "Unexpected EOF processing block."));
            }
        }
    }

    /// An unquoted word (`prefix` already consumed): a bool, a `$variable`,
    /// a duration, or a string. Backslash escapes work as in `"` strings.
    fn bare(&mut self, prefix: String) -> Result<ValueStart, LexError> {
        let mut out = prefix.into_bytes();
        let mut escaped = false;
        let mut first_error = None;
        while let Some(c) = self.peek() {
            if ends_bare(c) {
                break;
            }
            self.bump();
            if c == '\\' {
                escaped = true;
                if let Err(e) = self.escape(&mut out) {
                    first_error.get_or_insert(e);
                }
            } else {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let text = bytes_to_string(out);
        if escaped {
            return Ok(ValueStart::Scalar(Kind::String(text)));
        }
        if let Some(b) = scalar::bool_word(&text) {
            return Ok(ValueStart::Scalar(Kind::Bool(b)));
        }
        if let Some(name) = text.strip_prefix('$') {
            // bcrypt hashes (`$2a$...`) are passwords, not variables.
            if !name.starts_with("2a$") {
                return Ok(ValueStart::Variable(name.to_string()));
            }
        }
        Ok(ValueStart::Scalar(classify_word(text)))
    }

    fn digits(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            self.bump();
            s.push(c);
        }
        s
    }

    /// After the digits and the `.`: the fraction, then either the end of a
    /// float or (on a second `.`) an IP address such as `127.0.0.1:4222`.
    fn fraction(&mut self, mut text: String) -> Result<Kind, LexError> {
        let loc = self.loc();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {}
            other => {
                return Err(self.error(
                    loc,
                    format!(
                        "Floats must have a digit after the '.', but got '{}' instead.",
                        shown(other)
                    ),
                ))
            }
        }
        text.push_str(&self.digits());
        if self.peek() == Some('.') {
            while let Some(c) = self
                .peek()
                .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '-'))
            {
                self.bump();
                text.push(c);
            }
            return Ok(Kind::String(text));
        }
        scalar::float(&text)
            .map(Kind::Float)
            .map_err(|m| self.error(loc, m))
    }

    /// After the digits and one suffix letter (`k`, `M`...): any `b`/`i`
    /// letters (`MB`, `KiB`), then the end of the value. Returns the integer,
    /// or `None` when more letters follow and the whole is a word (`1ms`).
    fn suffix(&mut self, text: &mut String, start: Loc) -> Result<Option<Kind>, LexError> {
        while let Some(c) = self.peek().filter(|c| matches!(c, 'b' | 'B' | 'i' | 'I')) {
            self.bump();
            text.push(c);
        }
        match self.peek() {
            None => {}
            Some(c) if ends_bare(c) || c.is_ascii_digit() => {}
            Some(_) => return Ok(None),
        }
        scalar::integer(text)
            .map(|i| Some(Kind::Integer(i)))
            .map_err(|m| self.error(start, m))
    }

    /// A value starting with a digit: integer (with optional size suffix),
    /// float, IP address, ISO 8601 date, or a word like `5s` or `12abc`.
    fn number_like(&mut self) -> Result<ValueStart, LexError> {
        let start = self.loc();
        let mut text = self.digits();
        match self.peek() {
            Some('-') => {
                if text.len() != 4 {
                    return Err(
                        self.error(self.loc(), "All ISO8601 dates must be in full Zulu form.")
                    );
                }
                self.bump();
                text.push('-');
                self.date(text).map(ValueStart::Scalar)
            }
            Some('.') => {
                self.bump();
                text.push('.');
                self.fraction(text).map(ValueStart::Scalar)
            }
            Some(c) if scalar::is_size_suffix(c) => {
                self.bump();
                text.push(c);
                match self.suffix(&mut text, start)? {
                    Some(kind) => Ok(ValueStart::Scalar(kind)),
                    None => self.bare(text),
                }
            }
            None => Ok(ValueStart::Scalar(self.int(&text, start)?)),
            Some(c) if ends_bare(c) => Ok(ValueStart::Scalar(self.int(&text, start)?)),
            Some(_) => self.bare(text),
        }
    }

    fn int(&self, text: &str, start: Loc) -> Result<Kind, LexError> {
        scalar::integer(text)
            .map(Kind::Integer)
            .map_err(|m| self.error(start, m))
    }

    /// `-` followed by digits: a negative integer (optionally with a size
    /// suffix) or float.
    fn negative_number(&mut self) -> Result<ValueStart, LexError> {
        let start = self.loc();
        self.bump();
        let loc = self.loc();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {}
            Some('.') => return Err(self.error(loc, "Floats must start with a digit, not '.'.")),
            other => {
                return Err(self.error(loc, format!("Expected a digit but got '{}'.", shown(other))))
            }
        }
        let mut text = format!("-{}", self.digits());
        match self.peek() {
            Some('.') => {
                self.bump();
                text.push('.');
                self.fraction(text).map(ValueStart::Scalar)
            }
            Some(c) if scalar::is_size_suffix(c) => {
                self.bump();
                text.push(c);
                match self.suffix(&mut text, start)? {
                    Some(kind) => Ok(ValueStart::Scalar(kind)),
                    None => self.bare(text),
                }
            }
            _ => Ok(ValueStart::Scalar(self.int(&text, start)?)),
        }
    }

    /// The rest of `YYYY-MM-DDTHH:MM:SSZ` after `YYYY-`.
    fn date(&mut self, mut text: String) -> Result<Kind, LexError> {
        for want in "00-00T00:00:00Z".chars() {
            let loc = self.loc();
            let got = self.peek();
            let ok = match (want, got) {
                ('0', Some(c)) => c.is_ascii_digit(),
                (w, Some(c)) => w == c,
                (_, None) => false,
            };
            if !ok {
                let message = if want == '0' {
                    format!(
                        "Expected digit in ISO8601 datetime, but found '{}' instead.",
                        shown(got)
                    )
                } else {
                    format!(
                        "Expected '{want}' in ISO8601 datetime, but found '{}' instead.",
                        shown(got)
                    )
                };
                return Err(self.error(loc, message));
            }
            self.bump();
            text.extend(got);
        }
        Ok(Kind::DateTime(text))
    }
}

/// An unquoted word that is neither bool nor variable: a duration if Go
/// would read it as one (`5s`, `1h30m`), otherwise a plain string.
fn classify_word(text: String) -> Kind {
    let is_duration = text.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && text.ends_with(|c: char| c.is_alphabetic());
    if is_duration {
        if let Some(value) = parse_go_duration(&text).ok().and_then(nanos_to_duration) {
            return Kind::Duration { value, text };
        }
    }
    Kind::String(text)
}

/// Escapes can produce bytes that are not UTF-8 on their own (`\xff`);
/// such bytes are replaced rather than rejected.
fn bytes_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests;
