//! `gannet sub --bosh` watching BOSH traffic on a BOSH-configured server
//! (docs/BOSH.md), every party identified by its client certificate:
//! the health monitor reads heartbeats and alerts, an agent reads the
//! director's requests, the director reads the agents' replies.
//!
//! The fork's `certificate_clients` setup runs on Gannet only (no reference
//! binary has it); the upstream `verify_and_map` setup runs on every server.

mod common;

use common::*;
use gannet_test::certs::{bosh_subject, tls_block, CertFiles, Pki};

/// The agent id of the BOSH examples (docs/BOSH.md §1).
const A: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
const B: &str = "9b1c2d3e-2222-4c5d-8e9f-0a1b2c3d4e5f";

const HEARTBEAT: &str = r#"{"deployment":"cf","job":"router","index":0,"job_state":"running","vitals":{"cpu":{"sys":"0.5","user":"1.2","wait":"0.1"},"disk":{"system":{"inode_percent":"3","percent":"40"},"ephemeral":{"inode_percent":"1","percent":"10"}},"load":["0.10","0.20","0.30"],"mem":{"kb":"1024","percent":"45"},"swap":{"kb":"0","percent":"0"},"uptime":{"secs":100}},"node_id":"n1","number_of_processes":12}"#;

fn heartbeat_line(number: u32) -> String {
    format!(
        "[#{number}] heartbeat agent={A} deployment=cf job=router index=0 job_state=running \
         cpu=user:1.2%,sys:0.5%,wait:0.1% mem=45%(1024kB) swap=0%(0kB) \
         disk=system:40%,ephemeral:10% load=0.10,0.20,0.30"
    )
}

/// The certificates of one BOSH installation.
struct Identities {
    pki: Pki,
    director: CertFiles,
    hm: CertFiles,
    agent: CertFiles,
}

impl Identities {
    fn new() -> Identities {
        let pki = Pki::temp();
        Identities {
            director: pki.client("director", &bosh_subject("default.director.bosh-internal")),
            hm: pki.client("hm", &bosh_subject("default.hm.bosh-internal")),
            agent: pki.client("agent", &bosh_subject(&format!("{A}.agent.bosh-internal"))),
            pki,
        }
    }

    /// `gannet ARGS --tlscert .. --tlskey .. --tlsca ..` as `who`.
    fn gannet(&self, who: &CertFiles, url: &str, args: &[&str]) -> Gannet {
        let mut all = args.to_vec();
        all.extend_from_slice(&tls_flags(who, self.pki.ca_str()));
        gannet(&all).server(url)
    }
}

/// docs/BOSH.md §2: the seed's `certificate_clients`, as the gnatsd fork ran it.
fn fork_config(ids: &Identities) -> String {
    let tls = tls_block(
        &ids.pki.server,
        ids.pki.ca_str(),
        "verify: true\n  enable_cert_authorization: true",
    );
    format!(
        r#"
authorization {{
  DIRECTOR_PERMISSIONS: {{ publish: ["agent.*", "hm.director.alert"], subscribe: ["director.>"] }}
  AGENT_PERMISSIONS: {{
    publish: ["hm.agent.heartbeat._CLIENT_ID", "hm.agent.alert._CLIENT_ID",
              "hm.agent.shutdown._CLIENT_ID", "director.*._CLIENT_ID.*"]
    subscribe: ["agent._CLIENT_ID"]
  }}
  HM_PERMISSIONS: {{
    publish: []
    subscribe: ["hm.agent.heartbeat.*", "hm.agent.alert.*", "hm.agent.shutdown.*", "hm.director.alert"]
  }}
  certificate_clients: [
    {{client_name: director.bosh-internal, permissions: $DIRECTOR_PERMISSIONS}}
    {{client_name: agent.bosh-internal, permissions: $AGENT_PERMISSIONS}}
    {{client_name: hm.bosh-internal, permissions: $HM_PERMISSIONS}}
  ]
}}
{tls}
"#
    )
}

/// docs/BOSH.md §4: today's setup, one user per certificate subject.
fn upstream_config(ids: &Identities) -> String {
    let tls = tls_block(&ids.pki.server, ids.pki.ca_str(), "verify_and_map: true");
    let director = bosh_subject("default.director.bosh-internal");
    let hm = bosh_subject("default.hm.bosh-internal");
    let agent = bosh_subject(&format!("{A}.agent.bosh-internal"));
    format!(
        r#"
authorization {{ users = [
  {{ user: "{director}", permissions: {{ publish: ["agent.*", "hm.director.alert"], subscribe: ["director.>"] }} }}
  {{ user: "{hm}", permissions: {{ publish: [], subscribe: ["hm.agent.heartbeat.*", "hm.agent.alert.*", "hm.agent.shutdown.*", "hm.director.alert"] }} }}
  {{ user: "{agent}", permissions: {{ publish: ["hm.agent.heartbeat.{A}", "hm.agent.alert.{A}", "hm.agent.shutdown.{A}", "director.*.{A}.*"], subscribe: ["agent.{A}"] }} }}
] }}
{tls}
"#
    )
}

#[test]
fn health_monitor_reads_heartbeats_on_the_fork_setup() {
    if gannet_test::running_reference() {
        eprintln!("certificate_clients is a fork feature the reference lacks; skipped");
        return;
    }
    let ids = Identities::new();
    let server = start_monitored(&server_binary(), Some(&fork_config(&ids)));
    let url = server.url();
    let subject = "hm.agent.heartbeat.*";
    let mut hm = ids
        .gannet(&ids.hm, &url, &["sub", "--bosh", subject, "--count", "2"])
        .spawn();
    hm.expect_stderr("Subscribing on hm.agent.heartbeat.*");
    wait_for_subscriptions(&server, subject, 1);

    let heartbeat = format!("hm.agent.heartbeat.{A}");
    ids.gannet(&ids.agent, &url, &["pub", &heartbeat, HEARTBEAT])
        .run()
        .success();
    assert_eq!(hm.next_line(), heartbeat_line(1));

    // What is not BOSH JSON is printed the ordinary way.
    ids.gannet(&ids.agent, &url, &["pub", &heartbeat, "not json"])
        .run()
        .success();
    assert_eq!(
        hm.next_lines(2),
        [
            format!(r#"[#2] Received on "{heartbeat}""#),
            "not json".to_string()
        ]
    );
    assert_eq!(hm.wait().0, Some(0));

    // An agent may not speak for another one.
    let other = format!("hm.agent.heartbeat.{B}");
    let refused = ids
        .gannet(&ids.agent, &url, &["pub", &other, HEARTBEAT])
        .run();
    let line = refused.failure();
    assert!(
        line.contains(&format!(
            r#"Permissions Violation for Publish to "{other}""#
        )),
        "{line}"
    );
}

#[test]
fn director_agent_and_health_monitor_traffic_decoded_on_the_upstream_setup() {
    let ids = Identities::new();
    let config = upstream_config(&ids);
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, Some(&config));
        let url = server.url();
        let agent_subject = format!("agent.{A}");
        let mut agent = ids
            .gannet(
                &ids.agent,
                &url,
                &["sub", "--bosh", &agent_subject, "--count", "1"],
            )
            .spawn();
        let mut director = ids
            .gannet(
                &ids.director,
                &url,
                &["sub", "--bosh", "director.>", "--count", "1"],
            )
            .spawn();
        let mut hm = ids
            .gannet(
                &ids.hm,
                &url,
                &[
                    "sub",
                    "--bosh",
                    "hm.agent.heartbeat.*",
                    "hm.agent.alert.*",
                    "--count",
                    "2",
                ],
            )
            .spawn();
        wait_for_subscriptions(&server, &agent_subject, 1);
        wait_for_subscriptions(&server, "director.>", 1);
        wait_for_subscriptions(&server, "hm.agent.alert.*", 1);

        let reply_to = format!("director.3c5b.{A}.6a1f-req");
        let request = format!(
            r#"{{"protocol":3,"method":"get_state","arguments":["full"],"reply_to":"{reply_to}"}}"#
        );
        ids.gannet(&ids.director, &url, &["pub", &agent_subject, &request])
            .run()
            .success();
        assert_eq!(
            agent.next_line(),
            format!(
                r#"[#1] request agent={A} method=get_state arguments=["full"] reply_to={reply_to}"#
            ),
            "{binary}"
        );

        ids.gannet(
            &ids.agent,
            &url,
            &["pub", &reply_to, r#"{"value":{"job_state":"running"}}"#],
        )
        .run()
        .success();
        assert_eq!(
            director.next_line(),
            format!(
                r#"[#1] reply agent={A} director=3c5b request=6a1f-req value={{"job_state":"running"}}"#
            ),
            "{binary}"
        );

        let heartbeat = format!("hm.agent.heartbeat.{A}");
        ids.gannet(&ids.agent, &url, &["pub", &heartbeat, HEARTBEAT])
            .run()
            .success();
        assert_eq!(hm.next_line(), heartbeat_line(1), "{binary}");
        let alert = r#"{"id":"a1","severity":2,"title":"process down","summary":"nginx is not running","created_at":1700000000}"#;
        ids.gannet(
            &ids.agent,
            &url,
            &["pub", &format!("hm.agent.alert.{A}"), alert],
        )
        .run()
        .success();
        assert_eq!(
            hm.next_line(),
            format!(
                r#"[#2] alert agent={A} severity=2(critical) title="process down" summary="nginx is not running" created_at=2023-11-14T22:13:20Z"#
            ),
            "{binary}"
        );
        for running in [agent, director, hm] {
            assert_eq!(running.wait().0, Some(0), "{binary}");
        }
    }
}

#[test]
fn bosh_output_does_not_mix_with_other_formats() {
    let run = gannet(&["sub", "--bosh", "--raw", "x"])
        .server("nats://127.0.0.1:1")
        .run();
    assert_eq!(
        run.failure(),
        "gannet: error: --bosh prints its own one-line format and cannot be combined with --raw"
    );
}
