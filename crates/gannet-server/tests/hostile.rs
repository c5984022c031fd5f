//! Hostile input, measured differentially: every case (malformed protocol,
//! bad headers and CONNECT documents, TLS and HTTP on the client port, slow
//! writers, floods, broken logins) is sent to Gannet and to nats-server 2.15
//! over its own connection, and each server's answer is reduced to what a
//! client sees: the `-ERR` texts, the other protocol lines, and whether the
//! connection was closed. The two must agree case by case, and a bystander
//! (a subscriber receiving a numbered stream of messages on each server the
//! whole time) must lose nothing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gannet_test::certs::{tls_block, KeyKind, Pki};
use gannet_test::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

/// How long a case's connection is read after its last step.
const SETTLE: Duration = Duration::from_millis(400);

/// One step of a case.
#[derive(Clone)]
enum Step {
    Send(Vec<u8>),
    /// Sends the bytes one at a time, `gap` apart (a slow writer).
    Trickle(Vec<u8>, Duration),
    Wait(Duration),
}

fn send(b: impl AsRef<[u8]>) -> Step {
    Step::Send(b.as_ref().to_vec())
}

/// A case: its name, the steps after the server's INFO, and whether the
/// client logs in first (`CONNECT` with the server's credentials and
/// `verbose` off).
struct Case {
    name: String,
    login: bool,
    steps: Vec<Step>,
}

fn case(name: &str, login: bool, steps: Vec<Step>) -> Case {
    Case {
        name: name.to_string(),
        login,
        steps,
    }
}

/// What a client saw: protocol lines other than INFO (MSG payloads dropped,
/// repeated lines counted), and whether the server closed the connection.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    lines: Vec<String>,
    closed: bool,
}

/// Lines of `bytes`, INFO left out, payloads of MSG/HMSG skipped, runs of one
/// line written once with a count.
fn reduce(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = Vec::new();
    let mut rest = text.as_ref();
    while let Some(end) = rest.find("\r\n") {
        let line = &rest[..end];
        rest = &rest[end + 2..];
        if line.starts_with("INFO ") {
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        if matches!(words[0], "MSG" | "HMSG") {
            // Skip the payload: its size is the last word.
            if let Some(size) = words.last().and_then(|n| n.parse::<usize>().ok()) {
                rest = rest.get(size + 2..).unwrap_or("");
            }
            lines.push(format!("{} {}", words[0], words.get(1).unwrap_or(&"")));
            continue;
        }
        lines.push(line.to_string());
    }
    // A TLS alert record (content type 21) is left out: rustls answers bytes
    // that are no TLS handshake with a decode_error alert where Go's TLS
    // closes without one; both close the connection.
    if !rest.is_empty() && !rest.starts_with("\u{15}\u{3}") {
        lines.push(format!("partial: {rest:?}"));
    }
    let mut counted: Vec<String> = Vec::new();
    let mut run = 0;
    for (i, line) in lines.iter().enumerate() {
        run += 1;
        if lines.get(i + 1) != Some(line) {
            counted.push(if run > 1 {
                format!("{line} ×{run}")
            } else {
                line.clone()
            });
            run = 0;
        }
    }
    counted
}

/// Runs `case` against the server at `addr`; `creds` fills the login.
fn run_case(addr: &str, creds: &str, case: &Case) -> Seen {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).ok();
    let mut got = Vec::new();
    // The server's INFO comes first (and is left out of what is compared).
    read_for(&mut stream, Duration::from_millis(100), &mut got);
    let mut steps = case.steps.clone();
    if case.login {
        let connect =
            format!("CONNECT {{\"verbose\":false,\"pedantic\":false,\"headers\":true{creds}}}\r\n");
        steps.insert(0, Step::Send(connect.into_bytes()));
    }
    let mut closed = false;
    for step in &steps {
        match step {
            Step::Send(bytes) => {
                if stream.write_all(bytes).is_err() {
                    closed = true;
                }
            }
            Step::Trickle(bytes, gap) => {
                for b in bytes {
                    if stream.write_all(&[*b]).is_err() {
                        closed = true;
                        break;
                    }
                    thread::sleep(*gap);
                }
            }
            Step::Wait(d) => closed |= read_for(&mut stream, *d, &mut got),
        }
        if closed {
            break;
        }
    }
    if !closed {
        closed = read_for(&mut stream, SETTLE, &mut got);
    }
    Seen {
        lines: reduce(&got),
        closed,
    }
}

/// Reads for `wait` into `into`; whether the connection ended.
fn read_for(stream: &mut TcpStream, wait: Duration, into: &mut Vec<u8>) -> bool {
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).ok();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// Reads until `needle` has arrived (at most 5 s); panics if it does not.
fn read_until(stream: &mut TcpStream, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {needle:?} in {:?}",
            String::from_utf8_lossy(&got)
        );
        stream.set_read_timeout(Some(left)).ok();
        match stream.read(&mut buf) {
            Ok(0) => panic!("closed before {needle:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
}

/// A subscriber on `bystander.n` and a publisher sending numbered messages
/// to it on their own connections, until stopped; returns how many were sent
/// and the numbers received.
struct Bystander {
    stop: Arc<AtomicBool>,
    publisher: thread::JoinHandle<u64>,
    subscriber: thread::JoinHandle<Vec<u64>>,
}

impl Bystander {
    fn start(addr: &str, creds: &str) -> Bystander {
        let stop = Arc::new(AtomicBool::new(false));
        let login = format!("CONNECT {{\"verbose\":false{creds}}}\r\n");
        let mut sub = TcpStream::connect(addr).unwrap();
        let mut ignored = Vec::new();
        read_for(&mut sub, Duration::from_millis(100), &mut ignored);
        sub.write_all(format!("{login}SUB bystander.n 1\r\nPING\r\n").as_bytes())
            .unwrap();
        read_until(&mut sub, "PONG");
        let mut publ = TcpStream::connect(addr).unwrap();
        read_for(&mut publ, Duration::from_millis(100), &mut ignored);
        publ.write_all(login.as_bytes()).unwrap();
        let publisher = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = n.to_string();
                    let msg = format!("PUB bystander.n {}\r\n{body}\r\n", body.len());
                    publ.write_all(msg.as_bytes()).unwrap();
                    thread::sleep(Duration::from_millis(2));
                }
                publ.write_all(b"PING\r\n").unwrap();
                read_until(&mut publ, "PONG");
                n
            })
        };
        let subscriber = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let mut quiet_since = None;
                loop {
                    let before = bytes.len();
                    read_for(&mut sub, Duration::from_millis(100), &mut bytes);
                    if stop.load(Ordering::Relaxed) {
                        // Done once nothing more arrives for a while.
                        if bytes.len() == before {
                            let since = *quiet_since.get_or_insert_with(Instant::now);
                            if since.elapsed() > Duration::from_millis(500) {
                                break;
                            }
                        } else {
                            quiet_since = None;
                        }
                    }
                }
                numbers(&bytes)
            })
        };
        Bystander {
            stop,
            publisher,
            subscriber,
        }
    }

    /// Stops publishing; (sent, received numbers).
    fn finish(self) -> (u64, Vec<u64>) {
        self.stop.store(true, Ordering::Relaxed);
        let sent = self.publisher.join().unwrap();
        let got = self.subscriber.join().unwrap();
        (sent, got)
    }
}

/// The payloads of the MSG lines in `bytes`, as numbers.
fn numbers(bytes: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(end) = rest.find("\r\n") {
        let line = &rest[..end];
        rest = &rest[end + 2..];
        if line.starts_with("MSG ") {
            if let Some(end) = rest.find("\r\n") {
                out.push(rest[..end].parse().unwrap_or(0));
                rest = &rest[end + 2..];
            }
        }
    }
    out
}

/// A server for the cases: `config` and the credentials its logins carry
/// (as CONNECT fields, with a leading comma).
struct Setup {
    name: &'static str,
    config: String,
    creds: &'static str,
    /// Whether a plain-text bystander can use the server (not with TLS).
    bystander: bool,
    cases: Vec<Case>,
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

/// The cases on a server with no authentication.
fn open_cases() -> Vec<Case> {
    let ms = Duration::from_millis;
    let mut cases = vec![
        // Verbs and control lines.
        case("unknown verb", true, vec![send("FOO bar\r\n")]),
        case("unknown verb before CONNECT", false, vec![send("FOO\r\n")]),
        case("empty line", true, vec![send("\r\n")]),
        case("spaces only", true, vec![send("   \r\n")]),
        case("lowercase ping", true, vec![send("ping\r\n")]),
        case("mixed case pub", true, vec![send("PuB a 1\r\nx\r\nPING\r\n")]),
        case("bare LF", true, vec![send("PING\n")]),
        case("NUL bytes", true, vec![send(b"\0\0\0\r\n")]),
        case("binary garbage", true, vec![send((0u8..=255).rev().collect::<Vec<_>>())]),
        case("control line too long", true, vec![send(format!("PUB {} 1\r\nx\r\n", long(5000)))]),
        case("control line without end", true, vec![send(long(70_000))]),
        case("PONG unasked", true, vec![send("PONG\r\n")]),
        case("PING with argument", true, vec![send("PING x\r\n")]),
        case("client sends +OK", true, vec![send("+OK\r\n")]),
        case("client sends -ERR", true, vec![send("-ERR 'boom'\r\n")]),
        case("client sends MSG", true, vec![send("MSG a 1 1\r\nx\r\n")]),
        case("client sends INFO", true, vec![send("INFO {}\r\n")]),
        case("half a verb then close", true, vec![send("PU")]),
        // PUB.
        case("PUB without arguments", true, vec![send("PUB\r\n")]),
        case("PUB without size", true, vec![send("PUB a\r\n")]),
        case("PUB size not a number", true, vec![send("PUB a b\r\n")]),
        case("PUB negative size", true, vec![send("PUB a -1\r\n")]),
        case("PUB too many arguments", true, vec![send("PUB a b c 1\r\nx\r\n")]),
        case("PUB payload longer than said", true, vec![send("PUB a 2\r\nxyz\r\n")]),
        case("PUB payload shorter, then more", true, vec![send("PUB a 5\r\nab"), Step::Wait(ms(100)), send("cde\r\nPING\r\n")]),
        case("PUB payload without CRLF", true, vec![send("PUB a 1\r\nxPING\r\n")]),
        case("PUB over max_payload", true, vec![send("PUB a 2000000\r\n")]),
        case("PUB at max_payload", true, vec![send(format!("PUB a 1048576\r\n{}\r\nPING\r\n", long(1 << 20)))]),
        case("PUB zero payload", true, vec![send("PUB a 0\r\n\r\nPING\r\n")]),
        case("PUB wildcard subject", true, vec![send("PUB a.* 1\r\nx\r\nPING\r\n")]),
        case("PUB empty token", true, vec![send("PUB a..b 1\r\nx\r\nPING\r\n")]),
        case("PUB leading dot", true, vec![send("PUB .a 1\r\nx\r\nPING\r\n")]),
        case("PUB trailing dot", true, vec![send("PUB a. 1\r\nx\r\nPING\r\n")]),
        case("PUB double space", true, vec![send("PUB  a  1\r\nx\r\nPING\r\n")]),
        case("PUB tab separated", true, vec![send("PUB\ta\t1\r\nx\r\nPING\r\n")]),
        case("PUB UTF-8 subject", true, vec![send("PUB ä.ö 1\r\nx\r\nPING\r\n")]),
        case("PUB very deep subject", true, vec![send(format!("PUB {} 1\r\nx\r\nPING\r\n", vec!["t"; 1000].join(".")))]),
        case("PUB to reply with wildcard", true, vec![send("PUB a r.* 1\r\nx\r\nPING\r\n")]),
        case("PUB before CONNECT", false, vec![send("PUB a 1\r\nx\r\nPING\r\n")]),
        // SUB and UNSUB.
        case("SUB without arguments", true, vec![send("SUB\r\n")]),
        case("SUB without sid", true, vec![send("SUB a\r\n")]),
        case("SUB too many arguments", true, vec![send("SUB a q 1 2\r\n")]),
        case("SUB empty token", true, vec![send("SUB a..b 1\r\nPING\r\n")]),
        case("SUB full wildcard inside", true, vec![send("SUB a.>.b 1\r\nPING\r\n")]),
        case("SUB wildcard in a token", true, vec![send("SUB a.b* 1\r\nPING\r\n")]),
        case("SUB same sid twice", true, vec![send("SUB sd1 1\r\nSUB sd2 1\r\nPING\r\n")]),
        case("SUB bad queue name", true, vec![send("SUB sq q.* 1\r\nPING\r\n")]),
        case("SUB then its own message", true, vec![send("SUB so 1\r\nPUB so 1\r\nx\r\nPING\r\n")]),
        case("SUB before CONNECT", false, vec![send("SUB sb 1\r\nPING\r\n")]),
        case("UNSUB without sid", true, vec![send("UNSUB\r\n")]),
        case("UNSUB unknown sid", true, vec![send("UNSUB 99\r\nPING\r\n")]),
        case("UNSUB max not a number", true, vec![send("UNSUB 1 x\r\n")]),
        case("UNSUB too many arguments", true, vec![send("UNSUB 1 2 3\r\n")]),
        case("UNSUB max zero", true, vec![send("SUB u0 1\r\nUNSUB 1 0\r\nPUB u0 1\r\nx\r\nPING\r\n")]),
        case("UNSUB after one", true, vec![send("SUB u1 1\r\nUNSUB 1 1\r\nPUB u1 1\r\nx\r\nPUB u1 1\r\ny\r\nPING\r\n")]),
        // Headers.
        case("HPUB header larger than total", true, vec![send("HPUB a 10 5\r\n")]),
        case("HPUB negative header size", true, vec![send("HPUB a -1 5\r\n")]),
        case("HPUB without sizes", true, vec![send("HPUB a\r\n")]),
        case("HPUB header not NATS/1.0", true, vec![send("HPUB a 6 6\r\nHELLO!\r\nPING\r\n")]),
        case("HPUB valid", true, vec![send("HPUB a 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n")]),
        case("HPUB status line", true, vec![send("HPUB a 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPING\r\n")]),
        case("HPUB header line without colon", true, vec![send("HPUB a 19 19\r\nNATS/1.0\r\nnocolon\r\n\r\nPING\r\n")]),
        case("HPUB zero sizes", true, vec![send("HPUB a 0 0\r\n\r\nPING\r\n")]),
        case("HPUB over max_payload", true, vec![send("HPUB a 12 2000000\r\n")]),
        case("HPUB when headers off", false, vec![send("CONNECT {\"verbose\":false,\"headers\":false}\r\nHPUB a 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n")]),
        // CONNECT.
        case("CONNECT bad JSON", false, vec![send("CONNECT {bad\r\n")]),
        case("CONNECT null", false, vec![send("CONNECT null\r\nPING\r\n")]),
        case("CONNECT array", false, vec![send("CONNECT []\r\nPING\r\n")]),
        case("CONNECT string", false, vec![send("CONNECT \"x\"\r\nPING\r\n")]),
        case("CONNECT without document", false, vec![send("CONNECT\r\n")]),
        case("CONNECT wrong type", false, vec![send("CONNECT {\"verbose\":\"yes\"}\r\nPING\r\n")]),
        case("CONNECT unknown fields", false, vec![send("CONNECT {\"bogus\":1,\"verbose\":false}\r\nPING\r\n")]),
        case("CONNECT protocol 99", false, vec![send("CONNECT {\"verbose\":false,\"protocol\":99}\r\nPING\r\n")]),
        case("CONNECT no_responders without headers", false, vec![send("CONNECT {\"verbose\":false,\"no_responders\":true,\"headers\":false}\r\nPING\r\n")]),
        case("CONNECT asks for TLS", false, vec![send("CONNECT {\"verbose\":false,\"tls_required\":true}\r\nPING\r\n")]),
        case("CONNECT twice", true, vec![send("CONNECT {\"verbose\":false}\r\nPING\r\n")]),
        case("CONNECT too long", false, vec![send(format!("CONNECT {{\"name\":\"{}\"}}\r\n", long(70_000)))]),
        case("verbose answers +OK", false, vec![send("CONNECT {\"verbose\":true}\r\nPUB sv 1\r\nx\r\nSUB sv 1\r\nPING\r\n")]),
        case("pedantic wildcard publish", false, vec![send("CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB a.* 1\r\nx\r\nPING\r\n")]),
        case("pedantic empty token", false, vec![send("CONNECT {\"verbose\":false,\"pedantic\":true}\r\nPUB a..b 1\r\nx\r\nPING\r\n")]),
        // Other protocols on the client port.
        case("TLS ClientHello", false, vec![send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")]),
        case("HTTP GET", false, vec![send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]),
        case("HTTP POST", false, vec![send("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")]),
        case("SSH banner", false, vec![send("SSH-2.0-OpenSSH_9.0\r\n")]),
        // Slow writers and floods.
        case("PUB a byte at a time", true, vec![Step::Trickle(b"PUB a 3\r\nabc\r\nPING\r\n".to_vec(), ms(20))]),
        case("CONNECT a byte at a time", false, vec![Step::Trickle(b"CONNECT {\"verbose\":false}\r\nPING\r\n".to_vec(), ms(5))]),
        case("ten thousand PINGs", true, vec![send("PING\r\n".repeat(10_000))]),
        case("ten thousand PUBs", true, vec![send("PUB a 1\r\nx\r\n".repeat(10_000) + "PING\r\n")]),
        case("thousand SUBs and UNSUBs", true, vec![send((1..=1000).map(|i| format!("SUB s.{i} {i}\r\nUNSUB {i}\r\n")).collect::<String>() + "PING\r\n")]),
    ];
    cases.push(case(
        "PUB split across writes",
        true,
        vec![
            send("PUB a"),
            Step::Wait(ms(50)),
            send(" 1\r"),
            Step::Wait(ms(50)),
            send("\nx\r\nPING\r\n"),
        ],
    ));
    cases
}

/// The cases on a server that requires a user and password.
fn auth_cases() -> Vec<Case> {
    vec![
        case("auth: PING before CONNECT", false, vec![send("PING\r\n")]),
        case(
            "auth: PUB before CONNECT",
            false,
            vec![send("PUB a 1\r\nx\r\n")],
        ),
        case("auth: SUB before CONNECT", false, vec![send("SUB a 1\r\n")]),
        case(
            "auth: no credentials",
            false,
            vec![send("CONNECT {\"verbose\":false}\r\nPING\r\n")],
        ),
        case(
            "auth: wrong password",
            false,
            vec![send(
                "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"bad\"}\r\nPING\r\n",
            )],
        ),
        case(
            "auth: unknown user",
            false,
            vec![send(
                "CONNECT {\"verbose\":false,\"user\":\"x\",\"pass\":\"p\"}\r\nPING\r\n",
            )],
        ),
        case(
            "auth: token instead",
            false,
            vec![send(
                "CONNECT {\"verbose\":false,\"auth_token\":\"p\"}\r\nPING\r\n",
            )],
        ),
        case(
            "auth: CONNECT null",
            false,
            vec![send("CONNECT null\r\nPING\r\n")],
        ),
        case(
            "auth: silence past the timeout",
            false,
            vec![Step::Wait(Duration::from_millis(1500))],
        ),
        case("auth: good login", true, vec![send("PING\r\n")]),
        case(
            "auth: max subscriptions",
            true,
            vec![send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")],
        ),
    ]
}

/// The cases on a server that requires TLS: bytes that are not a TLS
/// handshake, after the INFO it sends in clear.
fn tls_cases() -> Vec<Case> {
    let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec();
    vec![
        case(
            "tls: plain CONNECT",
            false,
            vec![send("CONNECT {\"verbose\":false}\r\nPING\r\n")],
        ),
        case("tls: plain PING", false, vec![send("PING\r\n")]),
        case(
            "tls: garbage",
            false,
            vec![send(
                (0u8..200).map(|b| b.wrapping_mul(37)).collect::<Vec<_>>(),
            )],
        ),
        case(
            "tls: HTTP GET",
            false,
            vec![send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
        ),
        case(
            "tls: a record too large",
            false,
            vec![send(b"\x16\x03\x01\xff\xff")],
        ),
        case(
            "tls: half a ClientHello",
            false,
            vec![send(hello), Step::Wait(Duration::from_millis(300))],
        ),
    ]
}

#[test]
fn hostile_input_gets_the_reference_answers_and_harms_no_bystander() {
    let reference = gannet_test::reference_server_binary()
        .expect("this test compares with nats-server 2.15: scripts/install-reference.sh");
    let pki = Pki::temp();
    let server_cert = pki.server_cert("server", KeyKind::Ecdsa);
    let setups = [
        Setup {
            name: "open",
            config: "max_payload: 1048576\n".into(),
            creds: "",
            bystander: true,
            cases: open_cases(),
        },
        Setup {
            name: "auth",
            config: "authorization { user: u, password: p, timeout: 1 }\nmax_subscriptions: 2\n"
                .into(),
            creds: ",\"user\":\"u\",\"pass\":\"p\"",
            bystander: true,
            cases: auth_cases(),
        },
        Setup {
            name: "tls",
            config: tls_block(&server_cert, pki.ca_str(), ""),
            creds: "",
            bystander: false,
            cases: tls_cases(),
        },
    ];
    let total: usize = setups.iter().map(|s| s.cases.len()).sum();
    assert!(total >= 80, "{total} cases");
    let mut differences = Vec::new();
    for setup in &setups {
        let mut seen: BTreeMap<&str, Vec<Seen>> = BTreeMap::new();
        for binary in [BIN, reference.as_str()] {
            let server = ServerProcess::start_with_config(binary, Some(&setup.config), &[]);
            let addr = server.addr();
            let bystander = setup
                .bystander
                .then(|| Bystander::start(&addr, setup.creds));
            // Every case on its own connection, all at once.
            let results: Vec<Seen> = thread::scope(|scope| {
                let handles: Vec<_> = setup
                    .cases
                    .iter()
                    .map(|c| {
                        let addr = &addr;
                        scope.spawn(move || run_case(addr, setup.creds, c))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            if let Some(bystander) = bystander {
                let (sent, got) = bystander.finish();
                let expected: Vec<u64> = (1..=sent).collect();
                assert!(
                    got == expected,
                    "{binary} ({}): the bystander got {} of {sent} messages in order",
                    setup.name,
                    got.len()
                );
            }
            for (case, result) in setup.cases.iter().zip(results) {
                seen.entry(case.name.as_str()).or_default().push(result);
            }
            drop(server);
        }
        for (name, results) in &seen {
            if results[0] != results[1] {
                differences.push(format!(
                    "{} / {name}:\n  gannet:      {:?}\n  nats-server: {:?}",
                    setup.name, results[0], results[1]
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {total} cases differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
