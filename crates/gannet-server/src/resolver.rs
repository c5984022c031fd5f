//! The directory account resolver of operator mode (`resolver: { type:
//! full | cache, dir }`, nats-server's `DirAccResolver`): account JWTs kept
//! as `<dir>/<account public key>.jwt`, loaded when the server starts and
//! written when a claim update is accepted, so pushed accounts survive a
//! restart; and the requests it answers in the system account:
//! `$SYS.REQ.CLAIMS.UPDATE` (an account JWT, whichever account),
//! `$SYS.REQ.CLAIMS.LIST` (the accounts known) and
//! `$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP` (one account's JWT).
use std::path::{Path, PathBuf};

use gannet_config::options::Resolver;

use crate::server::Server;

/// The subjects the directory resolver answers, besides the claim updates
/// every operator-mode server takes.
pub(crate) const SUBJECTS: &[&str] = &[
    "$SYS.REQ.CLAIMS.UPDATE",
    "$SYS.REQ.CLAIMS.LIST",
    "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
];

/// The resolver's directory, when the server keeps account JWTs in one.
pub(crate) fn dir(server: &Server) -> Option<PathBuf> {
    match &server.options().resolver {
        Some(Resolver::Dir(d)) if server.authenticator().operator().is_some() => {
            Some(PathBuf::from(&d.dir))
        }
        _ => None,
    }
}

/// Loads every `*.jwt` of the directory (creating it if missing), as
/// accounts of operator mode. A JWT that does not validate is logged and
/// left out.
pub(crate) fn load(server: &Server) -> std::io::Result<usize> {
    let Some(dir) = dir(server) else {
        return Ok(0);
    };
    std::fs::create_dir_all(&dir)?;
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return Ok(0);
    };
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let path = entry.path();
        let Some(key) = account_key_of(&path) else {
            continue;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("DirResolver - could not read {}: {e}", path.display());
                continue;
            }
        };
        match operator.install(text.trim(), Some(&key), gannet_auth::operator::unix_now()) {
            Ok(_) => loaded += 1,
            Err(e) => tracing::error!("DirResolver - account {key} in {}: {e}", path.display()),
        }
    }
    Ok(loaded)
}

/// The account public key a `<key>.jwt` file is for.
fn account_key_of(path: &Path) -> Option<String> {
    if path.extension()? != "jwt" {
        return None;
    }
    let key = path.file_stem()?.to_str()?;
    (key.len() == 56 && key.starts_with('A')).then(|| key.to_string())
}

/// Writes an accepted account JWT to the directory (through a temporary
/// file, so that a crash leaves the old JWT or the new one, never half).
pub(crate) fn store(server: &Server, key: &str, jwt: &str) {
    let Some(dir) = dir(server) else {
        return;
    };
    let path = dir.join(format!("{key}.jwt"));
    let tmp = dir.join(format!(".{key}.jwt.tmp"));
    let written = std::fs::write(&tmp, jwt).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::error!("DirResolver - could not store {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_account_key_files_are_read() {
        let key = format!("A{}", "B".repeat(55));
        assert_eq!(
            account_key_of(Path::new(&format!("/x/{key}.jwt"))),
            Some(key.clone())
        );
        assert_eq!(account_key_of(Path::new(&format!("/x/{key}.txt"))), None);
        assert_eq!(account_key_of(Path::new("/x/short.jwt")), None);
        assert_eq!(
            account_key_of(Path::new(&format!("/x/.{key}.jwt.tmp"))),
            None
        );
    }
}
