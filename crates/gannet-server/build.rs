//! Build facts the server reports in INFO and `/varz`, as nats-server reports
//! the commit and Go toolchain it was built from:
//!
//! - `GANNET_GIT_COMMIT`: the first 7 hex digits of the commit this crate was
//!   built from (nats-server's `formatRevision`), or empty when the crate is not
//!   built from a git checkout of Gannet (a packaged or vendored copy).
//! - `GANNET_RUSTC_VERSION`: the version `rustc -V` prints (`1.95.0`,
//!   `1.96.0-nightly`), or empty if it cannot be run.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // Without any rerun-if-changed line cargo would rerun this script whenever
    // any file of the package changes; with only git files listed it reruns
    // when HEAD moves. A new compiler rebuilds and so reruns it anyway.
    println!("cargo:rerun-if-changed=build.rs");
    let commit = git_commit(&manifest_dir).unwrap_or_default();
    println!("cargo:rustc-env=GANNET_GIT_COMMIT={commit}");
    let rustc = rustc_version().unwrap_or_default();
    println!("cargo:rustc-env=GANNET_RUSTC_VERSION={rustc}");
}

/// Runs `git args...` in `dir`; its trimmed output when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string())
}

/// The short commit of the checkout `dir` is in, watching the files that change
/// when HEAD moves.
fn git_commit(dir: &Path) -> Option<String> {
    // A copy of the crate vendored into some other repository is not a build
    // from Gannet's checkout: that repository's commit would be wrong.
    git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"])?;
    let git_dir = PathBuf::from(git(dir, &["rev-parse", "--absolute-git-dir"])?);
    // Branch refs live in the common dir, which differs from the git dir in a
    // linked worktree; the path may be relative to `dir`.
    let common_dir = dir.join(git(dir, &["rev-parse", "--git-common-dir"])?);
    let common_dir = common_dir.canonicalize().unwrap_or(common_dir);
    // HEAD changes on checkout and on commits with a detached HEAD; the branch
    // refs on commits (a new loose ref file included, hence the directory);
    // packed-refs when refs are packed. Only existing paths are listed: cargo
    // reruns the script on every build for a missing one.
    for path in [
        git_dir.join("HEAD"),
        common_dir.join("refs").join("heads"),
        common_dir.join("packed-refs"),
    ] {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let full = git(dir, &["rev-parse", "HEAD"])?;
    let short: String = full.chars().take(7).collect();
    (short.len() == 7 && short.chars().all(|c| c.is_ascii_hexdigit())).then_some(short)
}

/// The version of the compiler cargo builds this crate with.
fn rustc_version() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("-V").output().ok()?;
    if !out.status.success() {
        return None;
    }
    // `rustc 1.95.0 (59807616e 2026-04-14)`
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace().nth(1).map(str::to_string)
}
