//! Properties of the parser as its caller sees it: a stream parses to the same
//! op sequence (and the same final error) however it is cut into reads, encoded
//! client ops round-trip, and arbitrary bytes never panic or loop.
//!
//! The driver below is the caller's loop: keep the unconsumed bytes, append the
//! next read, parse until the parser asks for more.
use gannet_proto::{ClientOp, Limits, ParseError, Parser};
use proptest::prelude::*;

/// An owned copy of a [`ClientOp`], to compare sequences across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Connect(Vec<u8>),
    Pub {
        subject: Vec<u8>,
        reply: Option<Vec<u8>>,
        payload: Vec<u8>,
    },
    HPub {
        subject: Vec<u8>,
        reply: Option<Vec<u8>>,
        headers: Vec<u8>,
        payload: Vec<u8>,
    },
    Sub {
        subject: Vec<u8>,
        queue: Option<Vec<u8>>,
        sid: Vec<u8>,
    },
    Unsub {
        sid: Vec<u8>,
        max: Option<u64>,
    },
    Ping,
    Pong,
    Info,
    Ok,
    Err,
}

impl From<ClientOp<'_>> for Op {
    fn from(op: ClientOp<'_>) -> Self {
        match op {
            ClientOp::Connect { json } => Op::Connect(json.to_vec()),
            ClientOp::Pub {
                subject,
                reply,
                payload,
            } => Op::Pub {
                subject: subject.to_vec(),
                reply: reply.map(<[u8]>::to_vec),
                payload: payload.to_vec(),
            },
            ClientOp::HPub {
                subject,
                reply,
                headers,
                payload,
            } => Op::HPub {
                subject: subject.to_vec(),
                reply: reply.map(<[u8]>::to_vec),
                headers: headers.to_vec(),
                payload: payload.to_vec(),
            },
            ClientOp::Sub {
                subject,
                queue,
                sid,
            } => Op::Sub {
                subject: subject.to_vec(),
                queue: queue.map(<[u8]>::to_vec),
                sid: sid.to_vec(),
            },
            ClientOp::Unsub { sid, max } => Op::Unsub {
                sid: sid.to_vec(),
                max,
            },
            ClientOp::Ping => Op::Ping,
            ClientOp::Pong => Op::Pong,
            ClientOp::Info => Op::Info,
            ClientOp::Ok => Op::Ok,
            ClientOp::Err => Op::Err,
        }
    }
}

/// How one op is spelled on the wire; all spellings mean the same op.
#[derive(Debug, Clone)]
struct Style {
    /// Bit i set: the i-th letter of the op name is lower case.
    case_mask: u8,
    /// Separator between the name and each argument.
    blank: &'static [u8],
    /// Control line end.
    eol: &'static [u8],
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<u8>(),
        prop::sample::select(vec![&b" "[..], b"\t", b"  ", b" \t "]),
        prop::sample::select(vec![&b"\r\n"[..], b"\n"]),
    )
        .prop_map(|(case_mask, blank, eol)| Style {
            case_mask,
            blank,
            eol,
        })
}

/// The test-only client encoder.
fn encode(op: &Op, style: &Style, out: &mut Vec<u8>) {
    let name: &[u8] = match op {
        Op::Connect(_) => b"CONNECT",
        Op::Pub { .. } => b"PUB",
        Op::HPub { .. } => b"HPUB",
        Op::Sub { .. } => b"SUB",
        Op::Unsub { .. } => b"UNSUB",
        Op::Ping => b"PING",
        Op::Pong => b"PONG",
        Op::Info => b"INFO",
        Op::Ok => b"+OK",
        Op::Err => b"-ERR",
    };
    for (i, &b) in name.iter().enumerate() {
        let lower = style.case_mask & (1 << (i % 8)) != 0;
        out.push(if lower { b.to_ascii_lowercase() } else { b });
    }
    let arg = |out: &mut Vec<u8>, a: &[u8]| {
        out.extend_from_slice(style.blank);
        out.extend_from_slice(a);
    };
    match op {
        Op::Connect(json) => arg(out, json),
        Op::Pub {
            subject,
            reply,
            payload,
        } => {
            arg(out, subject);
            if let Some(r) = reply {
                arg(out, r);
            }
            arg(out, payload.len().to_string().as_bytes());
        }
        Op::HPub {
            subject,
            reply,
            headers,
            payload,
        } => {
            arg(out, subject);
            if let Some(r) = reply {
                arg(out, r);
            }
            arg(out, headers.len().to_string().as_bytes());
            arg(out, (headers.len() + payload.len()).to_string().as_bytes());
        }
        Op::Sub {
            subject,
            queue,
            sid,
        } => {
            arg(out, subject);
            if let Some(q) = queue {
                arg(out, q);
            }
            arg(out, sid);
        }
        Op::Unsub { sid, max } => {
            arg(out, sid);
            if let Some(m) = max {
                arg(out, m.to_string().as_bytes());
            }
        }
        Op::Info => arg(out, b"{\"server_id\":\"x\"}"),
        Op::Err => arg(out, b"'oops'"),
        Op::Ping | Op::Pong | Op::Ok => {}
    }
    out.extend_from_slice(style.eol);
    match op {
        Op::Pub { payload, .. } => {
            out.extend_from_slice(payload);
            out.extend_from_slice(b"\r\n");
        }
        Op::HPub {
            headers, payload, ..
        } => {
            out.extend_from_slice(headers);
            out.extend_from_slice(payload);
            out.extend_from_slice(b"\r\n");
        }
        _ => {}
    }
}

fn word() -> impl Strategy<Value = Vec<u8>> {
    "[a-zA-Z0-9_$*>.-]{1,10}".prop_map(String::into_bytes)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        "\\{(\"[a-z]{1,6}\":[0-9]{1,4},?){0,3}\\}".prop_map(|j| Op::Connect(j.into_bytes())),
        (word(), prop::option::of(word()), bytes(48)).prop_map(|(subject, reply, payload)| {
            Op::Pub {
                subject,
                reply,
                payload,
            }
        }),
        (word(), prop::option::of(word()), bytes(24), bytes(24)).prop_map(
            |(subject, reply, headers, payload)| Op::HPub {
                subject,
                reply,
                headers,
                payload,
            }
        ),
        (word(), prop::option::of(word()), word()).prop_map(|(subject, queue, sid)| Op::Sub {
            subject,
            queue,
            sid,
        }),
        (word(), prop::option::of(0u64..=999_999_999))
            .prop_map(|(sid, max)| Op::Unsub { sid, max }),
        Just(Op::Ping),
        Just(Op::Pong),
        Just(Op::Info),
        Just(Op::Ok),
        Just(Op::Err),
    ]
}

/// Lines and pieces that lead into the parser's error and limit paths.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let vocabulary: Vec<&'static [u8]> = vec![
        b"PUB ",
        b"HPUB ",
        b"SUB ",
        b"UNSUB ",
        b"PING",
        b"PONG",
        b"CONNECT",
        b"INFO",
        b"+OK",
        b"-ERR ",
        b"MSG ",
        b"pub ",
        b"sub\t",
        b"foo ",
        b"a.b ",
        b"q ",
        b"1 ",
        b"0",
        b"5",
        b"12",
        b"-1",
        b"x",
        b"999999999",
        b"1234567890",
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b"\r\n",
        b"hello",
        b"NATS/1.0\r\n\r\n",
        b"{}",
        b"PUB a 1\r\nx\r\n",
        b"PUB a 2\r\nx\r\n",
        b"SUB a 1\r\n",
        b"PING\r\n",
        b"HPUB h 2 3\r\nab",
        b"HPUB h 3 2\r\n",
    ];
    prop_oneof![
        3 => prop::sample::select(vocabulary).prop_map(<[u8]>::to_vec),
        1 => bytes(8),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        (0usize..40, 0usize..40).prop_map(|(max_control_line, max_payload)| Limits {
            max_control_line,
            max_payload,
        }),
    ]
}

/// What a run produced: the ops, then the error that ended it, if any.
type Outcome = (Vec<Op>, Option<ParseError>);

/// Feeds `chunks` to a fresh parser the way a connection's read loop would.
fn run<'a>(limits: Limits, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = Parser::new(limits);
    let mut pending = Vec::new();
    let mut ops = Vec::new();
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        let mut at = 0;
        loop {
            match parser.parse(&pending[at..]) {
                Ok(Some((op, n))) => {
                    assert!(n > 0 && n <= pending.len() - at, "consumed {n}");
                    ops.push(op.into());
                    at += n;
                }
                Ok(None) => break,
                Err(e) => return (ops, Some(e)),
            }
        }
        pending.drain(..at);
    }
    (ops, None)
}

fn whole(limits: Limits, input: &[u8]) -> Outcome {
    run(limits, [input])
}

/// Cuts `input` at the given points (any order, duplicates allowed).
fn cut<'a>(input: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut from = 0;
    for p in points {
        chunks.push(&input[from..p]);
        from = p;
    }
    chunks.push(&input[from..]);
    chunks
}

fn assert_split_invariant(limits: Limits, input: &[u8], cuts: &[usize]) {
    let expected = whole(limits, input);
    for split in 0..=input.len() {
        let got = run(limits, [&input[..split], &input[split..]]);
        assert_eq!(got, expected, "single split at {split}");
    }
    let got = run(limits, input.chunks(1));
    assert_eq!(got, expected, "byte by byte");
    let got = run(limits, cut(input, cuts));
    assert_eq!(got, expected, "multi split at {cuts:?}");
}

proptest! {
    #[test]
    fn encoded_ops_round_trip(ops in prop::collection::vec((op(), style()), 0..12)) {
        let mut input = Vec::new();
        for (op, style) in &ops {
            encode(op, style, &mut input);
        }
        let expected: Vec<Op> = ops.into_iter().map(|(op, _)| op).collect();
        prop_assert_eq!(whole(Limits::default(), &input), (expected, None));
    }

    #[test]
    fn encoded_stream_parses_the_same_however_split(
        ops in prop::collection::vec((op(), style()), 0..8),
        tail in prop::collection::vec(fragment(), 0..3),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        limits in limits(),
    ) {
        let mut input = Vec::new();
        for (op, style) in &ops {
            encode(op, style, &mut input);
        }
        input.extend(tail.concat());
        assert_split_invariant(limits, &input, &cuts);
    }

    #[test]
    fn protocol_soup_parses_the_same_however_split(
        soup in prop::collection::vec(fragment(), 0..40),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        limits in limits(),
    ) {
        assert_split_invariant(limits, &soup.concat(), &cuts);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_loop(
        input in bytes(256),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
        limits in limits(),
    ) {
        let expected = whole(limits, &input);
        prop_assert_eq!(run(limits, cut(&input, &cuts)), expected);
    }
}

#[test]
fn transcript_client_lines_parse_as_expected() {
    let input: &[u8] = b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nsub\tfoo  1\r\n\
        pub foo\t 2\r\nhi\r\nPing\nSUB foo q1 2\r\nPUB foo bar.reply 5\r\nhello\r\n\
        HPUB h rep.1 24 29\r\nNATS/1.0\r\nA: 1\r\nB: 2\r\n\r\nhello\r\nUNSUB 3 x\r\nINFO {}\r\n+OK\r\nPONG\r\nPING foo\r\nPINGX\r\n-ERR 'x'\r\n";
    let (ops, error) = whole(Limits::default(), input);
    assert_eq!(error, None);
    assert_eq!(ops.len(), 14);
    assert_eq!(
        ops[2],
        Op::Pub {
            subject: b"foo".to_vec(),
            reply: None,
            payload: b"hi".to_vec()
        }
    );
    assert_eq!(
        ops[7],
        Op::Unsub {
            sid: b"3".to_vec(),
            max: None
        }
    );
    assert_split_invariant(Limits::default(), input, &[7, 100, 200]);
}
