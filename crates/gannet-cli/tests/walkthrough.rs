//! The README's BOSH walkthrough, done with `gannet` exactly as an operator
//! types it: examples/bosh/make-certs.sh, the server on examples/bosh/gannet.conf,
//! then each identity's certificate on the command line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const AGENT_1: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
const AGENT_2: &str = "9b1c2d3e-2222-4c5d-8e9f-0a1b2c3d4e5f";

struct Walkthrough {
    server: ServerProcess,
    certs: PathBuf,
    _root: tempfile::TempDir,
}

impl Walkthrough {
    /// None when openssl (which make-certs.sh needs) is missing.
    fn start() -> Option<Walkthrough> {
        if gannet_test::running_reference() {
            eprintln!("walkthrough: certificate_clients is Gannet's; skipped on another server");
            return None;
        }
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("walkthrough: no openssl here; skipped");
            return None;
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let example = repo.join("examples/bosh");
        let root = tempfile::tempdir().unwrap();
        let certs = root.path().join("examples/bosh/certs");
        let out = Command::new("bash")
            .arg(example.join("make-certs.sh"))
            .arg(&certs)
            .output()
            .unwrap();
        assert!(out.status.success(), "make-certs.sh failed: {out:?}");
        let conf = example.join("gannet.conf");
        let server = ServerProcess::builder(&server_binary())
            .cwd(root.path())
            .args(&["-c", conf.to_str().unwrap()])
            .start();
        Some(Walkthrough {
            server,
            certs,
            _root: root,
        })
    }

    /// `gannet -s tls://... --tlsca ca.pem --tlscert WHO.pem --tlskey WHO-key.pem ARGS`.
    fn as_identity(&self, who: &str, args: &[&str]) -> Gannet {
        let file = |name: &str| self.certs.join(name).to_string_lossy().into_owned();
        let url = format!("tls://127.0.0.1:{}", self.server.port);
        gannet(&[
            "-s",
            &url,
            "--tlsca",
            &file("ca.pem"),
            "--tlscert",
            &file(&format!("{who}.pem")),
            "--tlskey",
            &file(&format!("{who}-key.pem")),
        ])
        .args(args)
    }
}

#[test]
fn bosh_walkthrough_with_gannet() {
    let Some(walk) = Walkthrough::start() else {
        return;
    };
    let agent_inbox = format!("agent.{AGENT_1}");
    let mut director = walk.as_identity("director", &["sub", "director.>"]).spawn();
    let mut hm = walk
        .as_identity("hm", &["sub", "hm.agent.heartbeat.*"])
        .spawn();
    let mut agent = walk.as_identity("agent-1", &["sub", &agent_inbox]).spawn();
    for watcher in [&mut director, &mut hm, &mut agent] {
        watcher.expect_stderr("Subscribing on");
    }

    let request = format!(
        r#"{{"protocol":3,"method":"get_state","arguments":[],"reply_to":"director.3c5b.{AGENT_1}.r1"}}"#
    );
    walk.as_identity("director", &["pub", &agent_inbox, &request])
        .run()
        .success();
    agent.expect_line(&format!("Received on \"{agent_inbox}\""));
    agent.expect_line("\"method\":\"get_state\"");

    let reply_subject = format!("director.3c5b.{AGENT_1}.r1");
    walk.as_identity(
        "agent-1",
        &[
            "pub",
            &reply_subject,
            r#"{"value":{"job_state":"running"}}"#,
        ],
    )
    .run()
    .success();
    director.expect_line(&format!("Received on \"{reply_subject}\""));
    director.expect_line("\"job_state\":\"running\"");

    let heartbeat = format!("hm.agent.heartbeat.{AGENT_1}");
    walk.as_identity(
        "agent-1",
        &[
            "pub",
            &heartbeat,
            r#"{"job":"nats","index":0,"job_state":"running"}"#,
        ],
    )
    .run()
    .success();
    hm.expect_line(&format!("Received on \"{heartbeat}\""));

    // Agent 2 may not speak for agent 1, nor read its requests.
    let line = walk
        .as_identity("agent-2", &["pub", &heartbeat, "{}"])
        .run()
        .failure();
    assert!(
        line.contains(&format!(
            "Permissions Violation for Publish to \"{heartbeat}\""
        )),
        "{line}"
    );
    let line = walk
        .as_identity("agent-2", &["sub", &agent_inbox])
        .run()
        .failure();
    assert!(
        line.contains(&format!(
            "Permissions Violation for Subscription to \"{agent_inbox}\""
        )),
        "{line}"
    );
    // The health monitor may publish nothing.
    let line = walk
        .as_identity("hm", &["pub", &agent_inbox, "{}"])
        .run()
        .failure();
    assert!(line.contains("Permissions Violation for Publish"), "{line}");
}

#[test]
fn bosh_decoded_heartbeat_for_the_health_monitor() {
    let Some(walk) = Walkthrough::start() else {
        return;
    };
    let mut hm = walk
        .as_identity("hm", &["sub", "--bosh", "hm.agent.heartbeat.*"])
        .spawn();
    hm.expect_stderr("Subscribing on");
    let heartbeat = format!("hm.agent.heartbeat.{AGENT_2}");
    let body = r#"{"deployment":"cf","job":"router","index":2,"job_state":"running","vitals":{"cpu":{"sys":"1.5","user":"3.0","wait":"0.1"},"mem":{"percent":"41","kb":"1700000"},"disk":{"system":{"percent":"35"}},"load":["0.10","0.20","0.30"]}}"#;
    walk.as_identity("agent-2", &["pub", &heartbeat, body])
        .run()
        .success();
    let line = hm.expect_line(AGENT_2);
    for part in ["heartbeat", "cf", "router", "running"] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
}
