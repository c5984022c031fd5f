//! Checks across the security keys once the whole file is read: the BOSH
//! fork's rules tying `certificate_clients` to `tls` (from the fork's
//! `opts.go`, cloudfoundry/gnatsd branch `bosh-1.3.0`), `no_auth_user`
//! (nats-server's `validateNoAuthUser`; its user may live in an account),
//! the `accounts` rules in [`super::accounts`], and the effective auth timeout
//! (nats-server's `getDefaultAuthTimeout`).
//!
//! The fork's rules: `certificate_clients` needs
//! `tls.enable_cert_authorization: true`; that needs `tls.verify` (or
//! `verify_and_map`) and `certificate_clients`; `allow_legacy_clients` needs
//! `enable_cert_authorization`; certificate clients cannot be combined with
//! a `users` array, nor with a single `user` unless `allow_legacy_clients`
//! lets plain-text clients log in with it.
use std::time::Duration;

use super::accounts::{self, AccountMarks};
use super::auth::AuthMarks;
use super::convert::Report;
use super::tls::TlsMarks;
use super::{Options, TlsOptions, DEFAULT_AUTH_TIMEOUT};
use crate::conf::Pos;

/// Positions recorded while the security keys were applied.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecurityMarks {
    pub tls: TlsMarks,
    pub auth: AuthMarks,
    /// The `no_auth_user` key.
    pub no_auth_user: Option<Pos>,
    pub accounts: AccountMarks,
    /// The `system_account` key.
    pub system_account: Option<Pos>,
}

/// The auth timeout when `authorization { timeout }` does not set one: 2 s,
/// or the TLS handshake timeout plus 1 s when TLS is configured. For
/// callers that change `tls` after loading (command-line flags).
pub fn default_auth_timeout(tls: Option<&TlsOptions>) -> Duration {
    match tls {
        Some(t) => t.timeout + Duration::from_secs(1),
        None => DEFAULT_AUTH_TIMEOUT,
    }
}

/// Sets [`Options::auth_timeout`] and reports every cross-block problem.
pub(crate) fn check(o: &mut Options, marks: &SecurityMarks, r: &mut Report) {
    let configured = o.authorization.as_ref().and_then(|a| a.timeout);
    o.auth_timeout = configured.unwrap_or_else(|| default_auth_timeout(o.tls.as_ref()));
    check_bosh_fork(o, marks, r);
    check_no_auth_user(o, marks, r);
    accounts::check(o, marks, r);
}

fn check_bosh_fork(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    // A block with errors of its own would only add noise here.
    let tls_broken = marks.tls.block.is_some() && !marks.tls.clean;
    let auth_broken = marks.auth.block.is_some() && !marks.auth.clean;
    if tls_broken || auth_broken {
        return;
    }
    let tls = o.tls.as_ref();
    let cert_auth = tls.is_some_and(|t| t.enable_cert_authorization);
    let clients = marks.auth.certificate_clients.as_ref();
    if let (Some(t), Some(at)) = (tls, &marks.tls.enable_cert_authorization) {
        if t.enable_cert_authorization && !t.verify && !t.verify_and_map {
            r.error_at(
                at,
                "TLS 'verify' must be enabled to use 'enable_cert_authorization'",
            );
        }
        if t.enable_cert_authorization && clients.is_none() {
            r.error_at(
                at,
                "'certificate_clients' must be defined when 'enable_cert_authorization' is true",
            );
        }
    }
    if let (Some(t), Some(at)) = (tls, &marks.tls.allow_legacy_clients) {
        if t.allow_legacy_clients && !t.enable_cert_authorization {
            r.error_at(
                at,
                "TLS 'enable_cert_authorization' must be enabled to use 'allow_legacy_clients'",
            );
        }
    }
    let Some(clients_at) = clients else { return };
    if !cert_auth {
        r.error_at(
            clients_at,
            "TLS 'enable_cert_authorization' must be enabled to use 'certificate_clients'",
        );
        return;
    }
    if let Some(at) = &marks.auth.users {
        r.error_at(
            at,
            "Can not have 'users' and 'certificate_clients' defined at the same time",
        );
    }
    let legacy = tls.is_some_and(|t| t.allow_legacy_clients);
    if let (Some(at), false) = (&marks.auth.user, legacy) {
        r.error_at(
            at,
            "Can not have 'user' and 'certificate_clients' defined at the same time \
             (unless tls 'allow_legacy_clients' is true)",
        );
    }
}

fn check_no_auth_user(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    let (Some(name), Some(at)) = (&o.no_auth_user, &marks.no_auth_user) else {
        return;
    };
    if marks.auth.block.is_some() && !marks.auth.clean {
        return;
    }
    if marks.accounts.block.is_some() && !marks.accounts.clean {
        return;
    }
    // The authorization block's users and every account's.
    let lists: Vec<_> = o
        .authorization
        .iter()
        .map(|a| (&a.users, &a.nkeys))
        .chain(o.accounts.iter().map(|a| (&a.users, &a.nkeys)))
        .collect();
    let users = lists.iter().flat_map(|(u, _)| u.iter());
    let nkeys = lists.iter().flat_map(|(_, n)| n.iter());
    if users.clone().next().is_none() && nkeys.clone().next().is_none() {
        r.error_at(
            at,
            format!("no_auth_user: {name:?} present, but users/nkeys are not defined"),
        );
    } else if !users.clone().any(|u| &u.username == name) && !nkeys.clone().any(|n| &n.nkey == name)
    {
        r.error_at(
            at,
            format!(
                "no_auth_user: {name:?} not present as user or nkey in authorization block or \
                 account configuration"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::options::{load_str, ConfigErrors, Loaded, Options};

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
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    const TLS: &str = "cert_file: c.pem, key_file: k.pem, ca_file: ca.pem";
    const CLIENTS: &str = "certificate_clients: [ {client_name: director.bosh-internal} ]";

    #[test]
    fn auth_timeout_defaults() {
        assert_eq!(opts("").auth_timeout, Duration::from_secs(2));
        assert_eq!(
            opts(&format!("tls {{ {TLS} }}")).auth_timeout,
            Duration::from_secs(3),
            "tls timeout 2 s + 1 s"
        );
        assert_eq!(
            opts(&format!("tls {{ {TLS}, timeout: 30 }}")).auth_timeout,
            Duration::from_secs(31)
        );
        assert_eq!(
            opts(&format!("tls {{ {TLS}, timeout: 0.5 }}")).auth_timeout,
            Duration::from_millis(1500)
        );
        let o = opts(&format!(
            "authorization {{ timeout: 10 }}\ntls {{ {TLS}, timeout: 30 }}"
        ));
        assert_eq!(o.auth_timeout, Duration::from_secs(10));
        assert_eq!(
            opts("authorization { timeout: \"1.5s\" }").auth_timeout,
            Duration::from_millis(1500)
        );
        assert_eq!(
            opts("authorization { timeout: 0 }").auth_timeout,
            Duration::from_secs(2),
            "zero means the default"
        );
        assert_eq!(
            super::default_auth_timeout(None),
            crate::options::DEFAULT_AUTH_TIMEOUT
        );
    }

    #[test]
    fn certificate_clients_need_enable_cert_authorization() {
        assert_eq!(
            errors(&format!("authorization {{\n  {CLIENTS}\n}}")),
            [
                "t.conf:2:3: TLS 'enable_cert_authorization' must be enabled to use \
              'certificate_clients'"
            ]
        );
        assert_eq!(
            errors(&format!(
                "authorization {{\n  {CLIENTS}\n}}\ntls {{ {TLS}, verify: true }}"
            )),
            [
                "t.conf:2:3: TLS 'enable_cert_authorization' must be enabled to use \
              'certificate_clients'"
            ]
        );
        // Even an empty list counts as defined.
        assert_eq!(
            errors("authorization { certificate_clients: [] }"),
            [
                "t.conf:1:17: TLS 'enable_cert_authorization' must be enabled to use \
              'certificate_clients'"
            ]
        );
    }

    #[test]
    fn enable_cert_authorization_needs_verify_and_certificate_clients() {
        assert_eq!(
            errors(&format!(
                "authorization {{ {CLIENTS} }}\ntls {{\n  {TLS}\n  enable_cert_authorization: true\n}}"
            )),
            ["t.conf:4:3: TLS 'verify' must be enabled to use 'enable_cert_authorization'"]
        );
        assert_eq!(
            errors(&format!(
                "tls {{\n  {TLS}, verify: true\n  enable_cert_authorization: true\n}}"
            )),
            ["t.conf:3:3: 'certificate_clients' must be defined when \
              'enable_cert_authorization' is true"]
        );
        // verify_and_map counts as verify.
        let o = opts(&format!(
            "authorization {{ {CLIENTS} }}\n\
             tls {{ {TLS}, verify_and_map: true, enable_cert_authorization: true }}"
        ));
        assert!(o
            .tls
            .is_some_and(|t| t.enable_cert_authorization && t.verify));
        // Set to false it asks for nothing.
        opts(&format!(
            "tls {{ {TLS}, enable_cert_authorization: false }}"
        ));
    }

    #[test]
    fn allow_legacy_clients_needs_enable_cert_authorization() {
        assert_eq!(
            errors(&format!("tls {{ {TLS}\n allow_legacy_clients: true }}")),
            [
                "t.conf:2:2: TLS 'enable_cert_authorization' must be enabled to use \
              'allow_legacy_clients'"
            ]
        );
        opts(&format!("tls {{ {TLS}\n allow_legacy_clients: false }}"));
    }

    #[test]
    fn certificate_clients_exclude_users_and_single_user() {
        let tls = format!("tls {{ {TLS}, verify: true, enable_cert_authorization: true }}");
        assert_eq!(
            errors(&format!(
                "authorization {{\n {CLIENTS}\n users: [ {{user: a, password: b}} ]\n}}\n{tls}"
            )),
            ["t.conf:3:2: Can not have 'users' and 'certificate_clients' defined at the same time"]
        );
        assert_eq!(
            errors(&format!(
                "authorization {{\n {CLIENTS}\n user: a\n password: b\n}}\n{tls}"
            )),
            [
                "t.conf:3:2: Can not have 'user' and 'certificate_clients' defined at the same \
              time (unless tls 'allow_legacy_clients' is true)"
            ]
        );
        // allow_legacy_clients lets the single user in (plain-text clients
        // log in with it), but never a users array.
        let legacy = format!(
            "tls {{ {TLS}, verify: true, enable_cert_authorization: true, \
             allow_legacy_clients: true }}"
        );
        let o = opts(&format!(
            "authorization {{ {CLIENTS}, user: a, password: b }}\n{legacy}"
        ));
        let auth = o.authorization.unwrap_or_default();
        assert_eq!(auth.user.as_deref(), Some("a"));
        assert_eq!(auth.certificate_clients.len(), 1);
        assert_eq!(
            errors(&format!(
                "authorization {{\n {CLIENTS}\n users: []\n}}\n{legacy}"
            )),
            ["t.conf:3:2: Can not have 'users' and 'certificate_clients' defined at the same time"]
        );
    }

    #[test]
    fn broken_blocks_do_not_add_fork_errors() {
        // Only the tls block's own error, not "must be enabled".
        assert_eq!(
            errors(&format!(
                "authorization {{ {CLIENTS} }}\ntls {{ key_file: k.pem }}"
            )),
            ["t.conf:2:1: missing 'cert_file' in TLS configuration"]
        );
    }

    #[test]
    fn no_auth_user_must_name_a_user_or_nkey() {
        let nkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
        let o = opts("no_auth_user: a\nauthorization { users: [ {user: a, password: b} ] }");
        assert_eq!(o.no_auth_user.as_deref(), Some("a"));
        let o = opts(&format!(
            "authorization {{ users: [ {{nkey: {nkey}}} ] }}\nno_auth_user: {nkey}"
        ));
        assert_eq!(o.no_auth_user.as_deref(), Some(nkey));
        assert_eq!(
            errors("port: 4222\nno_auth_user: zz\nauthorization { users: [ {user: a} ] }"),
            [
                "t.conf:2:1: no_auth_user: \"zz\" not present as user or nkey in authorization \
              block or account configuration"
            ]
        );
        assert_eq!(
            errors("no_auth_user: zz"),
            ["t.conf:1:1: no_auth_user: \"zz\" present, but users/nkeys are not defined"]
        );
        assert_eq!(
            errors("no_auth_user: a\nauthorization { user: a, password: b }"),
            ["t.conf:1:1: no_auth_user: \"a\" present, but users/nkeys are not defined"]
        );
        assert_eq!(opts("no_auth_user: \"\"").no_auth_user, None);
        // A users list with errors of its own does not add a second complaint.
        assert_eq!(
            errors("no_auth_user: a\nauthorization { users: [ {user: a, bogus: 1} ] }"),
            ["t.conf:2:36: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("no_auth_user: 1"),
            [
                "t.conf:1:1: invalid type for field \"no_auth_user\": interface conversion: \
              interface {} is int64, not string"
            ]
        );
    }

    #[test]
    fn allow_non_tls_is_a_bool() {
        assert!(opts(&format!("allow_non_tls: true\ntls {{ {TLS} }}")).allow_non_tls);
        assert!(!opts("allow_non_tls: false").allow_non_tls);
        assert_eq!(
            errors("allow_non_tls: 1"),
            [
                "t.conf:1:1: invalid type for field \"allow_non_tls\": interface conversion: \
              interface {} is int64, not bool"
            ]
        );
    }
}
