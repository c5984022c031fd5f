//! Property tests: the parser (and the options layer on top) never panics,
//! whatever the input, and a tree written with [`to_conf_string`] reads
//! back as the same tree.
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn env(name: &str) -> Option<String> {
    // Short names resolve to their own text, which exercises nested
    // parsing and cycle detection (`$a` -> "a", `$$a` -> "$a" -> ...).
    (name.len() <= 3).then(|| name.to_string())
}

fn read(_: &Path) -> io::Result<String> {
    // Every file includes itself again: exercises cycle detection.
    Ok("include again.conf\nk: 1".to_string())
}

fn parse(text: &str) -> Result<Map, Vec<ParseError>> {
    parse_str_with(
        text,
        Path::new("/p/t.conf"),
        &Source {
            env: &env,
            read: &read,
        },
    )
}

fn pos() -> Pos {
    Pos::new(Arc::from("gen"), 1, 1)
}

fn scalar() -> impl Strategy<Value = Kind> {
    prop_oneof![
        any::<String>().prop_map(Kind::String),
        any::<i64>().prop_map(Kind::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Kind::Float),
        any::<bool>().prop_map(Kind::Bool),
        (0..=i64::MAX as u64).prop_map(|n| {
            let value = Duration::from_nanos(n);
            Kind::Duration {
                value,
                text: format_go_duration(value),
            }
        }),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z".prop_map(Kind::DateTime),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z_][a-zA-Z0-9_.$-]{0,10}", "[^\"]{0,12}",]
}

fn to_map(entries: Vec<(String, Value)>) -> Map {
    let mut map = Map::new();
    for (key, value) in entries {
        map.insert(Entry {
            key,
            key_pos: pos(),
            value,
            used_as_variable: false,
        });
    }
    map
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = scalar().prop_map(|k| Value::new(k, pos()));
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| Value::new(Kind::Array(items), pos())),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::new(Kind::Map(to_map(entries)), pos())),
        ]
    })
}

fn map() -> impl Strategy<Value = Map> {
    prop::collection::vec((key(), value()), 0..8).prop_map(to_map)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_config_like_text(
        text in "[ \t\r\n{}\\[\\]:=,;\"'\\\\$#/()a-zA-Z0-9._\\-]{0,300}"
    ) {
        if let Ok(map) = parse(&text) {
            let _ = crate::options::from_map(&map, Path::new("/p/t.conf"));
        }
    }

    #[test]
    fn never_panics_on_mutated_configs(
        cut in 0usize..400,
        insert in "[{}\\[\\]\"'$:,\n\\\\]{0,3}",
    ) {
        let base = "a = 1\nb { c: [1, \"x\", $a], d: 2k }\ninclude x.conf\ne: \"\\x41\"\nf: 1h30m\n";
        let cut = cut.min(base.len());
        let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
        let _ = parse(&text);
    }

    #[test]
    fn written_trees_read_back_the_same(map in map()) {
        let text = to_conf_string(&map);
        match parse(&text) {
            Ok(back) => prop_assert!(back.content_eq(&map), "text:\n{}\nback: {:#?}", text, back),
            Err(errors) => prop_assert!(false, "text:\n{}\nerrors: {:#?}", text, errors),
        }
    }
}
