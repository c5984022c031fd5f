//! Grammar tests for the parser, run against an in-memory file system and
//! environment.
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// Files and environment variables for one test.
#[derive(Default)]
struct World {
    files: HashMap<PathBuf, String>,
    env: HashMap<String, String>,
}

impl World {
    fn file(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    fn parse(&self, path: &str) -> Result<Map, Vec<ParseError>> {
        let env = |name: &str| self.env.get(name).cloned();
        let read = |path: &Path| {
            self.files
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        };
        parse_file_with(
            Path::new(path),
            &Source {
                env: &env,
                read: &read,
            },
        )
    }
}

fn parse(text: &str) -> Result<Map, Vec<ParseError>> {
    World::default()
        .file("/etc/t.conf", text)
        .parse("/etc/t.conf")
}

fn ok(text: &str) -> Map {
    match parse(text) {
        Ok(m) => m,
        Err(errors) => panic!("{text:?} failed: {errors:#?}"),
    }
}

/// Errors as `line:col: message`.
fn errs(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(m) => panic!("{text:?} parsed: {m:#?}"),
        Err(errors) => errors
            .iter()
            .map(|e| format!("{}:{}: {}", e.pos.line, e.pos.column, e.message))
            .collect(),
    }
}

fn get<'m>(map: &'m Map, path: &str) -> &'m Value {
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let mut v = &map.get(first).unwrap_or_else(|| panic!("no {first}")).value;
    for p in parts {
        v = &v
            .as_map()
            .and_then(|m| m.get(p))
            .unwrap_or_else(|| panic!("no {p}"))
            .value;
    }
    v
}

fn int(map: &Map, path: &str) -> i64 {
    get(map, path)
        .as_i64()
        .unwrap_or_else(|| panic!("{path} not an int"))
}

fn string(map: &Map, path: &str) -> String {
    get(map, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} not a string"))
        .to_string()
}

#[test]
fn key_value_separators() {
    let m = ok("a = 1\nb: 2\nc 3\nd=4\ne:5\nf\t6");
    for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 6)] {
        assert_eq!(int(&m, k), v, "{k}");
    }
}

#[test]
fn entries_separated_by_newline_comma_or_semicolon() {
    let m = ok("a: 1; b: 2, c: 3\r\nd: 4");
    assert_eq!(m.len(), 4);
    assert_eq!(int(&m, "c"), 3);
}

#[test]
fn keys_keep_case_and_may_be_quoted() {
    let m = ok("MAX_Payload: 1\n\"quoted key\": 2\n'single': 3");
    assert_eq!(int(&m, "MAX_Payload"), 1);
    assert_eq!(int(&m, "quoted key"), 2);
    assert_eq!(int(&m, "single"), 3);
    assert!(m.get_ignore_case("max_payload").is_some());
}

#[test]
fn map_values_in_all_three_forms() {
    let m = ok("a { x: 1 }\nb = { x: 2 }\nc: { x: 3 }\nd {\n  x: 4\n}");
    for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        assert_eq!(int(&m, &format!("{k}.x")), v);
    }
}

#[test]
fn map_entries_separated_by_comma_semicolon_or_newline() {
    let m = ok("x { a: 1, b: 2; c: 3\nd: 4 }");
    assert_eq!(get(&m, "x").as_map().map(Map::len), Some(4));
}

#[test]
fn single_line_map_needs_separators() {
    assert_eq!(
        errs("authorization { publish: [\"a\"] subscribe: [\"b\"] }"),
        [
            "1:32: Expected a map value terminator \",\" or a map terminator \"}\", \
          but got 's' instead."
        ]
    );
}

#[test]
fn map_value_may_start_on_next_line() {
    let m = ok("x { a:\n  1 }");
    assert_eq!(int(&m, "x.a"), 1);
}

#[test]
fn top_level_value_may_not_start_on_next_line() {
    assert_eq!(errs("a:\n1"), ["1:3: Expected value but found new line"]);
}

#[test]
fn key_without_value_at_end_of_file() {
    assert_eq!(
        errs("port"),
        ["1:1: config is invalid: key \"port\" has no value"]
    );
}

#[test]
fn empty_value_at_end_of_file_is_an_empty_string() {
    assert_eq!(string(&ok("a:"), "a"), "");
}

#[test]
fn comments_everywhere() {
    let m = ok("# top\n// also\na: 1 # after\nb: \"x\" // after\n\
                c { # in map\n  d: 2 // after\n}\n\
                e: [ # in array\n  1, # one\n  2 // two\n]\n");
    assert_eq!(int(&m, "a"), 1);
    assert_eq!(string(&m, "b"), "x");
    assert_eq!(int(&m, "c.d"), 2);
    assert_eq!(get(&m, "e").as_array().map(<[Value]>::len), Some(2));
}

#[test]
fn comment_markers_inside_bare_words_are_text() {
    let m = ok("a: x#y\nb: c//d");
    assert_eq!(string(&m, "a"), "x#y");
    assert_eq!(string(&m, "b"), "c//d");
}

#[test]
fn arrays_with_commas_newlines_and_a_trailing_comma() {
    let m = ok("a: [1, 2, 3]\nb: [\n  1\n  2,\n  3,\n]\nc: []\nd: [ {x: 1}, [2] ]");
    for k in ["a", "b"] {
        let items: Vec<i64> = get(&m, k)
            .as_array()
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        assert_eq!(items, [1, 2, 3], "{k}");
    }
    assert_eq!(get(&m, "c").as_array().map(<[Value]>::len), Some(0));
    assert_eq!(get(&m, "d").as_array().map(<[Value]>::len), Some(2));
}

#[test]
fn array_errors() {
    assert_eq!(
        errs("a: [1,,2]"),
        ["1:7: Unexpected array value terminator ','."]
    );
    assert_eq!(
        errs("a: [1 2]"),
        [
            "1:7: Expected an array value terminator \",\" or an array terminator \"]\", \
          but got '2' instead."
        ]
    );
    assert_eq!(errs("a: [1, 2"), ["1:9: Unexpected EOF processing array."]);
}

#[test]
fn whole_file_may_be_a_json_object() {
    let m = ok(r#"{"authorization": {"users": [{"user": "a", "password": "b"}]}, "port": 4222}"#);
    assert_eq!(int(&m, "port"), 4222);
    let users = get(&m, "authorization.users")
        .as_array()
        .unwrap_or_default();
    assert_eq!(users.len(), 1);
}

#[test]
fn json_object_may_be_followed_by_entries() {
    let m = ok("{\"a\": 1}\nb: 2");
    assert_eq!(int(&m, "a"), 1);
    assert_eq!(int(&m, "b"), 2);
}

#[test]
fn scalars() {
    let m = ok("s1: \"dq\"\ns2: 'sq'\ns3: 127.0.0.1:4222\ns4: agent.*\n\
                s5: director.bosh-internal\ns6: /var/run/nats.pid\n\
                i: 1MB\nf: 0.5\nb1: yes\nb2: OFF\nd1: 5s\nd2: \"500ms\"\nq: \"1MB\"");
    assert_eq!(string(&m, "s1"), "dq");
    assert_eq!(string(&m, "s2"), "sq");
    assert_eq!(string(&m, "s3"), "127.0.0.1:4222");
    assert_eq!(string(&m, "s4"), "agent.*");
    assert_eq!(string(&m, "s5"), "director.bosh-internal");
    assert_eq!(string(&m, "s6"), "/var/run/nats.pid");
    assert_eq!(int(&m, "i"), 1 << 20);
    assert_eq!(get(&m, "f").kind, Kind::Float(0.5));
    assert_eq!(get(&m, "b1").as_bool(), Some(true));
    assert_eq!(get(&m, "b2").as_bool(), Some(false));
    assert_eq!(
        get(&m, "d1").kind,
        Kind::Duration {
            value: Duration::from_secs(5),
            text: "5s".into()
        }
    );
    assert_eq!(get(&m, "d2").kind, Kind::String("500ms".into()));
    assert_eq!(get(&m, "q").kind, Kind::String("1MB".into()));
}

#[test]
fn unquoted_2m_is_two_million_like_the_reference() {
    assert_eq!(int(&ok("a: 2m"), "a"), 2_000_000);
}

#[test]
fn duplicate_keys_later_wins_wholesale() {
    let m = ok("a { x: 1, y: 2 }\na { z: 3 }");
    let a = get(&m, "a").as_map().cloned().unwrap_or_default();
    assert_eq!(a.len(), 1);
    assert!(a.get("z").is_some());
}

#[test]
fn variables_are_defined_before_use() {
    let m = ok("P = 4333\nport: $P");
    assert_eq!(int(&m, "port"), 4333);
    assert!(m.get("P").is_some_and(|e| e.used_as_variable));
    assert!(m.get("port").is_some_and(|e| !e.used_as_variable));
    assert_eq!(
        errs("port: $P\nP = 4333"),
        ["1:7: variable reference for 'P' on line 1 can not be found"]
    );
}

#[test]
fn variable_names_are_case_sensitive_and_any_key_is_a_variable() {
    let m = ok("P = 1\np: 2\nport: $p");
    assert_eq!(int(&m, "port"), 2);
    assert!(m.get("P").is_some_and(|e| !e.used_as_variable));
}

#[test]
fn variables_are_block_scoped() {
    let m = ok("P = 1\nouter { Q = 2\n inner { a: $P, b: $Q } }");
    assert_eq!(int(&m, "outer.inner.a"), 1);
    assert_eq!(int(&m, "outer.inner.b"), 2);
    let m = ok("P = 1\nx { P = 2\n a: $P }");
    assert_eq!(int(&m, "x.a"), 2);
    assert_eq!(
        errs("x { P = 1 }\ny: $P"),
        ["2:4: variable reference for 'P' on line 2 can not be found"]
    );
}

#[test]
fn variable_values_can_be_maps_used_in_arrays() {
    let m = ok("authorization {\n PERM = { publish: \"a\" }\n users = [ {user: u, permissions: $PERM} ]\n}");
    let users = get(&m, "authorization.users")
        .as_array()
        .unwrap_or_default();
    let perms = users[0].as_map().and_then(|u| u.get("permissions"));
    assert!(perms.is_some_and(|p| p.value.as_map().is_some()));
    let auth = get(&m, "authorization")
        .as_map()
        .cloned()
        .unwrap_or_default();
    assert!(auth.get("PERM").is_some_and(|e| e.used_as_variable));
}

#[test]
fn no_expansion_in_quoted_strings() {
    let m = ok("P = 1\na: \"$P\"\nb: '$P'\nc: \"${P}\"");
    assert_eq!(string(&m, "a"), "$P");
    assert_eq!(string(&m, "b"), "$P");
    assert_eq!(string(&m, "c"), "${P}");
}

#[test]
fn bcrypt_hashes_are_not_variables() {
    let m = ok("password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
    assert!(string(&m, "password").starts_with("$2a$11$"));
}

#[test]
fn variables_fall_back_to_the_environment_parsed_as_values() {
    let w = World::default()
        .file("/t.conf", "a: $SIZE\nb: $NAME\nc: $QUOTED\nd: $MAP")
        .env("SIZE", "4k")
        .env("NAME", "bosh-internal")
        .env("QUOTED", "\"4k\"")
        .env("MAP", "{ x: 1 }");
    let m = w.parse("/t.conf").unwrap_or_default();
    assert_eq!(int(&m, "a"), 4000);
    assert_eq!(string(&m, "b"), "bosh-internal");
    assert_eq!(string(&m, "c"), "4k");
    assert_eq!(int(&m, "d.x"), 1);
    // Values from the environment are placed at the reference.
    assert_eq!(get(&m, "d.x").pos.line, 4);
}

#[test]
fn config_variables_win_over_the_environment() {
    let w = World::default()
        .file("/t.conf", "X = 1\na: $X")
        .env("X", "2");
    assert_eq!(int(&w.parse("/t.conf").unwrap_or_default(), "a"), 1);
}

#[test]
fn environment_errors_and_cycles() {
    let w = World::default()
        .file("/t.conf", "a: $BAD\nb: $LOOP\nc: $PING")
        .env("BAD", "two words")
        .env("LOOP", "$LOOP")
        .env("PING", "$PONG")
        .env("PONG", "$PING");
    let errors: Vec<String> = w
        .parse("/t.conf")
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(
        errors,
        [
            "variable reference for 'BAD' on line 1 could not be parsed: Expected a top-level \
             value to end with a new line, comment or EOF, but got 'w' instead.",
            "variable reference for 'LOOP' on line 2 could not be parsed: \
             variable reference for 'LOOP' on line 1 could not be parsed: \
             variable reference cycle for 'LOOP'",
            "variable reference for 'PING' on line 3 could not be parsed: \
             variable reference for 'PONG' on line 1 could not be parsed: \
             variable reference for 'PING' on line 1 could not be parsed: \
             variable reference cycle for 'PING'",
        ]
    );
}

#[test]
fn include_resolves_against_the_including_file() {
    let w = World::default()
        .file(
            "/etc/nats/main.conf",
            "include sub/a.conf\nport: $P\nx { include \"sub/b.conf\" }",
        )
        .file("/etc/nats/sub/a.conf", "P = 4333\ninclude 'c.conf'")
        .file("/etc/nats/sub/b.conf", "y: 2")
        .file("/etc/nats/sub/c.conf", "debug: true");
    let m = w.parse("/etc/nats/main.conf").unwrap_or_default();
    assert_eq!(int(&m, "port"), 4333);
    assert_eq!(int(&m, "x.y"), 2);
    assert_eq!(get(&m, "debug").as_bool(), Some(true));
    let p = m.get("P").map(|e| e.key_pos.clone());
    assert_eq!(
        p.map(|p| p.to_string()),
        Some("/etc/nats/sub/a.conf:1:1".into())
    );
}

#[test]
fn included_json_replaces_earlier_keys_wholesale() {
    let w = World::default()
        .file(
            "/m.conf",
            "authorization { users: [{user: a}], timeout: 2 }\ninclude auth.json",
        )
        .file(
            "/auth.json",
            r#"{"authorization": {"users": [{"user": "b"}]}}"#,
        );
    let m = w.parse("/m.conf").unwrap_or_default();
    let auth = get(&m, "authorization")
        .as_map()
        .cloned()
        .unwrap_or_default();
    assert!(auth.get("timeout").is_none());
}

#[test]
fn include_errors() {
    let w = World::default()
        .file("/a.conf", "x: 1\ninclude b.conf\ninclude missing.conf")
        .file("/b.conf", "y: 2\ninclude a.conf\nz: \"\\q\"");
    let errors: Vec<String> = w
        .parse("/a.conf")
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "/b.conf:2:1: error parsing include file 'a.conf', include cycle: \
             /a.conf -> /b.conf -> /a.conf",
            "/b.conf:3:6: Invalid escape character 'q'. Only the following escape characters \
             are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
            "/a.conf:3:1: error parsing include file 'missing.conf', \
             open /missing.conf: no such file or directory",
        ]
    );
}

#[test]
fn include_is_a_keyword_only_before_whitespace() {
    let m = ok("include: 5");
    assert_eq!(int(&m, "include"), 5);
    assert_eq!(
        errs("include [a]"),
        ["1:9: Expected include value but found start of an array"]
    );
}

#[test]
fn missing_top_file_is_reported() {
    let errors = World::default()
        .parse("/nope.conf")
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "open /nope.conf: no such file or directory"
    );
}

#[test]
fn values_and_keys_remember_positions() {
    let m = ok("a: 1\n  b {\n    c: [x, \"y\"]\n  }");
    let b = m.get("b").map(|e| (e.key_pos.line, e.key_pos.column));
    assert_eq!(b, Some((2, 3)));
    let c = get(&m, "b.c");
    assert_eq!((c.pos.line, c.pos.column), (3, 8));
    let y = &c.as_array().unwrap_or_default()[1];
    assert_eq!((y.pos.line, y.pos.column), (3, 12));
    assert_eq!(&*y.pos.file, "/etc/t.conf");
}

#[test]
fn several_errors_are_reported_at_once() {
    let text = "a: \"\\u0041\"\nb: [1 2]\nc { d: 1 e: 2 }\nf: $NOPE\ng: 1.5k\nok: 1\n";
    assert_eq!(
        errs(text),
        [
            "1:6: Invalid escape character 'u'. Only the following escape characters are \
             allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
            "2:7: Expected an array value terminator \",\" or an array terminator \"]\", \
             but got '2' instead.",
            "3:10: Expected a map value terminator \",\" or a map terminator \"}\", \
             but got 'e' instead.",
            "4:4: variable reference for 'NOPE' on line 4 can not be found",
            "5:7: Expected a top-level value to end with a new line, comment or EOF, \
             but got 'k' instead.",
        ]
    );
}

#[test]
fn recovery_resumes_at_the_next_entry_without_follow_on_errors() {
    let text =
        "a: [1 2]\nb: 2\nc { x: \"\\q, still the string\", y: 3 }\nd: [\n 1\n 2 3\n 4\n]\ne: 5";
    let e = errs(text);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].starts_with("1:7: "));
    assert!(e[1].starts_with("3:10: Invalid escape"));
    assert!(e[2].starts_with("6:4: Expected an array value terminator"));
}

#[test]
fn unterminated_things_report_one_eof() {
    assert_eq!(errs("a { b: [1, \"x"), ["1:14: Unexpected EOF."]);
    assert_eq!(errs("a {"), ["1:4: Unexpected EOF processing map."]);
}

#[test]
fn separator_where_a_key_should_be() {
    assert_eq!(errs("= 5"), ["1:1: Unexpected key separator '='"]);
    assert_eq!(errs("a { : 5 }"), ["1:5: Unexpected key separator ':'."]);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "a: {}{}",
        "[".repeat(MAX_DEPTH + 5),
        "]".repeat(MAX_DEPTH + 5)
    );
    let e = errs(&deep);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("nested deeper than"));
}

#[test]
fn normalize_removes_dots() {
    assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    assert_eq!(normalize(Path::new("../../x")), PathBuf::from("../../x"));
    assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
}
