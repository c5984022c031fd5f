//! Checks a config file the way `nats-server -t -c FILE` does: prints each
//! warning and error as `file:line:column: message` and exits 1 if there
//! were any, 0 if the file is clean.
//!
//! `cargo run -p gannet-config --example check_config -- FILE`
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: check_config FILE");
        return ExitCode::from(2);
    };
    match gannet_config::load_file(&path) {
        Ok(loaded) if loaded.warnings.is_empty() => {
            println!("configuration file {} is valid", path.display());
            ExitCode::SUCCESS
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("warning: {w}");
            }
            ExitCode::from(1)
        }
        Err(errors) => {
            for e in &errors.0 {
                println!("{e}");
            }
            ExitCode::from(1)
        }
    }
}
