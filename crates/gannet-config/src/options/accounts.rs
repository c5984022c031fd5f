//! Typed multi-account settings: the `accounts { }` block (each account's users,
//! exports and imports), `system_account` and `no_system_account`
//! (nats-server's `Account`, `export`/`import` handling in `opts.go`).
//!
//! Parsing is in `parse` (the block itself) and `checks` (rules that span
//! `accounts`, `authorization`, `system_account` and `no_auth_user`).
use super::security::{NkeyUser, User};

mod checks;
mod parse;

pub(crate) use checks::check;
pub use parse::GLOBAL_ACCOUNT;
pub(crate) use parse::{parse, AccountMarks};

/// One account of the `accounts { }` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountConfig {
    pub name: String,
    /// Users (by name) who log into this account.
    pub users: Vec<User>,
    /// Nkey users who log into this account.
    pub nkeys: Vec<NkeyUser>,
    pub exports: Vec<ExportConfig>,
    pub imports: Vec<ImportConfig>,
    /// Subject mappings applied to what the account's clients publish.
    pub mappings: Vec<super::SubjectMapping>,
    /// `jetstream`: `None` when not given (no JetStream for the account).
    pub jetstream: Option<super::AccountJetStream>,
    /// `msg_trace` (or `trace_dest`): where the traces of messages that
    /// carry a sampled W3C `traceparent` header go.
    pub msg_trace: Option<MsgTrace>,
}

/// An account's `msg_trace`: `"subject"` or `{ dest: "subject", sampling: 50% }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgTrace {
    pub dest: String,
    /// Percent of the traced messages (1 to 100).
    pub sampling: u8,
}

/// A stream (messages flow to importers) or a service (requests flow to the exporter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Stream,
    Service,
}

/// `{stream: "subj"}` or `{service: "subj", accounts: [..], response_type: ..}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportConfig {
    pub kind: ExportKind,
    pub subject: String,
    /// `None` = public; `Some(list)` = only these accounts may import.
    pub accounts: Option<Vec<String>>,
    /// Services: `"singleton"` (default), `"stream"` or `"chunked"`.
    pub response_type: Option<String>,
    /// Services: `allow_trace`: a traced request goes on being traced in
    /// the exporting account.
    pub allow_trace: bool,
}

/// `{stream: {account: A, subject: "s"}, prefix: "p"}` or
/// `{service: {account: A, subject: "s"}, to: "local"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConfig {
    pub kind: ExportKind,
    /// The exporting account.
    pub account: String,
    /// The exported subject (may have wildcards).
    pub subject: String,
    /// Streams: prefix added to the subject in the importing account.
    pub prefix: Option<String>,
    /// Services: the local subject requests are made on (default: `subject`);
    /// streams: the local subject messages appear on.
    pub to: Option<String>,
    /// A traced message goes on being traced on the other side: for a
    /// stream, the import's `allow_trace`; for a service, the export's
    /// (set here from an account JWT's export; a config file sets it on the
    /// export).
    pub allow_trace: bool,
}

#[cfg(test)]
mod tests;
