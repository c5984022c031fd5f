//! Saved connection contexts, kept the way natscli keeps them so the two tools
//! share them: one JSON file per context in `$XDG_CONFIG_HOME/nats/context/`
//! (`~/.config/nats/context/` by default) and the selected context's name in
//! `nats/context.txt`. The `context` command manages them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::flags::ConnectFlags;
use crate::format::Columns;
use crate::table::Table;

/// A context file's fields, as natscli writes them. Fields this tool does not
/// use are kept as they were read, so saving never loses them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContextSettings {
    pub description: String,
    pub url: String,
    pub token: String,
    pub user: String,
    pub password: String,
    pub creds: String,
    pub nkey: String,
    pub cert: String,
    pub key: String,
    pub ca: String,
    pub inbox_prefix: String,
    pub tls_first: bool,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The folder of saved contexts.
#[derive(Debug, Clone)]
pub struct ContextStore {
    root: PathBuf,
}

impl ContextStore {
    /// `$XDG_CONFIG_HOME/nats`, else `$HOME/.config/nats`.
    pub fn from_env() -> anyhow::Result<Self> {
        let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => {
                let home = std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        anyhow!("cannot find the contexts: neither XDG_CONFIG_HOME nor HOME is set")
                    })?;
                PathBuf::from(home).join(".config")
            }
        };
        Ok(ContextStore {
            root: base.join("nats"),
        })
    }

    fn dir(&self) -> PathBuf {
        self.root.join("context")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir().join(format!("{name}.json"))
    }

    fn selection_file(&self) -> PathBuf {
        self.root.join("context.txt")
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).is_file()
    }

    pub fn load(&self, name: &str) -> anyhow::Result<ContextSettings> {
        validate_name(name)?;
        let path = self.path(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("unknown context {name:?} ({})", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("context {name:?}: {} is not valid JSON", path.display()))
    }

    pub fn save(&self, name: &str, settings: &ContextSettings) -> anyhow::Result<()> {
        validate_name(name)?;
        std::fs::create_dir_all(self.dir())
            .with_context(|| format!("cannot create {}", self.dir().display()))?;
        let text = serde_json::to_string_pretty(settings)?;
        let path = self.path(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn remove(&self, name: &str) -> anyhow::Result<()> {
        validate_name(name)?;
        let path = self.path(name);
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove context {name:?} ({})", path.display()))?;
        if self.selected()?.as_deref() == Some(name) {
            self.unselect()?;
        }
        Ok(())
    }

    /// The names of the saved contexts, sorted.
    pub fn list(&self) -> anyhow::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.dir()) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).context(format!("cannot read {}", self.dir().display())),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json").map(str::to_string)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    pub fn selected(&self) -> anyhow::Result<Option<String>> {
        match std::fs::read_to_string(self.selection_file()) {
            Ok(text) => {
                let name = text.trim();
                Ok((!name.is_empty()).then(|| name.to_string()))
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => {
                Err(err).context(format!("cannot read {}", self.selection_file().display()))
            }
        }
    }

    pub fn select(&self, name: &str) -> anyhow::Result<()> {
        if !self.exists(name) {
            bail!("unknown context {name:?}");
        }
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        std::fs::write(self.selection_file(), name)
            .with_context(|| format!("cannot write {}", self.selection_file().display()))
    }

    pub fn unselect(&self) -> anyhow::Result<()> {
        match std::fs::remove_file(self.selection_file()) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).context(format!("cannot remove {}", self.selection_file().display()))
            }
            _ => Ok(()),
        }
    }
}

/// Context names become file names: no separators, no leading dot.
fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) || name.contains("..")
    {
        bail!("invalid context name {name:?}");
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Save (create or update) a context from the connection flags given
    #[command(alias = "add", alias = "create")]
    Save(SaveArgs),
    /// Select the default context
    #[command(alias = "switch", alias = "set")]
    Select { name: String },
    /// Make no context the default
    Unselect,
    /// List the saved contexts
    #[command(alias = "list")]
    Ls {
        /// JSON output
        #[arg(short, long)]
        json: bool,
        /// Only the names, one per line
        #[arg(long)]
        names: bool,
    },
    /// Show a context (the selected one when no name is given)
    #[command(alias = "show", alias = "view")]
    Info {
        name: Option<String>,
        /// JSON output
        #[arg(short, long)]
        json: bool,
    },
    /// Remove a context
    #[command(alias = "remove")]
    Rm {
        name: String,
        /// Remove without asking (kept for natscli compatibility; never asks)
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    pub name: String,
    /// A description shown in listings
    #[arg(long)]
    pub description: Option<String>,
    /// Select the context after saving it
    #[arg(long)]
    pub select: bool,
}

pub async fn run(command: ContextCommand, flags: &ConnectFlags) -> anyhow::Result<()> {
    let store = ContextStore::from_env()?;
    match command {
        ContextCommand::Save(args) => {
            let mut settings = if store.exists(&args.name) {
                store.load(&args.name)?
            } else {
                ContextSettings::default()
            };
            apply_flags(&mut settings, flags);
            if let Some(description) = args.description {
                settings.description = description;
            }
            store.save(&args.name, &settings)?;
            if args.select {
                store.select(&args.name)?;
            }
            print!("{}", describe(&store, &args.name, &settings));
        }
        ContextCommand::Select { name } => {
            store.select(&name)?;
            let settings = store.load(&name)?;
            print!("{}", describe(&store, &name, &settings));
        }
        ContextCommand::Unselect => match store.selected()? {
            Some(name) => {
                store.unselect()?;
                println!("Unselected the {name:?} context");
            }
            None => println!("No context currently selected"),
        },
        ContextCommand::Ls { json, names } => {
            let selected = store.selected()?;
            let known = store.list()?;
            if json {
                let mut all = Vec::new();
                for name in &known {
                    let settings = store.load(name)?;
                    let mut value = serde_json::to_value(&settings)?;
                    if let Some(map) = value.as_object_mut() {
                        map.insert("name".into(), name.clone().into());
                    }
                    all.push(value);
                }
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if names {
                for name in &known {
                    println!("{name}");
                }
            } else if known.is_empty() {
                println!("No known contexts");
            } else {
                let mut table = Table::new("Known Contexts");
                table.headers(["Name", "Description"]);
                for name in &known {
                    let description = store.load(name).map(|s| s.description).unwrap_or_default();
                    let shown = if selected.as_deref() == Some(name) {
                        format!("{name}*")
                    } else {
                        name.clone()
                    };
                    table.row([shown, description]);
                }
                println!("{}", table.render());
            }
        }
        ContextCommand::Info { name, json } => {
            let name = match name.or(store.selected()?) {
                Some(name) => name,
                None => bail!("no default context and no name supplied"),
            };
            let settings = store.load(&name)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&settings)?);
            } else {
                print!("{}", describe(&store, &name, &settings));
            }
        }
        ContextCommand::Rm { name, force: _ } => {
            if !store.exists(&name) {
                bail!("unknown context {name:?}");
            }
            store.remove(&name)?;
            println!("Removed context {name:?}");
        }
    }
    Ok(())
}

/// Copies the connection flags that were given onto a context.
fn apply_flags(settings: &mut ContextSettings, flags: &ConnectFlags) {
    let set = |field: &mut String, value: &Option<String>| {
        if let Some(value) = value {
            *field = value.clone();
        }
    };
    let set_path = |field: &mut String, value: &Option<PathBuf>| {
        if let Some(value) = value {
            *field = std::path::absolute(value)
                .unwrap_or_else(|_| value.clone())
                .to_string_lossy()
                .into_owned();
        }
    };
    set(&mut settings.url, &flags.server);
    set(&mut settings.user, &flags.user);
    set(&mut settings.password, &flags.password);
    set(&mut settings.token, &flags.token);
    set(&mut settings.inbox_prefix, &flags.inbox_prefix);
    set_path(&mut settings.creds, &flags.creds);
    set_path(&mut settings.nkey, &flags.nkey);
    set_path(&mut settings.cert, &flags.tlscert);
    set_path(&mut settings.key, &flags.tlskey);
    set_path(&mut settings.ca, &flags.tlsca);
    if flags.tlsfirst {
        settings.tls_first = true;
    }
}

/// natscli's `context info` layout; files are checked for readability.
fn describe(store: &ContextStore, name: &str, settings: &ContextSettings) -> String {
    let check = |file: &str| {
        if std::fs::metadata(file).is_ok_and(|m| m.is_file()) {
            format!("{file} (OK)")
        } else {
            format!("{file} (ERROR)")
        }
    };
    let mut columns = Columns::new(format!("NATS Configuration Context {name:?}"));
    columns
        .row_if_not_empty("Description", &settings.description)
        .row_if_not_empty("Server URLs", &settings.url)
        .row_if_not_empty("Username", &settings.user)
        .row_if_not_empty("Password", &"*".repeat(settings.password.len()))
        .row_if_not_empty("Token", &settings.token);
    for (label, file) in [
        ("Credentials", &settings.creds),
        ("NKey", &settings.nkey),
        ("Certificate", &settings.cert),
        ("Key", &settings.key),
        ("CA", &settings.ca),
    ] {
        if !file.is_empty() {
            columns.row(label, check(file));
        }
    }
    if settings.tls_first {
        columns.row("TLS First", "true");
    }
    columns
        .row_if_not_empty("Inbox Prefix", &settings.inbox_prefix)
        .row("Path", store.path(name).display());
    format!("{}\n", columns.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_save() {
        let text = r#"{"url":"nats://a:4222","jetstream_domain":"hub","color_scheme":"blue"}"#;
        let settings: ContextSettings = serde_json::from_str(text).unwrap();
        assert_eq!(settings.url, "nats://a:4222");
        let saved = serde_json::to_value(&settings).unwrap();
        assert_eq!(saved["jetstream_domain"], "hub");
        assert_eq!(saved["color_scheme"], "blue");
        assert_eq!(saved["tls_first"], false);
    }

    #[test]
    fn names_cannot_leave_the_folder() {
        assert!(validate_name("prod").is_ok());
        assert!(validate_name("../x").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name(".hidden").is_err());
        assert!(validate_name("").is_err());
    }
}
