//! The terminal side of `top`, with plain ANSI escapes and `stty`: the
//! alternate screen with the cursor hidden, key-at-a-time input without echo
//! (only when stdin is a terminal), the terminal's size, drawing a frame, and
//! putting everything back on drop, however `top` ends.

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _};
use tokio::sync::mpsc;

/// Runs `stty` on the terminal that is stdin.
fn stty(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("stty")
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run stty to set up the terminal")?;
    if !output.status.success() {
        bail!(
            "stty {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The full-screen view; dropping it restores the screen and the terminal
/// mode.
pub struct Screen {
    /// `stty -g` from before, when keys are read.
    saved_mode: Option<String>,
}

impl Screen {
    /// Switches to the alternate screen and, with `keys`, to unbuffered input
    /// without echo or signals (so Ctrl-C arrives as a key).
    pub fn enter(keys: bool) -> anyhow::Result<Screen> {
        let saved_mode = if keys {
            let saved = stty(&["-g"])?;
            stty(&["-icanon", "-echo", "-isig", "min", "1", "time", "0"])?;
            Some(saved)
        } else {
            None
        };
        let screen = Screen { saved_mode };
        write_out("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
        Ok(screen)
    }

    /// Draws `lines` from the top left, each clipped to the width, as many as
    /// fit, clearing what was there before.
    pub fn draw(&self, lines: &[String]) {
        let (rows, columns) = size();
        let mut out = String::from("\x1b[H");
        for (i, line) in lines.iter().take(rows).enumerate() {
            if i > 0 {
                out.push_str("\r\n");
            }
            out.extend(line.chars().take(columns));
            out.push_str("\x1b[K");
        }
        out.push_str("\x1b[J");
        write_out(&out);
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        write_out("\x1b[?25h\x1b[?1049l");
        if let Some(saved) = &self.saved_mode {
            let _ = stty(&[saved]);
        }
    }
}

fn write_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Rows and columns of the terminal: `stty size` on /dev/tty, else
/// `$LINES`/`$COLUMNS`, else 24 by 80.
pub fn size() -> (usize, usize) {
    let from_tty = std::fs::File::open("/dev/tty").ok().and_then(|tty| {
        let output = Command::new("stty")
            .arg("size")
            .stdin(tty)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        let mut parts = text.split_whitespace().map(|p| p.parse::<usize>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(rows), Some(columns)) if rows > 0 && columns > 0 => Some((rows, columns)),
            _ => None,
        }
    });
    from_tty.unwrap_or_else(|| {
        let env = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&v: &usize| v > 0)
                .unwrap_or(default)
        };
        (env("LINES", 24), env("COLUMNS", 80))
    })
}

/// Reads stdin on a thread of its own (a blocking read cannot be cancelled,
/// and a plain thread does not hold up the exit) and hands over what arrives.
pub fn keys() -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buffer = [0u8; 64];
        loop {
            match stdin.read(&mut buffer) {
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sender.send(buffer[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}
