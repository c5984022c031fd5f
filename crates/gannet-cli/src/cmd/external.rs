//! Running `--translate` / `--command` programs without a shell: the command
//! line is split into words as a POSIX shell would split it, the program is
//! run with the input on its stdin, and a failure is described in Go's words
//! (`exit status 1`, `executable file not found in $PATH`).

use std::process::Stdio;

use anyhow::anyhow;
use tokio::io::AsyncWriteExt;

use super::output::go_quote;
use super::template::{Template, Values, Vocabulary};

/// A command that failed: what it printed and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub output: Vec<u8>,
    pub error: String,
}

/// A `--translate` command: a template for `{{Subject}}`, split into words
/// the way a shell would and run without one, the body on its stdin.
#[derive(Debug, Clone)]
pub struct Translate {
    command: Template,
}

impl Translate {
    pub fn parse(command: &str) -> anyhow::Result<Translate> {
        let template = Template::parse(command, "translate", Vocabulary::Translate)?;
        // Check the quoting now, so a bad command is one error at start.
        split_words(&template.render(&Values::default()))
            .map_err(|err| anyhow!("invalid --translate command {command:?}: {err}"))?;
        Ok(Translate { command: template })
    }

    /// The command's output (stdout then stderr) for `data` on its stdin.
    pub async fn run(&self, data: &[u8], subject: &str) -> Result<Vec<u8>, CommandFailure> {
        let values = Values {
            subject,
            ..Values::default()
        };
        let line = self.command.render(&values);
        run_command(&line, data, &[]).await
    }
}

/// Runs `line` (split into words like a shell, no shell involved) with
/// `input` on stdin and `env` added; returns stdout followed by stderr.
pub async fn run_command(
    line: &str,
    input: &[u8],
    env: &[(&str, &str)],
) -> Result<Vec<u8>, CommandFailure> {
    let fail = |error: String| CommandFailure {
        output: Vec::new(),
        error,
    };
    let words = split_words(line).map_err(fail)?;
    let (program, args) = words
        .split_first()
        .ok_or_else(|| fail("empty command".to_string()))?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|err| fail(spawn_error(program, &err)))?;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        tokio::spawn(async move {
            // A command that does not read its input is not an error.
            let _ = stdin.write_all(&input).await;
        });
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|err| fail(format!("{program}: {err}")))?;
    let mut combined = output.stdout;
    combined.extend_from_slice(&output.stderr);
    if output.status.success() {
        Ok(combined)
    } else {
        Err(CommandFailure {
            output: combined,
            error: exit_error(output.status),
        })
    }
}

/// Go's words for a command that could not start.
fn spawn_error(program: &str, err: &std::io::Error) -> String {
    if err.kind() == std::io::ErrorKind::NotFound {
        format!(
            "exec: {}: executable file not found in $PATH",
            go_quote(program)
        )
    } else {
        format!("fork/exec {program}: {err}")
    }
}

/// Go's words for a failed command: `exit status 3`, `signal: 9`.
fn exit_error(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return format!("signal: {signal}");
        }
    }
    status.to_string()
}

/// Splits a command line into words as a POSIX shell does: blanks separate,
/// `'...'` is literal, `"..."` allows `\"`, `\\`, `\$` and `` \` ``, and a
/// backslash outside quotes keeps the next character.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                read_double_quoted(&mut chars, &mut word)?;
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn read_double_quoted(chars: &mut std::str::Chars, word: &mut String) -> Result<(), String> {
    loop {
        match chars.next() {
            Some('"') => return Ok(()),
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                Some('\n') => {}
                Some(c) => {
                    word.push('\\');
                    word.push(c);
                }
                None => return Err("unterminated double quote".to_string()),
            },
            Some(c) => word.push(c),
            None => return Err("unterminated double quote".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(split_words("tr a-z A-Z").unwrap(), ["tr", "a-z", "A-Z"]);
        assert_eq!(
            split_words(r#"sh -c 'echo "$X"' "a b" c\ d"#).unwrap(),
            ["sh", "-c", r#"echo "$X""#, "a b", "c d"]
        );
        assert_eq!(split_words(r#""x\"y" ''"#).unwrap(), ["x\"y", ""]);
        assert!(split_words("echo 'open").is_err());
        assert!(split_words("echo \"open").is_err());
    }

    #[tokio::test]
    async fn translate_runs_the_command_on_the_body() {
        let translate = Translate::parse("tr a-z A-Z").unwrap();
        assert_eq!(translate.run(b"hello", "s").await.unwrap(), b"HELLO");
        let translate = Translate::parse("echo {{Subject}}").unwrap();
        assert_eq!(translate.run(b"", "a.b").await.unwrap(), b"a.b\n");
        let failing = Translate::parse("false").unwrap();
        let failure = failing.run(b"", "s").await.unwrap_err();
        assert_eq!(failure.error, "exit status 1");
        let missing = Translate::parse("no-such-command-here").unwrap();
        assert_eq!(
            missing.run(b"", "s").await.unwrap_err().error,
            r#"exec: "no-such-command-here": executable file not found in $PATH"#
        );
    }
}
