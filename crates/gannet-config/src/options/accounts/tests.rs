//! Tests for `accounts { }`, `system_account` and `no_system_account`,
//! through the whole loader; expected texts are nats-server 2.15's.
use std::path::Path;

use crate::options::{
    load_str, AccountConfig, ConfigErrors, ExportConfig, ExportKind, ImportConfig, Loaded, Options,
};

const NKEY: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

fn opts(text: &str) -> Options {
    match load(text) {
        Ok(l) => l.options,
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options),
        Err(ConfigErrors(errors)) => errors.iter().map(|e| e.message.clone()).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(|w| w.message.clone()).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn account<'o>(o: &'o Options, name: &str) -> &'o AccountConfig {
    o.accounts
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

#[test]
fn accounts_with_users_nkeys_and_permissions() {
    let o = opts(&format!(
        "accounts {{\n  USERS: {{ users: [ {{user: a, password: a, permissions: {{publish: [x]}}}} ] }}\n  \
         SYS: {{ users: [ {{user: admin, password: changeit}}, {{nkey: {NKEY}}} ] }}\n}}\n\
         system_account: SYS"
    ));
    assert_eq!(o.accounts.len(), 2);
    let users = account(&o, "USERS");
    assert_eq!(users.users[0].username, "a");
    assert!(users.users[0].permissions.is_some());
    let sys = account(&o, "SYS");
    assert_eq!(sys.users[0].password.as_deref(), Some("changeit"));
    assert_eq!(sys.nkeys[0].nkey, NKEY);
    assert_eq!(o.system_account.as_deref(), Some("SYS"));
    assert!(!o.no_system_account);
    assert!(o.authorization.is_none());
}

#[test]
fn account_default_permissions_fill_users_without_their_own() {
    let o = opts("accounts { A: { default_permissions: {publish: [x]}, users: [{user: a}, {user: b, permissions: {publish: [y]}}] } }");
    let a = account(&o, "A");
    let publish = |i: usize| {
        a.users[i]
            .permissions
            .as_ref()
            .and_then(|p| p.publish.as_ref())
            .and_then(|p| p.allow.clone())
    };
    assert_eq!(publish(0), Some(vec!["x".to_string()]));
    assert_eq!(publish(1), Some(vec!["y".to_string()]));
}

#[test]
fn accounts_as_a_list_of_names() {
    let o = opts("accounts: [A, B]");
    let names: Vec<_> = o.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["A", "B"]);
    assert!(o.accounts.iter().all(|a| a.users.is_empty()));
}

#[test]
fn allow_trace_belongs_to_service_exports_and_stream_imports() {
    for (text, want) in [
        (
            "accounts { A: { exports: [ {stream: \"s.>\", allow_trace: true} ] } }",
            "Detected allow_trace directive on non-service",
        ),
        (
            "accounts { A: { exports: [ {allow_trace: true, stream: \"s.>\"} ] } }",
            "Detected allow_trace directive on non-service",
        ),
        (
            "accounts { A: { exports: [ {service: \"q\"} ] }\n\
             B: { imports: [ {service: {account: A, subject: q}, allow_trace: true} ] } }",
            "Detected allow_trace directive on a non-stream",
        ),
        (
            "accounts { A: { exports: [ {service: \"q\", allow_trace: maybe} ] } }",
            "bool",
        ),
    ] {
        let errors = errors(text);
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{text}: {errors:?}"
        );
    }
}

#[test]
fn exports_and_imports_are_parsed() {
    let o = opts(
        "accounts {\n\
         A: { exports: [ {stream: \"events.>\"}, {service: \"svc.echo\", response_type: stream, allow_trace: true},\n\
              {stream: \"private.>\", accounts: [B]} ] }\n\
         B: { imports: [ {stream: {account: A, subject: \"events.>\"}, prefix: imported, allow_trace: true},\n\
              {service: {account: A, subject: \"svc.echo\"}, to: echo},\n\
              {stream: {account: A, subject: \"private.x\"}} ] }\n}",
    );
    let a = account(&o, "A");
    assert_eq!(
        a.exports,
        [
            ExportConfig {
                kind: ExportKind::Stream,
                subject: "events.>".into(),
                accounts: None,
                response_type: None,
                allow_trace: false,
            },
            ExportConfig {
                kind: ExportKind::Service,
                subject: "svc.echo".into(),
                accounts: None,
                response_type: Some("stream".into()),
                allow_trace: true,
            },
            ExportConfig {
                kind: ExportKind::Stream,
                subject: "private.>".into(),
                accounts: Some(vec!["B".into()]),
                response_type: None,
                allow_trace: false,
            },
        ]
    );
    let b = account(&o, "B");
    assert_eq!(
        b.imports[0],
        ImportConfig {
            kind: ExportKind::Stream,
            account: "A".into(),
            subject: "events.>".into(),
            prefix: Some("imported".into()),
            to: None,
            allow_trace: true,
        }
    );
    assert!(!b.imports[2].allow_trace);
    assert_eq!(b.imports[1].kind, ExportKind::Service);
    assert_eq!(b.imports[1].to.as_deref(), Some("echo"));
    assert_eq!(b.imports.len(), 3);
}

#[test]
fn system_account_must_be_defined() {
    assert_eq!(
        errors("accounts { A: {} }\nsystem_account: NOPE"),
        ["error resolving system account: account missing"]
    );
    assert_eq!(
        errors("system_account: \"$SYS\""),
        ["error resolving system account: account missing"]
    );
    assert_eq!(
        errors("accounts { A: {} }\nsystem: NOPE"),
        ["error resolving system account: account missing"],
        "`system` is an alias"
    );
    assert_eq!(
        errors("system_account: 5"),
        ["system account name must be a string"]
    );
    assert_eq!(
        opts("accounts { S: {} }\nsystem: S")
            .system_account
            .as_deref(),
        Some("S")
    );
}

#[test]
fn no_system_account_and_its_aliases() {
    for key in [
        "no_system_account",
        "no_system",
        "no_sys_acc",
        "NO_SYSTEM_ACCOUNT",
    ] {
        assert!(opts(&format!("{key}: true")).no_system_account, "{key}");
        assert!(warnings(&format!("{key}: true")).is_empty(), "{key}");
    }
    assert_eq!(
        errors("no_system_account: 5"),
        ["invalid type for field \"no_system_account\": interface conversion: interface {} is int64, not bool"]
    );
}

#[test]
fn the_global_account_is_reserved() {
    assert_eq!(
        errors("accounts { \"$G\": { users: [{user: a}] } }"),
        ["\"$G\" is a Reserved Account"]
    );
}

#[test]
fn duplicate_users_across_accounts_and_authorization() {
    assert_eq!(
        errors("accounts { A: { users: [{user: a, password: a}] }\n B: { users: [{user: a, password: b}] } }"),
        ["Duplicate user \"a\" detected"]
    );
    let e = load("accounts { A: { users: [{user: a, password: a}] } }\nauthorization { users: [{user: a, password: b}] }")
        .err()
        .map(|e| e.0[0].to_string());
    assert_eq!(
        e.as_deref(),
        Some("t.conf:2:1: Duplicate user \"a\" detected")
    );
    assert_eq!(
        errors("accounts { A: { users: [{user: a, password: a}, {user: a, password: b}] } }"),
        ["Duplicate user \"a\" detected"]
    );
    assert_eq!(
        errors(&format!("accounts {{ A: {{ users: [{{nkey: {NKEY}}}] }}\n B: {{ users: [{{nkey: {NKEY}}}] }} }}")),
        [format!("Duplicate nkey {NKEY:?} detected")]
    );
    assert_eq!(
        errors(&format!("accounts {{ A: {{ users: [{{nkey: {NKEY}}}] }} }}\nauthorization {{ users: [{{nkey: {NKEY}}}] }}")),
        [format!("Duplicate nkey {NKEY:?} detected")]
    );
    // Different names in different places are fine.
    opts("accounts { A: { users: [{user: a}] } }\nauthorization { users: [{user: b}] }");
}

#[test]
fn account_users_exclude_single_user_and_token() {
    assert_eq!(
        errors("accounts { A: { users: [{user: a, password: a}] } }\nauthorization { user: b, password: b }"),
        ["Can not have a single user/pass and a users array"]
    );
    assert_eq!(
        errors("accounts { A: { users: [{user: a, password: a}] } }\nauthorization { token: abc }"),
        ["Can not have a token and a users array"]
    );
    // Accounts without users do not conflict.
    opts("accounts { A: {} }\nauthorization { token: abc }");
}

#[test]
fn no_auth_user_may_live_in_an_account() {
    let o = opts("accounts { A: { users: [{user: a, password: a}] } }\nno_auth_user: a");
    assert_eq!(o.no_auth_user.as_deref(), Some("a"));
    opts(&format!(
        "accounts {{ A: {{ users: [{{nkey: {NKEY}}}] }} }}\nno_auth_user: {NKEY}"
    ));
    assert_eq!(
        errors("accounts { A: { users: [{user: a, password: a}] } }\nno_auth_user: zz"),
        ["no_auth_user: \"zz\" not present as user or nkey in authorization block or account configuration"]
    );
    assert_eq!(
        errors("accounts { A: {} }\nno_auth_user: zz"),
        ["no_auth_user: \"zz\" present, but users/nkeys are not defined"]
    );
}

#[test]
fn imports_and_exports_must_name_defined_accounts() {
    assert_eq!(
        errors("accounts { A: { imports: [ {stream: {account: X, subject: foo}} ] } }"),
        ["\"X\" account not defined for stream import"]
    );
    assert_eq!(
        errors("accounts { A: { imports: [ {service: {account: X, subject: foo}, to: bar} ] } }"),
        ["\"X\" account not defined for service import"]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {stream: foo, accounts: [X]} ] } }"),
        ["\"X\" account not defined for stream export"]
    );
}

#[test]
fn imports_must_match_an_export() {
    let not_authorized = |kind: &str, subject: &str| {
        format!("Error adding {kind} import {subject:?}: {kind} import not authorized")
    };
    assert_eq!(
        errors("accounts { A: {}, B: { imports: [ {stream: {account: A, subject: foo}} ] } }"),
        [not_authorized("stream", "foo")]
    );
    assert_eq!(
        errors("accounts { A: {exports: [{stream: \"foo.bar\"}]}, B: { imports: [ {stream: {account: A, subject: \"foo.*\"}} ] } }"),
        [not_authorized("stream", "foo.*")]
    );
    assert_eq!(
        errors("accounts { A: {exports: [{stream: foo}]}, B: { imports: [ {service: {account: A, subject: foo}} ] } }"),
        [not_authorized("service", "foo")]
    );
    assert_eq!(
        errors("accounts { A: {exports: [{service: foo, accounts: [C]}]}, B: { imports: [ {service: {account: A, subject: foo}} ] }, C: {} }"),
        [not_authorized("service", "foo")]
    );
    opts("accounts { A: {exports: [{stream: \"foo.>\"}]}, B: { imports: [ {stream: {account: A, subject: \"foo.bar\"}} ] } }");
    opts("accounts { A: {exports: [{service: foo, accounts: [B]}]}, B: { imports: [ {service: {account: A, subject: foo}} ] } }");
}

#[test]
fn export_and_import_entry_errors() {
    assert_eq!(
        errors("accounts { A: { exports: [ {stream: foo, service: bar} ] } }"),
        ["Detected service \"bar\" but already saw a stream"]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {service: foo, stream: bar} ] } }"),
        ["Detected stream \"bar\" but already saw a service"]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {service: foo, response_type: bogus} ] } }"),
        ["Unknown response type: \"bogus\""]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {stream: foo, response_type: stream} ] } }"),
        ["Detected response directive on non-service"]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {stream: foo, bogus: 1} ] } }"),
        ["unknown field \"bogus\""]
    );
    assert_eq!(
        errors("accounts { A: { exports: [ {stream: foo, accounts: B} ] }, B: {} }"),
        ["interface conversion: interface {} is string, not []interface {}"]
    );
    assert_eq!(
        errors("accounts { A: { exports: 5 } }"),
        ["Exports should be an array, got int64"]
    );
    assert_eq!(
        errors("accounts { A: { imports: [ {stream: foo} ] } }"),
        ["Stream entry should be an account map, got string"]
    );
    assert_eq!(
        errors("accounts { A: {exports: [{stream: foo}]}, B: { imports: [ {stream: {subject: foo}} ] } }"),
        ["Expect an account name and a subject"]
    );
    assert_eq!(
        errors("accounts { A: {exports: [{stream: foo}]}, B: { imports: [ {stream: {account: A, subject: foo}, service: {account: A, subject: foo}} ] } }"),
        ["Detected service but already saw a stream"]
    );
    assert_eq!(
        errors("accounts { A: { bogus: 1 } }"),
        ["unknown field \"bogus\""]
    );
    assert_eq!(
        errors("accounts { A: 5 }"),
        ["Expected map entries for accounts"]
    );
    assert_eq!(
        errors("accounts { A: { users: [{user: a, bogus: 1}] } }"),
        ["unknown field \"bogus\""]
    );
    assert_eq!(
        errors("accounts { A: { users: [{nkey: UBAD}] } }"),
        ["Not a valid public nkey for a user"]
    );
}

#[test]
fn invalid_export_subjects_and_unsupported_keys_warn() {
    // nats-server accepts these; Gannet loads them with a warning.
    assert_eq!(
        warnings("accounts { A: { exports: [ {stream: \"foo..bar\"} ] } }"),
        ["\"foo..bar\" is not a valid subject and will never match"]
    );
    assert_eq!(
        warnings("accounts { A: { limits: { max_connections: 5 } } }"),
        ["accounts.A.limits is not supported yet"]
    );
    // `jetstream` is parsed now.
    assert!(warnings("accounts { A: { jetstream: enabled } }").is_empty());
    assert!(warnings("accounts { A: {} }\nsystem_account: A").is_empty());
}

#[test]
fn msg_trace_names_where_traceparent_traces_go() {
    let o = opts(
        "accounts { A { msg_trace: \"t.x\" }, B { trace_dest: { dest: t.y, sampling: \"25%\" } } }",
    );
    let a = account(&o, "A").msg_trace.clone().expect("A traces");
    assert_eq!((a.dest.as_str(), a.sampling), ("t.x", 100));
    let b = account(&o, "B").msg_trace.clone().expect("B traces");
    assert_eq!((b.dest.as_str(), b.sampling), ("t.y", 25));
}

#[test]
fn msg_trace_mistakes_are_the_references_errors() {
    let cases = [
        (
            "msg_trace: { dest: t.x, sampling: 0 }",
            "Ttrace destination sampling value 0 is invalid, needs to be [1..100]",
        ),
        (
            "msg_trace: { dest: \"bad dest\" }",
            "Trace destination \"bad dest\" is not valid",
        ),
        (
            "msg_trace: { dest: t.x, foo: 1 }",
            "Unknown field \"foo\" parsing account message trace map/struct \"msg_trace\"",
        ),
        (
            "msg_trace: 5",
            "Expected account message trace \"msg_trace\" to be a string or a map/struct, got int64",
        ),
        (
            "msg_trace: { dest: t.x, sampling: \"lots\" }",
            "Invalid trace destination sampling value \"lots\"",
        ),
    ];
    for (field, want) in cases {
        let got = errors(&format!("accounts {{ A {{ {field} }} }}"));
        assert_eq!(got, vec![want.to_string()], "{field}");
    }
    assert_eq!(
        warnings("accounts { A { trace_dest: { sampling: 20 } } }"),
        vec!["Trace destination sampling ignored since no destination was set".to_string()]
    );
}
