//! Tests for the lexer's scanners, one token at a time.
use super::*;
use std::time::Duration;

fn value(src: &str) -> Result<ValueStart, String> {
    Lexer::new(src).value().map_err(|e| e.message)
}

fn scalar(src: &str) -> Kind {
    match value(src) {
        Ok(ValueStart::Scalar(k)) => k,
        other => panic!("{src:?} gave {other:?}"),
    }
}

#[test]
fn integers_with_size_suffixes() {
    for (src, want) in [
        ("42", 42),
        ("-7", -7),
        ("2k", 2000),
        ("2K", 2000),
        ("1kb", 1024),
        ("1Ki", 1024),
        ("1KiB", 1024),
        ("1m", 1_000_000),
        ("1MB", 1 << 20),
        ("1mib", 1 << 20),
        ("1g", 1_000_000_000),
        ("1GB", 1 << 30),
        ("1t", 1_000_000_000_000),
        ("1tb", 1 << 40),
        ("1p", 1_000_000_000_000_000),
        ("1pb", 1 << 50),
        ("1e", 1_000_000_000_000_000_000),
        ("1EB", 1 << 60),
        ("-2k", -2000),
    ] {
        assert_eq!(scalar(src), Kind::Integer(want), "{src}");
    }
}

#[test]
fn integer_ends_at_terminators() {
    for src in ["5 ", "5,", "5;", "5}", "5]", "5\n", "5\t"] {
        assert_eq!(scalar(src), Kind::Integer(5), "{src:?}");
    }
}

#[test]
fn out_of_range_integers_are_errors() {
    assert_eq!(
        value("99999999999999999999"),
        Err("integer '99999999999999999999' is out of the range".into())
    );
    assert_eq!(
        value("9EB"),
        Err("integer '9EB' is out of the range".into())
    );
}

#[test]
fn floats_ips_and_dates() {
    assert_eq!(scalar("0.5"), Kind::Float(0.5));
    assert_eq!(scalar("-1.25"), Kind::Float(-1.25));
    assert_eq!(
        scalar("127.0.0.1:4222"),
        Kind::String("127.0.0.1:4222".into())
    );
    assert_eq!(
        scalar("2024-01-02T03:04:05Z"),
        Kind::DateTime("2024-01-02T03:04:05Z".into())
    );
    assert_eq!(value(".5"), Err("Floats must start with a digit".into()));
    assert_eq!(
        value("-.5"),
        Err("Floats must start with a digit, not '.'.".into())
    );
    assert_eq!(
        value("1.x"),
        Err("Floats must have a digit after the '.', but got 'x' instead.".into())
    );
    assert_eq!(
        value("20-1"),
        Err("All ISO8601 dates must be in full Zulu form.".into())
    );
    assert_eq!(
        value("2024-01-02X"),
        Err("Expected 'T' in ISO8601 datetime, but found 'X' instead.".into())
    );
}

#[test]
fn words_starting_with_digits_are_strings_or_durations() {
    assert_eq!(scalar("12abc"), Kind::String("12abc".into()));
    assert_eq!(scalar("1.2.3"), Kind::String("1.2.3".into()));
    assert_eq!(scalar("1_000"), Kind::String("1_000".into()));
    let d = |s: &str, ms: u64| Kind::Duration {
        value: Duration::from_millis(ms),
        text: s.into(),
    };
    assert_eq!(scalar("5s"), d("5s", 5000));
    assert_eq!(scalar("500ms"), d("500ms", 500));
    assert_eq!(scalar("1h30m"), d("1h30m", 5_400_000));
    assert_eq!(scalar("1min"), Kind::String("1min".into()));
}

#[test]
fn booleans_in_any_case() {
    for (src, want) in [
        ("true", true),
        ("TRUE", true),
        ("Yes", true),
        ("on", true),
        ("false", false),
        ("nO", false),
        ("OFF", false),
    ] {
        assert_eq!(scalar(src), Kind::Bool(want), "{src}");
    }
    assert_eq!(scalar("tru"), Kind::String("tru".into()));
}

#[test]
fn bare_strings_keep_everything_up_to_a_terminator() {
    for src in [
        "agent.*",
        "director.bosh-internal",
        "/var/log/nats.log",
        "nats://h:4222",
        "a#b",
        "a//b",
        "a{b",
        "a\"b",
    ] {
        assert_eq!(scalar(src), Kind::String(src.into()), "{src}");
    }
    assert_eq!(scalar("abc def"), Kind::String("abc".into()));
    assert_eq!(scalar("a\\tb"), Kind::String("a\tb".into()));
}

#[test]
fn variables_and_bcrypt_hashes() {
    assert_eq!(value("$FOO"), Ok(ValueStart::Variable("FOO".into())));
    assert_eq!(value("$a.b"), Ok(ValueStart::Variable("a.b".into())));
    assert_eq!(scalar("$2a$11$abc"), Kind::String("$2a$11$abc".into()));
}

#[test]
fn double_quoted_escapes() {
    assert_eq!(
        scalar(r#""a\tb\nc\rd\"e\\f\x41""#),
        Kind::String("a\tb\nc\rd\"e\\fA".into())
    );
    assert_eq!(scalar(r#""$NOT_A_VAR""#), Kind::String("$NOT_A_VAR".into()));
    assert_eq!(scalar("\"two\nlines\""), Kind::String("two\nlines".into()));
    assert_eq!(
        value(r#""a\u0041""#),
        Err(
            "Invalid escape character 'u'. Only the following escape characters are \
             allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\."
                .into()
        )
    );
    assert_eq!(
        value(r#""a\x4""#),
        Err("Expected two hexadecimal digits after '\\x', but got '4\"'".into())
    );
    assert_eq!(
        value("\"a\\x4\n\""),
        Err("Expected two hexadecimal digits after '\\x', but hit end of line".into())
    );
    assert_eq!(value("\"abc"), Err("Unexpected EOF.".into()));
}

#[test]
fn bad_escape_consumes_the_rest_of_the_string() {
    let mut lx = Lexer::new(r#""x\qy, z" next"#);
    assert!(lx.value().is_err());
    assert_eq!(lx.peek(), Some(' '));
}

#[test]
fn single_quoted_is_verbatim() {
    assert_eq!(scalar(r"'a\qb $x'"), Kind::String(r"a\qb $x".into()));
    assert_eq!(value("'abc"), Err("Unexpected EOF.".into()));
}

#[test]
fn block_strings_end_at_a_lone_parenthesis() {
    assert_eq!(
        scalar("(\nline 1\n(x)\n)\n"),
        Kind::String("\nline 1\n(x)".into())
    );
    assert_eq!(
        value("(abc"),
        Err("Unexpected EOF processing block.".into())
    );
}

#[test]
fn keys() {
    let key = |s: &str, p| Lexer::new(s).key(p).map_err(|e| e.message);
    assert_eq!(key("port: 1", Place::Top), Ok(("port".into(), false)));
    assert_eq!(key("port=1", Place::Top), Ok(("port".into(), false)));
    assert_eq!(key("port 1", Place::Top), Ok(("port".into(), false)));
    assert_eq!(key("\"a b\": 1", Place::Top), Ok(("a b".into(), true)));
    assert_eq!(key("'a:b' 1", Place::Map), Ok(("a:b".into(), true)));
    assert_eq!(
        key("= 1", Place::Top),
        Err("Unexpected key separator '='".into())
    );
    assert_eq!(
        key(": 1", Place::Map),
        Err("Unexpected key separator ':'.".into())
    );
    assert_eq!(
        key("abc", Place::Map),
        Err("Unexpected EOF processing map key.".into())
    );
    assert_eq!(
        key("\"abc", Place::Map),
        Err("Unexpected EOF processing double quoted map key.".into())
    );
}

#[test]
fn include_paths() {
    let path = |s: &str| Lexer::new(s).include_path().map_err(|e| e.message);
    assert_eq!(path(" a.conf\n"), Ok("a.conf".into()));
    assert_eq!(path("\"a b.conf\""), Ok("a b.conf".into()));
    assert_eq!(path("'x.conf'"), Ok("x.conf".into()));
    assert_eq!(path("a.conf; b"), Ok("a.conf".into()));
    assert_eq!(
        path("[a]"),
        Err("Expected include value but found start of an array".into())
    );
    assert_eq!(
        path("5"),
        Err("Expected include value but found start of a number".into())
    );
    assert_eq!(
        path("\"abc"),
        Err("Unexpected EOF in double quoted include".into())
    );
}

#[test]
fn positions_count_lines_and_characters() {
    let mut lx = Lexer::new("ab\ncé\td");
    for _ in 0..6 {
        lx.bump();
    }
    assert_eq!(lx.loc(), Loc { line: 2, column: 4 });
}
