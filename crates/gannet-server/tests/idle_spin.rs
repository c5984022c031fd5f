//! `idle_spin`: off by default; when set, while a client keeps exchanging
//! messages with the server, the server's worker spins between them instead of
//! going to sleep, and when the traffic stops, so does the spinning. Sleeps are
//! counted as the server's voluntary context switches, spinning as its CPU
//! time, both from /proc.
use std::process::Command;
use std::time::Duration;

use gannet_test::{RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;
const ROUND_TRIPS: u32 = 300;
/// The client's pause between round trips: long enough that a server which
/// does not spin always goes to sleep, even when it shares its CPU with the
/// client; shorter than the spin limits used here.
const PAUSE: Duration = Duration::from_millis(1);
/// A pause within which a spinning server keeps polling: the old default
/// (100 µs) spun through gaps of up to 200 µs.
const SHORT_PAUSE: Duration = Duration::from_micros(50);

/// The voluntary context switches of every thread of process `pid`.
fn voluntary_switches(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("task list");
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .sum()
}

/// The run time of every thread of process `pid` (to the nanosecond, where
/// `cpu_ticks` counts in hundredths of a second).
fn run_time(pid: u32) -> Duration {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("task list");
    let nanos = tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split(' ').next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// User plus system CPU time of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

/// PING/PONG round trips, `pause` apart.
fn exchange(c: &mut RawClient, round_trips: u32, pause: Duration) {
    for _ in 0..round_trips {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        c.send(b"PING\r\n");
        c.expect(b"PONG\r\n");
    }
}

/// Sleeps of server `s` per PING/PONG round trip of client `c`, `pause` apart.
fn sleeps_per_round_trip(s: &ServerProcess, c: &mut RawClient, pause: Duration) -> f64 {
    // Warm up: the spin window widens over the first short idle spells.
    exchange(c, 20, pause);
    let before = voluntary_switches(s.pid());
    exchange(c, ROUND_TRIPS, pause);
    let sleeps = voluntary_switches(s.pid()) - before;
    f64::from(u32::try_from(sleeps).unwrap_or(u32::MAX)) / f64::from(ROUND_TRIPS)
}

/// Sleeps per round trip, `pause` apart, of a server started with `args`.
fn sleeps_with_args(args: &[&str], pause: Duration) -> f64 {
    let s = ServerProcess::start(BIN, args);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    sleeps_per_round_trip(&s, &mut c, pause)
}

/// Rewrites the config file of `s` to `config` and reloads it.
fn reload(s: &ServerProcess, config: &str) {
    std::fs::write(s.config_path(), config).expect("rewrite config");
    let hup = Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());
    let log = s.wait_log("Reloaded server configuration");
    assert!(log.contains("Reloaded server configuration"), "{log}");
}

#[test]
fn a_busy_exchange_keeps_the_worker_awake() {
    let off = sleeps_with_args(&["--idle_spin", "0"], PAUSE);
    let on = sleeps_with_args(&["--idle_spin", "10ms"], PAUSE);
    assert!(
        off >= 0.5,
        "without spinning the server sleeps between messages: {off}"
    );
    assert!(
        on < off / 4.0,
        "with spinning it should rarely sleep: {on} sleeps per round trip, {off} without"
    );
}

/// Server CPU time per round trip, `pause` apart, of a server started with `args`.
fn cpu_per_round_trip(args: &[&str], pause: Duration) -> Duration {
    let s = ServerProcess::start(BIN, args);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    exchange(&mut c, 20, pause);
    let before = run_time(s.pid());
    exchange(&mut c, ROUND_TRIPS, pause);
    (run_time(s.pid()) - before) / ROUND_TRIPS
}

/// Round trips close together, which a spinning server spends most of each gap
/// polling through (here 130–150 µs of CPU per round trip with the old default,
/// 100 µs, and about 210 µs with 10 ms): by default the server does not spin,
/// and pays for the messages alone (45–60 µs; 150 µs on a slower machine), as
/// with spinning turned off. The default is compared with both, so that the
/// machine's speed does not decide.
#[test]
fn the_default_does_not_spin() {
    let off = cpu_per_round_trip(&["--idle_spin", "0"], SHORT_PAUSE);
    let default = cpu_per_round_trip(&[], SHORT_PAUSE);
    let on = cpu_per_round_trip(&["--idle_spin", "10ms"], SHORT_PAUSE);
    assert!(
        default < (off + on) / 2,
        "by default the server should not spin between messages: {default:?} of CPU \
         per round trip, {off:?} with spinning off, {on:?} with spinning"
    );
    assert!(
        sleeps_with_args(&[], PAUSE) >= 0.5,
        "by default the server sleeps between messages"
    );
}

#[test]
fn a_reload_changes_the_spin_limit() {
    let s = ServerProcess::start_with_config(BIN, Some("idle_spin: \"10ms\"\n"), &[]);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    let on = sleeps_per_round_trip(&s, &mut c, PAUSE);
    assert!(
        on < 0.25,
        "spinning from the config file: {on} sleeps per round trip"
    );

    reload(&s, "idle_spin: \"0s\"\n");
    let off = sleeps_per_round_trip(&s, &mut c, PAUSE);
    assert!(
        off >= 0.5,
        "no spinning after the reload: {off} sleeps per round trip"
    );
}

/// Spinning switched on by a reload covers connections made before it.
#[test]
fn a_reload_turns_spinning_on_from_the_default() {
    let s = ServerProcess::start_with_config(BIN, Some("debug: false\n"), &[]);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    let off = sleeps_per_round_trip(&s, &mut c, PAUSE);
    assert!(
        off >= 0.5,
        "no spinning by default: {off} sleeps per round trip"
    );

    reload(&s, "debug: false\nidle_spin: \"10ms\"\n");
    let on = sleeps_per_round_trip(&s, &mut c, PAUSE);
    assert!(
        on < 0.25,
        "spinning after the reload: {on} sleeps per round trip"
    );
}

#[test]
fn spinning_stops_when_the_traffic_does() {
    let s = ServerProcess::start(BIN, &["--idle_spin", "10ms"]);
    let mut c = RawClient::connect_with(&s.addr(), QUIET);
    exchange(&mut c, ROUND_TRIPS, PAUSE);
    let before = cpu_ticks(s.pid());
    std::thread::sleep(Duration::from_secs(1));
    let ticks = cpu_ticks(s.pid()) - before;
    // A server that kept spinning would use most of a CPU second (100 ticks).
    assert!(ticks <= 10, "{ticks} ticks of CPU in an idle second");
    c.send(b"PING\r\n");
    c.expect(b"PONG\r\n");
}

#[test]
fn a_spin_limit_over_ten_milliseconds_is_refused() {
    let out = Command::new(BIN)
        .args(["--idle_spin", "11ms"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("can be at most 10ms"), "{stderr}");
}
