//! Rules that span the `accounts` block and the other security keys, run
//! once the whole file is read: `system_account` must name a defined
//! account (nats-server's `configureSystemAccount`), a user name or nkey
//! may appear only once across every account and `authorization.users`
//! (`parseAccounts`/`parseAuthorization` in `opts.go`), and accounts' users
//! exclude a single `user` or a `token` in `authorization`.
use std::collections::HashSet;

use crate::conf::Pos;
use crate::options::convert::Report;
use crate::options::security_checks::SecurityMarks;
use crate::options::Options;

/// Reports every cross-block problem with accounts.
pub(crate) fn check(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    check_system_account(o, marks, r);
    if marks.accounts.block.is_some() && !marks.accounts.clean {
        return;
    }
    if marks.auth.block.is_some() && !marks.auth.clean {
        return;
    }
    check_single_user_or_token(o, marks, r);
    check_unique_users(o, marks, r);
}

fn check_system_account(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    let (Some(name), Some(at)) = (&o.system_account, &marks.system_account) else {
        return;
    };
    // In operator mode accounts are JWTs: the resolver knows them.
    if !o.operators.is_empty() || !o.trusted_keys.is_empty() {
        return;
    }
    if !o.accounts.iter().any(|a| &a.name == name) {
        r.error_at(at, "error resolving system account: account missing");
    }
}

fn accounts_have_users(o: &Options) -> bool {
    o.accounts
        .iter()
        .any(|a| !a.users.is_empty() || !a.nkeys.is_empty())
}

fn check_single_user_or_token(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    let (Some(a), Some(at)) = (&o.authorization, &marks.auth.block) else {
        return;
    };
    if !accounts_have_users(o) {
        return;
    }
    if a.user.is_some() {
        r.error_at(at, "Can not have a single user/pass and a users array");
    } else if a.token.is_some() {
        r.error_at(at, "Can not have a token and a users array");
    }
}

/// Accounts first, in the order written, then `authorization.users`; a
/// repeat is reported at the later list (the account's `users` key, or
/// the `authorization` key).
fn check_unique_users(o: &Options, marks: &SecurityMarks, r: &mut Report) {
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    let mut lists: Vec<(Option<&Pos>, _, _)> = o
        .accounts
        .iter()
        .zip(&marks.accounts.accounts)
        .map(|(a, p)| (p.users.as_ref(), &a.users, &a.nkeys))
        .collect();
    if let Some(a) = &o.authorization {
        lists.push((marks.auth.block.as_ref(), &a.users, &a.nkeys));
    }
    for (at, users, nkeys) in lists {
        let Some(at) = at else { continue };
        for u in users {
            if !names.insert(u.username.as_str()) {
                r.error_at(at, format!("Duplicate user {:?} detected", u.username));
            }
        }
        for n in nkeys {
            if !keys.insert(n.nkey.as_str()) {
                r.error_at(at, format!("Duplicate nkey {:?} detected", n.nkey));
            }
        }
    }
}
