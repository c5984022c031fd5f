//! `gannet completion bash|zsh|fish`: each script is loaded by its own shell
//! and asked to complete, the way a user's shell would.

use std::process::Command;

const GANNET: &str = env!("CARGO_BIN_EXE_gannet");

/// What `shell -c script` prints; panics when the shell is missing or fails.
fn shell(shell: &str, script: &str) -> String {
    let out = Command::new(shell)
        .args(["-c", script])
        .env("GANNET", GANNET)
        .output()
        .unwrap_or_else(|e| panic!("{shell} is needed for this test: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shell} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The words bash offers for the command line `words` (the last one being
/// completed).
fn bash_completes(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source <("$GANNET" completion bash)
COMP_WORDS=({words}); COMP_CWORD={last}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}
_gannet gannet '{cur}' '{prev}'
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
        last = words.len() - 1,
        line = words.join(" "),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    shell("bash", &script)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_subcommands_and_flags() {
    let commands = bash_completes(&["gannet", "st"]);
    assert_eq!(commands, ["stream"], "{commands:?}");
    let all = bash_completes(&["gannet", ""]);
    for want in [
        "sub",
        "pub",
        "request",
        "server",
        "bench",
        "kv",
        "completion",
    ] {
        assert!(all.iter().any(|c| c == want), "{want} not in {all:?}");
    }
    let stream = bash_completes(&["gannet", "stream", "a"]);
    assert!(stream.iter().any(|c| c == "add"), "{stream:?}");
    let flags = bash_completes(&["gannet", "stream", "add", "--subj"]);
    assert_eq!(flags, ["--subjects"], "{flags:?}");
    let shells = bash_completes(&["gannet", "completion", ""]);
    for want in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|c| c == want), "{want} not in {shells:?}");
    }
}

#[test]
fn fish_completes_commands_and_flags() {
    let complete = |line: &str| {
        shell(
            "fish",
            &format!("\"$GANNET\" completion fish | source; complete -C '{line}'"),
        )
    };
    let commands = complete("gannet st");
    assert!(
        commands.lines().any(|l| l.starts_with("stream\t")),
        "{commands}"
    );
    assert!(
        !commands.lines().any(|l| l.starts_with("sub\t")),
        "{commands}"
    );
    let flags = complete("gannet stream add --subj");
    assert!(
        flags.lines().any(|l| l.starts_with("--subjects")),
        "{flags}"
    );
}

#[test]
fn zsh_loads_the_script_and_it_names_every_command() {
    // zsh completion runs inside its completion system, so the check is that
    // the script parses, defines the completion function, and lists the
    // commands and flags.
    let out = shell(
        "zsh",
        r#"autoload -U compinit && compinit -u -D
source <("$GANNET" completion zsh)
(( $+functions[_gannet] )) && echo defined"#,
    );
    assert_eq!(out.trim(), "defined");
    let script = Command::new(GANNET)
        .args(["completion", "zsh"])
        .output()
        .unwrap();
    let script = String::from_utf8(script.stdout).unwrap();
    assert!(script.starts_with("#compdef gannet"), "{}", &script[..80]);
    for want in ["'stream:", "'consumer:", "--subjects", "'completion:"] {
        assert!(script.contains(want), "{want} missing from the zsh script");
    }
}

#[test]
fn an_unknown_shell_is_refused() {
    let out = Command::new(GANNET)
        .args(["completion", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}
