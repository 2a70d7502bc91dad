//! Runs every benchmark and writes BENCHMARKS.md and benchmarks.svg:
//! `cargo run --release -p specter-bench --bin bench [-- --quick] [--out DIR]`.
//!
//! Throughput: Specter, raw socketioxide, node's socket.io and Python SPECTER, each in
//! its own process, driven by the same load generator. Memory per idle connection,
//! heap allocations per dispatch (in process) and startup time of the ingress.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use std::time::{Duration, Instant};

use serde_json::json;
use specter::{Events, Handler, ServiceManager, Source};
use specter_bench::loadgen::{self, Until};
use specter_bench::process::Server;
use specter_bench::report::{Allocations, Broadcast, Memory, Report, Startup, Throughput};
use specter_bench::{alloc, apps, fanout};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// How much of everything to run.
struct Plan {
    /// Throughput rounds; each figure is the median of its rounds.
    rounds: usize,
    subscribers: Vec<usize>,
    servers: Vec<&'static str>,
    connections: usize,
    warmup: Until,
    until: Until,
    /// Idle clients per memory run: the first count also runs with `memory_events`.
    memory_clients: Vec<usize>,
    memory_events: Vec<usize>,
    /// The servers of the memory and scale comparison.
    memory_servers: Vec<&'static str>,
    /// Clients connecting at once for the connects-per-second figure.
    burst_clients: usize,
    /// How long the idle CPU of the largest run is measured.
    idle_window: Duration,
    round_trips: u64,
    startup: Vec<(&'static str, usize, usize)>,
    /// Events of the flood against a rate limit.
    flood_events: u64,
    /// Receivers and messages of the broadcast benchmark.
    receivers: usize,
    messages: u64,
    /// Whether to count instructions with callgrind (slow) for the pipeline figures.
    callgrind: bool,
}

impl Plan {
    fn full() -> Self {
        Self {
            rounds: 3,
            subscribers: vec![1, 3, 10],
            servers: vec![
                "specter",
                "raw socketioxide",
                "node socket.io",
                "python SPECTER",
            ],
            connections: 16,
            warmup: Until::Time(Duration::from_secs(1)),
            until: Until::Time(Duration::from_secs(5)),
            // 50,000 is the goal; a run reaches what the open-files limit allows (the
            // note in the report says which).
            memory_clients: vec![5_000, 19_000],
            memory_events: vec![1, 50],
            memory_servers: vec![
                "specter",
                "raw socketioxide",
                "node socket.io",
                "python SPECTER",
            ],
            burst_clients: 5_000,
            idle_window: Duration::from_secs(30),
            round_trips: 5_000,
            startup: vec![
                ("10,000 events x 1 subscriber", 10_000, 1),
                ("100 events x 100 subscribers", 100, 100),
                ("1 event x 10,000 subscribers", 1, 10_000),
            ],
            flood_events: 100_000,
            receivers: 500,
            messages: 200,
            callgrind: true,
        }
    }

    /// A tiny workload that runs the whole harness in seconds (for the test suite).
    fn quick() -> Self {
        Self {
            rounds: 1,
            subscribers: vec![1],
            servers: vec!["specter", "raw socketioxide"],
            connections: 3,
            warmup: Until::Acks(10),
            until: Until::Acks(100),
            memory_clients: vec![20],
            memory_events: vec![1],
            memory_servers: vec!["specter", "raw socketioxide"],
            burst_clients: 50,
            idle_window: Duration::from_secs(1),
            round_trips: 50,
            startup: vec![("1,000 events x 1 subscriber", 1_000, 1)],
            flood_events: 2_000,
            receivers: 20,
            messages: 20,
            callgrind: false,
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bench_server(kind: &str, subscribers: usize, events: usize) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["serve", kind, &subscribers.to_string(), &events.to_string()]);
    cmd
}

/// Runs `program args` in `dir`; an error says what failed.
fn run(dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    let status = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("{program} is required: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`{program} {}` failed in {}", args.join(" "), dir.display()))
}

/// The command that starts `server` with `s` subscribers, installing its packages first.
fn server_command(server: &str, s: usize) -> Result<Command, String> {
    let bench = root().join("specter-bench");
    Ok(match server {
        "specter" => bench_server("specter", s, 1),
        "raw socketioxide" => bench_server("raw", s, 1),
        order if order.starts_with("order-") => bench_server(order, s, 1),
        "pipeline" | "limited" => bench_server(server, s, 1),
        "node socket.io" | "node socket.io fanout" => {
            let dir = bench.join("node");
            specter_bench::process::npm_ci_if_stale(&dir)?;
            let script = match server {
                "node socket.io" => "server.mjs",
                _ => "fanout.mjs",
            };
            let mut cmd = Command::new("node");
            cmd.arg(dir.join(script)).arg(s.to_string());
            cmd
        }
        "python SPECTER" => {
            let venv = root().join("target/bench-py-venv");
            let python = venv.join("bin/python");
            if !python.exists() {
                run(&root(), "python3", &["-m", "venv", venv.to_str().unwrap()])?;
                let req = bench.join("python/requirements.txt");
                run(
                    &root(),
                    venv.join("bin/pip").to_str().unwrap(),
                    &["install", "-q", "-r", req.to_str().unwrap()],
                )?;
            }
            let mut cmd = Command::new(python);
            cmd.arg(bench.join("python/server.py")).arg(s.to_string());
            cmd
        }
        other => return Err(format!("no server {other}")),
    })
}

async fn throughput(plan: &Plan, report: &mut Report) -> Result<(), String> {
    let mut runs: Vec<Throughput> = Vec::new();
    // Rounds interleave the servers, so that a noisy minute hurts them all alike.
    for round in 1..=plan.rounds {
        for &s in &plan.subscribers {
            for server in &plan.servers {
                let t = measure(plan, server, s).await?;
                eprintln!(
                    "round {round} {server:>18} S={s:<2} {:>9.0} acks/s  p50 {:>6} µs  p99 {:>6} µs  server {:>5.1} µs CPU/ack, {:.2} cores",
                    t.rate, t.p50_us, t.p99_us, t.cpu_us_per_ack, t.server_cores
                );
                runs.push(t);
            }
        }
    }
    for &s in &plan.subscribers {
        for server in &plan.servers {
            let mut mine: Vec<_> = runs
                .iter()
                .filter(|t| t.server == *server && t.subscribers == s)
                .cloned()
                .collect();
            mine.sort_by(|a, b| a.rate.total_cmp(&b.rate));
            report.throughput.push(mine.swap_remove(mine.len() / 2));
        }
    }
    Ok(())
}

/// The broadcast benchmark (`specter_bench::fanout`): Specter, raw socketioxide and
/// node's socket.io, `rounds` interleaved rounds of `receivers` x `messages`
/// deliveries; the median of each by wall time.
async fn broadcast(
    rounds: usize,
    receivers: usize,
    messages: u64,
    report: &mut Report,
) -> Result<(), String> {
    let servers = [
        ("specter", "fanout-specter"),
        ("raw socketioxide", "fanout-raw"),
        ("node socket.io", "node socket.io fanout"),
    ];
    let mut runs: Vec<Broadcast> = Vec::new();
    for round in 1..=rounds {
        for (name, kind) in servers {
            let cmd = match kind {
                "node socket.io fanout" => server_command(kind, 1)?,
                _ => bench_server(kind, 1, 1),
            };
            let server = Server::start(cmd).await?;
            let clients = fanout::connect(&server.url, receivers, messages, 0).await?;
            let cpu = server.cpu_us();
            let run = clients.run(Duration::from_secs(60)).await?;
            let cpu = server.cpu_us() - cpu;
            let b = Broadcast {
                server: name.to_owned(),
                receivers,
                messages,
                delivered: run.delivered,
                wall_ms: run.wall.as_secs_f64() * 1e3,
                cpu_us_per_delivery: cpu as f64 / run.delivered.max(1) as f64,
            };
            eprintln!(
                "round {round} {name:>18} {} of {} delivered in {:>7.1} ms, server {:.2} µs CPU per delivery",
                b.delivered,
                receivers as u64 * messages,
                b.wall_ms,
                b.cpu_us_per_delivery
            );
            runs.push(b);
        }
    }
    for (name, _) in servers {
        let mut mine: Vec<_> = runs.iter().filter(|b| b.server == name).cloned().collect();
        mine.sort_by(|a, b| a.wall_ms.total_cmp(&b.wall_ms));
        report.broadcast.push(mine.swap_remove(mine.len() / 2));
    }
    Ok(())
}

/// The median run (by server CPU per ack) of each variant at S = 3, over interleaved
/// rounds, in the order of `variants`.
async fn medians_at_3(plan: &Plan, variants: &[&str]) -> Result<Vec<Throughput>, String> {
    let mut runs: Vec<Throughput> = Vec::new();
    for round in 1..=plan.rounds {
        for &variant in variants {
            let t = measure(plan, variant, 3).await?;
            eprintln!(
                "round {round} {variant:>18} S=3  {:>9.0} acks/s  server {:>5.1} µs CPU/ack",
                t.rate, t.cpu_us_per_ack
            );
            runs.push(t);
        }
    }
    Ok(variants
        .iter()
        .map(|variant| {
            let mut mine: Vec<_> = runs
                .iter()
                .filter(|t| t.server == *variant)
                .cloned()
                .collect();
            mine.sort_by(|a, b| a.cpu_us_per_ack.total_cmp(&b.cpu_us_per_ack));
            mine.swap_remove(mine.len() / 2)
        })
        .collect())
}

/// Per-socket order on and off, plain and async subscribers, at S = 3: medians of
/// interleaved rounds.
async fn order(plan: &Plan, report: &mut Report) -> Result<(), String> {
    const VARIANTS: [&str; 4] = [
        "order-sync-on",
        "order-sync-off",
        "order-async-on",
        "order-async-off",
    ];
    report.order = medians_at_3(plan, &VARIANTS).await?;
    Ok(())
}

/// What the pipeline costs at S = 3 (CPU per ack, medians of interleaved rounds, and
/// instructions per ack when valgrind is there), and the flood figure.
async fn pipeline(plan: &Plan, report: &mut Report) -> Result<(), String> {
    const VARIANTS: [&str; 2] = ["order-sync-on", "pipeline"];
    let medians = medians_at_3(plan, &VARIANTS).await?;
    let valgrind = plan.callgrind
        && std::process::Command::new("valgrind")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    for (variant, median) in VARIANTS.into_iter().zip(medians) {
        let instructions = if valgrind {
            let per_ack = instructions_per_ack(variant, 3).await?;
            eprintln!("instructions {variant:>18} S=3  {per_ack:>9.0} per ack");
            Some(per_ack)
        } else {
            None
        };
        report.pipeline.push(specter_bench::report::PipelineCost {
            server: variant.to_owned(),
            cpu_us_per_ack: median.cpu_us_per_ack,
            instructions,
        });
    }
    report.flood = Some(flood(plan.flood_events).await?);
    Ok(())
}

/// One client floods the `limited` server (1,000 `bench` a second per socket) with
/// `events` events while a second emits every 10 ms: acks, RSS, the second's latency.
async fn flood(events: u64) -> Result<specter_bench::report::Flood, String> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let every = Duration::from_millis(10);
    let srv = Server::start(bench_server("limited", 1, 1)).await?;
    let probe = |url: String, stop: Arc<AtomicBool>| {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(loadgen::paced(&url, every, stop))
        })
    };
    // The second client alone, for a second.
    let stop = Arc::new(AtomicBool::new(false));
    let alone = probe(srv.url.clone(), stop.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let alone = alone.join().map_err(|_| "probe panicked")??;
    let rss_before = srv.rss();
    // Then beside the flood.
    let stop = Arc::new(AtomicBool::new(false));
    let beside = probe(srv.url.clone(), stop.clone());
    let url = srv.url.clone();
    let flooder = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(loadgen::flood(&url, events))
    });
    let mut rss_peak = rss_before;
    while !flooder.is_finished() {
        rss_peak = rss_peak.max(srv.rss());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let flood = flooder.join().map_err(|_| "flood panicked")??;
    let beside = beside.join().map_err(|_| "probe panicked")??;
    eprintln!(
        "flood: {} sent, {} answered, {} rate_limited, {} overloaded, closed by the server: {} in {:.2} s; RSS {} -> {} kB; probe p50/p99 {}/{} µs alone, {}/{} µs beside",
        flood.sent,
        flood.answered,
        flood.refused,
        flood.overloaded,
        flood.closed_by_server,
        flood.elapsed.as_secs_f64(),
        rss_before / 1024,
        rss_peak / 1024,
        alone.p50_us,
        alone.p99_us,
        beside.p50_us,
        beside.p99_us
    );
    Ok(specter_bench::report::Flood {
        limit: "1,000 a second".into(),
        sent: flood.sent,
        answered: flood.answered,
        refused: flood.refused,
        overloaded: flood.overloaded,
        closed_by_server: flood.closed_by_server,
        secs: flood.elapsed.as_secs_f64(),
        rss_before,
        rss_peak,
        probe_alone: (alone.p50_us, alone.p99_us),
        probe_flood: (beside.p50_us, beside.p99_us, beside.acks),
    })
}

/// The presence example, built in release, started on a free port.
async fn presence_example() -> Result<Server, String> {
    run(
        &root(),
        "cargo",
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "specter-runtime",
            "--example",
            "presence",
        ],
    )?;
    let mut cmd = Command::new(root().join("target/release/examples/presence"));
    cmd.env("SPECTER_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    Server::start(cmd).await
}

/// 50,000 connect, emit, disconnect cycles against the presence example: its RSS before,
/// after the first half and after the second. Nothing may keep growing.
async fn soak(cycles: u64, report: &mut Report) -> Result<(), String> {
    let srv = presence_example().await?;
    loadgen::churn(&srv.url, 200, 8).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = srv.rss();
    let start = std::time::Instant::now();
    let first = loadgen::churn(&srv.url, cycles / 2, 8).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let half = srv.rss();
    let second = loadgen::churn(&srv.url, cycles - cycles / 2, 8).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = srv.rss();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "soak: {} cycles in {secs:.1} s; RSS {} -> {} -> {} kB",
        first + second,
        before / 1024,
        half / 1024,
        after / 1024
    );
    report.soak = Some(specter_bench::report::Soak {
        cycles: first + second,
        secs,
        rss: [before, half, after],
    });
    Ok(())
}

/// The presence example under load (16 clients, 32 acks in flight each) gets SIGTERM:
/// every ack asked before the signal must be answered.
async fn shutdown_under_load(report: &mut Report) -> Result<(), String> {
    use std::sync::{Arc, OnceLock};
    let srv = presence_example().await?;
    let signal: Arc<OnceLock<std::time::Instant>> = Arc::new(OnceLock::new());
    let (url, at) = (srv.url.clone(), signal.clone());
    let load = tokio::spawn(async move { loadgen::until_closed(&url, 16, 32, at).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = srv.child.id().expect("running").to_string();
    let _ = signal.set(std::time::Instant::now());
    run(&root(), "kill", &["-TERM", &pid])?;
    let r = tokio::time::timeout(Duration::from_secs(60), load)
        .await
        .map_err(|_| "the load did not end after the shutdown".to_owned())?
        .map_err(|e| e.to_string())??;
    eprintln!("shutdown: {r:?}");
    report.shutdown = Some(r);
    Ok(())
}

/// Instructions the server executes per ack, counted by callgrind: exact and repeatable
/// whatever else the shared machine does, so small differences (order on and off,
/// Specter against raw socketioxide) show where wall-clock CPU figures are noise. Each
/// figure is the difference of two runs (1,000 and 3,000 acks per connection) divided
/// by the extra acks, so startup and shutdown cancel out.
async fn instructions(report: &mut Report) -> Result<(), String> {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !valgrind {
        report
            .notes
            .push("valgrind is not available here: no instruction counts.".into());
        return Ok(());
    }
    for (name, kind, s) in [
        ("specter", "specter", 10),
        ("raw socketioxide", "raw", 10),
        ("order-sync-on", "order-sync-on", 3),
        ("order-sync-off", "order-sync-off", 3),
        ("order-async-on", "order-async-on", 3),
        ("order-async-off", "order-async-off", 3),
    ] {
        let per_ack = instructions_per_ack(kind, s).await?;
        eprintln!("instructions {name:>18} S={s:<2} {per_ack:>9.0} per ack");
        report
            .instructions
            .push(specter_bench::report::Instructions {
                server: name.to_owned(),
                subscribers: s,
                per_ack,
            });
    }
    Ok(())
}

/// Connection state recovery's cost: instructions per event that emits once, with
/// recovery off and on (the clients ask for it in both: the same bytes), and the memory
/// of sessions whose clients are away.
async fn recovery() -> Result<String, String> {
    use std::fmt::Write as _;
    loadgen::ask_for_recovery(true);
    let off = instructions_per_ack("emit-recovery-off", 1).await?;
    let on = instructions_per_ack("emit-recovery-on", 1).await?;
    loadgen::ask_for_recovery(false);
    eprintln!("instructions per event with one emit: off {off:.0}, on {on:.0}");
    let (sessions, events, payload) = (2_000, 50, 100);
    let memory = specter_bench::recovery::memory(
        bench_server("emit-recovery-on", 1, 1),
        sessions,
        events,
        payload,
    )
    .await?;
    let plain = specter_bench::recovery::memory(
        bench_server("emit-recovery-off", 1, 1),
        sessions,
        0,
        payload,
    )
    .await?;
    let cpu = cpu_per_emit().await?;
    let mut md = String::from("## Connection state recovery\n\n");
    md.push_str("Instructions the server runs per event whose one subscriber emits once to its socket (`Deliver::emit`) and answers, counted by callgrind as above (4 connections, the difference of a 1,000- and a 3,000-event run); the clients ask for recovery in both runs, as Specter's client module does, so only the server differs.\n\n");
    md.push_str("| recovery | instructions per event | difference |\n|---|---:|---:|\n");
    let _ = writeln!(md, "| off | {off:.0} | |");
    let _ = writeln!(
        md,
        "| on | {on:.0} | {:+.0} ({:+.1}%) |",
        on - off,
        (on - off) / off * 100.0
    );
    md.push_str("\nThe same event against node socket.io 4.8 (its listener emits the payload back with `socket.emit`, then answers; `connectionStateRecovery: {}` for on), in server CPU time per event: 16 connections in a closed loop for 5 s after a 1 s warm-up, the median of 3 interleaved rounds (callgrind does not count a JIT's instructions comparably).\n\n| server | recovery off | recovery on | difference |\n|---|---:|---:|---:|\n");
    for (name, off, on) in &cpu {
        let _ = writeln!(
            md,
            "| {name} | {off:.1} µs | {on:.1} µs | {:+.1}% |",
            (on - off) / off * 100.0
        );
    }
    let _ = write!(
        md,
        "\nMemory (RSS of the server process) of {sessions} websocket clients that asked for recovery, then went away at once (their TCP connections dropped), then were each sent {events} events of {payload} bytes, which their sessions hold:\n\n"
    );
    md.push_str("| | recovery on | recovery off |\n|---|---:|---:|\n");
    let kb = |b: f64| format!("{:.1} KiB", b / 1024.0);
    let _ = writeln!(
        md,
        "| per connection joined | {} | {} |",
        kb(memory.per_connected),
        kb(plain.per_connected)
    );
    let _ = writeln!(
        md,
        "| per session away (what is left of the socket: its rooms, extensions, log) | {} | {} (nothing is left) |",
        kb(memory.per_away),
        kb(plain.per_away)
    );
    let _ = writeln!(
        md,
        "| per event held by an away session ({payload}-byte payload) | {:.0} B | |",
        memory.per_held_event
    );
    md.push_str("\nRSS does not shrink when memory is freed, so the second row is an upper bound. Command: `cargo run --release -p specter-bench --bin bench -- --recovery`.\n");
    Ok(md)
}

/// Server CPU µs per event that emits once, recovery off and on, for Specter and node:
/// the median of 3 interleaved rounds of each.
async fn cpu_per_emit() -> Result<Vec<(&'static str, f64, f64)>, String> {
    let node = |recovery: bool| -> Result<Command, String> {
        let mut cmd = server_command("node socket.io", 1)?;
        cmd.env("BENCH_EMIT", "1");
        cmd.env("BENCH_RECOVERY", if recovery { "1" } else { "0" });
        Ok(cmd)
    };
    let servers: [(&str, bool); 4] = [
        ("specter", false),
        ("specter", true),
        ("node", false),
        ("node", true),
    ];
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    for _ in 0..3 {
        for (i, (name, recovery)) in servers.iter().enumerate() {
            let cmd = match *name {
                "specter" => bench_server(
                    if *recovery {
                        "emit-recovery-on"
                    } else {
                        "emit-recovery-off"
                    },
                    1,
                    1,
                ),
                _ => node(*recovery)?,
            };
            loadgen::ask_for_recovery(true);
            let srv = Server::start(cmd).await?;
            let url = srv.url.clone();
            tokio::task::spawn_blocking(move || {
                loadgen::run_on_one_core(&url, 16, Until::Time(Duration::from_secs(1)))
            })
            .await
            .map_err(|e| e.to_string())??;
            let before = srv.cpu_us();
            let url = srv.url.clone();
            let r = tokio::task::spawn_blocking(move || {
                loadgen::run_on_one_core(&url, 16, Until::Time(Duration::from_secs(5)))
            })
            .await
            .map_err(|e| e.to_string())??;
            let per = srv.cpu_us().saturating_sub(before) as f64 / r.acks.max(1) as f64;
            eprintln!("cpu {name} recovery={recovery}: {per:.1} µs per event");
            rounds[i].push(per);
        }
    }
    loadgen::ask_for_recovery(false);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m: Vec<f64> = rounds.iter_mut().map(median).collect();
    Ok(vec![
        ("specter", m[0], m[1]),
        ("node socket.io", m[2], m[3]),
    ])
}

/// Instructions per ack of the server `kind` with `s` subscribers: the difference of a
/// 1,000- and a 3,000-ack run over 4 connections, divided by the extra acks.
async fn instructions_per_ack(kind: &str, s: usize) -> Result<f64, String> {
    const CONNECTIONS: usize = 4;
    const RUNS: (u64, u64) = (1_000, 3_000);
    let low = callgrind_instructions(kind, s, CONNECTIONS, RUNS.0).await?;
    let high = callgrind_instructions(kind, s, CONNECTIONS, RUNS.1).await?;
    Ok(high.saturating_sub(low) as f64 / ((RUNS.1 - RUNS.0) * CONNECTIONS as u64) as f64)
}

/// The instructions a server runs for `acks` acks per connection, start to exit.
async fn callgrind_instructions(
    kind: &str,
    s: usize,
    connections: usize,
    acks: u64,
) -> Result<u64, String> {
    let out = root().join(format!("target/callgrind-{kind}-{s}-{acks}.out"));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().unwrap())
        .args(["serve", kind, &s.to_string(), "1"])
        .stderr(Stdio::null());
    let mut srv = Server::start(cmd).await?;
    let url = srv.url.clone();
    tokio::task::spawn_blocking(move || {
        loadgen::run_on_one_core(&url, connections, Until::Acks(acks))
    })
    .await
    .map_err(|e| e.to_string())??;
    drop(srv.child.stdin.take());
    tokio::time::timeout(Duration::from_secs(120), srv.child.wait())
        .await
        .map_err(|_| format!("{kind} did not exit under callgrind"))?
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary: ")
                .or_else(|| l.strip_prefix("totals: "))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no instruction total in {}", out.display()))
}

/// One measured run of `server` with `s` subscribers, after a warm-up.
async fn measure(plan: &Plan, server: &str, s: usize) -> Result<Throughput, String> {
    let srv = Server::start(server_command(server, s)?).await?;
    let (url, connections, warmup) = (srv.url.clone(), plan.connections, plan.warmup);
    tokio::task::spawn_blocking(move || loadgen::run_on_one_core(&url, connections, warmup))
        .await
        .map_err(|e| e.to_string())??;
    let (url, until) = (srv.url.clone(), plan.until);
    let cpu_before = srv.cpu_us();
    let r = tokio::task::spawn_blocking(move || loadgen::run_on_one_core(&url, connections, until))
        .await
        .map_err(|e| e.to_string())??;
    let cpu = srv.cpu_us().saturating_sub(cpu_before) as f64;
    Ok(Throughput {
        server: server.to_string(),
        subscribers: s,
        rate: r.rate(),
        p50_us: r.p50_us,
        p99_us: r.p99_us,
        cpu_us_per_ack: cpu / r.acks.max(1) as f64,
        server_cores: cpu / (r.elapsed.as_secs_f64() * 1e6),
    })
}

/// Notes on what the throughput figures are bounded by, from the figures themselves.
fn explain(report: &mut Report) {
    let cores = report
        .throughput
        .iter()
        .map(|t| t.server_cores)
        .fold(0.0, f64::max);
    report.notes.push(format!(
        "The machine has {} cores and the load generator keeps one busy, so every server \
         ran on about one core (at most {cores:.2}): acks/s compare work per core. Node's \
         socket.io and gevent are single-threaded anyway.",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    for s in [3, 1, 10] {
        let (Some(raw), Some(node), Some(raw_cpu), Some(node_cpu)) = (
            report.rate("raw socketioxide", s),
            report.rate("node socket.io", s),
            report.cpu("raw socketioxide", s),
            report.cpu("node socket.io", s),
        ) else {
            continue;
        };
        report.notes.push(format!(
            "At S = {s}, raw socketioxide — the floor under Specter — does {:.2}x node \
             socket.io's acks/s with {:.2}x less CPU per ack. Specter's margin over node and \
             over Python SPECTER cannot exceed socketioxide's own: where a target above is \
             missed, socketioxide and the transport bound it, not the fanout (see the profile).",
            raw / node,
            node_cpu / raw_cpu
        ));
        break;
    }
    if let Some(a) = report.allocations.iter().find(|a| a.subscribers == 1) {
        report.notes.push(format!(
            "Heap allocations at S = 1: Specter {:.1} per round trip, raw socketioxide {:.1}. \
             Plain (non-async) subscribers run inline, without spawning a task; the ack value \
             is boxed once until it is sent.",
            a.specter, a.raw
        ));
    }
    if let (Some(a), Some(b)) = (report.cpu("specter", 1), report.cpu("specter", 10)) {
        let raw10 = report.cpu("raw socketioxide", 10).unwrap_or(f64::NAN);
        let allocs10 = report
            .allocations
            .iter()
            .find(|x| x.subscribers == 10)
            .map_or(String::new(), |x| {
                format!(
                    " Allocations per round trip at S = 10: Specter {:.1}, raw {:.1}.",
                    x.specter, x.raw
                )
            });
        report.notes.push(format!(
            "Cost against S: Specter's server CPU per ack goes from {a:.1} µs at S = 1 to \
             {b:.1} µs at S = 10 ({:.2}x raw socketioxide's {raw10:.1} µs at S = 10). The \
             subscribers share one decode of the payload (`SharedData<T>`: the first one \
             decodes, the others get an `Arc` of the value), as raw socketioxide decodes \
             once.{allocs10}",
            b / raw10
        ));
    }
}

/// Where a loaded Specter server spends its CPU, sampled with `perf` (cpu-clock) when
/// the machine has it: the evidence for what bounds the throughput figures.
async fn profile(report: &mut Report) -> Result<(), String> {
    let perf_ok = std::process::Command::new("perf")
        .args(["stat", "-e", "task-clock", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !perf_ok {
        report
            .notes
            .push("perf is not available here: no profile of the server.".into());
        return Ok(());
    }
    let srv = Server::start(bench_server("specter", 3, 1)).await?;
    let url = srv.url.clone();
    let load = tokio::task::spawn_blocking(move || {
        loadgen::run_on_one_core(&url, 16, Until::Time(Duration::from_secs(4)))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let data = root().join("target/bench-perf.data");
    let pid = srv.child.id().expect("running").to_string();
    let data_arg = data.to_str().unwrap();
    let record = [
        "record",
        "-e",
        "cpu-clock",
        "-F",
        "999",
        "-p",
        &pid,
        "-o",
        data_arg,
        "--",
        "sleep",
        "3",
    ];
    let recorded = tokio::process::Command::new("perf")
        .args(record)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    load.await.map_err(|e| e.to_string())??;
    if !recorded.status.success() {
        report.notes.push(format!(
            "perf record failed: {}",
            String::from_utf8_lossy(&recorded.stderr).trim()
        ));
        return Ok(());
    }
    let share = |sort: &str| -> Vec<(f64, String)> {
        let out = std::process::Command::new("perf")
            .args([
                "report",
                "-i",
                data_arg,
                "--no-children",
                "--stdio",
                "--sort",
                sort,
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        out.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (pct, rest) = l.trim().split_once('%')?;
                Some((pct.trim().parse().ok()?, rest.trim().to_owned()))
            })
            .collect()
    };
    let dso = share("dso");
    let of = |name: &str| {
        dso.iter()
            .filter(|(_, d)| d.contains(name))
            .map(|(p, _)| p)
            .sum::<f64>()
    };
    let ours: f64 = share("sym")
        .iter()
        .filter(|(_, s)| s.contains("specter::") || s.contains("specter_bench::"))
        .map(|(p, _)| p)
        .sum();
    report.notes.push(format!(
        "Profile of the Specter server at S = 3 under load (`perf record -e cpu-clock`, 3 s): \
         kernel {:.0}% (loopback TCP, task switches, syscalls), server binary {:.0}% (tokio, \
         hyper, tungstenite, engineioxide, socketioxide, Specter), libc {:.0}%. Functions of \
         Specter and of the benchmark's subscribers themselves: {ours:.1}% of all samples.",
        of("kernel"),
        of("bench"),
        of("libc")
    ));
    Ok(())
}

/// Idle clients held open by child processes of this binary (`bench --idle`), each
/// from its own loopback address once one address's ephemeral ports would run out.
struct IdleClients {
    _children: Vec<Child>,
}

/// Clients per child process: below one address's ephemeral ports and the default
/// open-files limit.
const CLIENTS_PER_PROCESS: usize = 16_000;

impl IdleClients {
    async fn open(url: &str, n: usize) -> Result<Self, String> {
        let mut children = Vec::new();
        let mut left = n;
        let mut k = 0;
        while left > 0 {
            let take = left.min(CLIENTS_PER_PROCESS);
            let from = format!("127.0.0.{}", 2 + k);
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--idle", url, &take.to_string(), "86400", &from])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| e.to_string())?;
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let line = tokio::time::timeout(Duration::from_secs(900), lines.next_line())
                .await
                .map_err(|_| format!("{take} clients from {from} did not connect in 15 min"))?
                .map_err(|e| e.to_string())?;
            match line {
                Some(l) if l.ends_with("idle clients connected") => {}
                other => return Err(format!("idle clients from {from}: {other:?}")),
            }
            children.push(child);
            left -= take;
            k += 1;
        }
        Ok(Self {
            _children: children,
        })
    }
}

/// A server of the memory comparison with one subscriber and `events` events (the
/// node and Python servers have one event).
fn idle_server(server: &str, events: usize) -> Result<Command, String> {
    Ok(match server {
        "specter" => bench_server("specter", 1, events),
        "raw socketioxide" => bench_server("raw", 1, events),
        other => server_command(other, 1)?,
    })
}

/// Memory per idle websocket connection of every server of the comparison, at each
/// client count; connects per second while clients connect at once; idle CPU of the
/// server holding the largest count.
async fn memory(plan: &Plan, report: &mut Report) -> Result<(), String> {
    for &server in &plan.memory_servers {
        let rust = matches!(server, "specter" | "raw socketioxide");
        for (i, &clients) in plan.memory_clients.iter().enumerate() {
            let events_list: &[usize] = if rust && i == 0 {
                &plan.memory_events
            } else {
                &[1]
            };
            for &events in events_list {
                let srv = Server::start(idle_server(server, events)?).await?;
                // Warm the server's allocator with a few connections first.
                drop(loadgen::idle(&srv.url, 10).await?);
                tokio::time::sleep(Duration::from_millis(300)).await;
                let before = srv.rss();
                let held = match IdleClients::open(&srv.url, clients).await {
                    Ok(held) => held,
                    Err(e) => {
                        report
                            .notes
                            .push(format!("{server} with {clients} idle clients: {e}"));
                        continue;
                    }
                };
                tokio::time::sleep(Duration::from_secs(1)).await;
                let after = srv.rss();
                let per = after.saturating_sub(before) as f64 / clients as f64;
                eprintln!(
                    "{server:>18} E={events:<2} {clients:>6} clients {per:>8.0} bytes per idle client"
                );
                let largest = i + 1 == plan.memory_clients.len() && events == 1;
                let idle_cores = if largest {
                    let cpu0 = srv.cpu_us();
                    tokio::time::sleep(plan.idle_window).await;
                    let cores = (srv.cpu_us() - cpu0) as f64 / plan.idle_window.as_micros() as f64;
                    eprintln!(
                        "{server:>18} idle CPU with {clients} clients: {:.2}% of a core",
                        cores * 100.0
                    );
                    Some(cores)
                } else {
                    None
                };
                drop(held);
                report.memory.push(Memory {
                    server: server.into(),
                    events,
                    clients,
                    bytes_per_client: per,
                    idle_cores,
                });
            }
        }
        // Connects per second: `burst_clients` clients connecting at once.
        let srv = Server::start(idle_server(server, 1)?).await?;
        let (sockets, took) = loadgen::burst_connect(&srv.url, plan.burst_clients, 512).await?;
        let rate = sockets.len() as f64 / took.as_secs_f64();
        eprintln!(
            "{server:>18} {rate:>8.0} connects per second ({} at once)",
            plan.burst_clients
        );
        report
            .connects
            .push((server.to_owned(), plan.burst_clients, rate));
    }
    Ok(())
}

/// Allocations per round trip, with client and server in this process.
async fn allocations(plan: &Plan, report: &mut Report) -> Result<(), String> {
    use specter::testing::TestClient;
    async fn per_trip(router: axum::Router, n: u64) -> Result<f64, String> {
        // Generous: the harness test runs this in a debug build on a loaded machine.
        let client = TestClient::builder()
            .timeout(Duration::from_secs(30))
            .connect_router(router)
            .await
            .map_err(|e| e.to_string())?;
        for i in 0..50 {
            client
                .emit_with_ack("bench", json!({ "seq": i }))
                .await
                .map_err(|e| e.to_string())?;
        }
        let payload = json!({ "seq": 1 });
        let before = alloc::allocations();
        for _ in 0..n {
            client
                .emit_with_ack("bench", &payload)
                .await
                .map_err(|e| e.to_string())?;
        }
        let per = (alloc::allocations() - before) as f64 / n as f64;
        client.disconnect().await;
        Ok(per)
    }
    for &s in &plan.subscribers {
        let (app, router) = apps::specter(s, 1).await;
        let specter = per_trip(router, plan.round_trips).await?;
        app.shutdown().await;
        let (_io, router) = apps::raw(s, 1);
        let raw = per_trip(router, plan.round_trips).await?;
        eprintln!("allocations S={s:<2} specter {specter:.1} raw {raw:.1} per round trip");
        report.allocations.push(Allocations {
            subscribers: s,
            specter,
            raw,
        });
    }
    Ok(())
}

/// A handler whose table is built at run time: `events` events x `per_event` subscribers.
struct Many {
    events: usize,
    per_event: usize,
}

impl Handler for Many {
    fn name(&self) -> &str {
        "many"
    }
    fn source(&self) -> Source {
        Source::caller()
    }
    fn build_events(&self, events: &mut Events<Self>) {
        for e in 0..self.events {
            for k in 0..self.per_event {
                events
                    .on(format!("event{e}"), |_: &Self| ())
                    .priority(k as i32);
            }
        }
    }
}

async fn startup(plan: &Plan, report: &mut Report) -> Result<(), String> {
    for &(shape, events, per_event) in &plan.startup {
        let app = ServiceManager::builder()
            .handler(Many { events, per_event })
            .build()
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        app.boot().await.map_err(|e| e.to_string())?;
        let millis = start.elapsed().as_secs_f64() * 1e3;
        let registrations = events * per_event;
        assert_eq!(
            app.event_table()
                .iter()
                .map(|r| r.subscribers.len())
                .sum::<usize>(),
            registrations
        );
        eprintln!("startup {shape}: {millis:.2} ms");
        report.startup.push(Startup {
            shape: shape.into(),
            registrations,
            millis,
        });
    }
    Ok(())
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "not found".into())
}

fn machine() -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap_or_default();
    let socketioxide = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"socketioxide\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .unwrap_or("?")
        .trim_matches('"')
        .to_owned();
    let node_pkg = root().join("specter-bench/node/node_modules/socket.io/package.json");
    let socket_io = std::fs::read_to_string(node_pkg)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "not installed".into());
    let pip = root().join("target/bench-py-venv/bin/pip");
    let freeze = command_output(pip.to_str().unwrap(), &["freeze"]);
    let pinned = |name: &str| {
        freeze
            .lines()
            .find(|l| l.to_lowercase().starts_with(&format!("{name}==")))
            .unwrap_or("not installed")
            .to_owned()
    };
    vec![
        (
            "cores".into(),
            std::thread::available_parallelism()
                .map_or(0, |n| n.get())
                .to_string(),
        ),
        ("CPU".into(), cpu),
        ("rustc".into(), command_output("rustc", &["--version"])),
        ("socketioxide".into(), socketioxide),
        ("node".into(), command_output("node", &["--version"])),
        ("socket.io (node)".into(), socket_io),
        ("python".into(), command_output("python3", &["--version"])),
        (
            "Python SPECTER".into(),
            format!(
                "{}, {}, {}",
                pinned("specter-runtime"),
                pinned("flask-socketio"),
                pinned("gevent")
            ),
        ),
    ]
}

/// Raises this process's open-files limit as far as the system allows (children, the
/// servers and idle clients, inherit it): 50,000 connections need 50,000 descriptors on
/// each side.
fn raise_open_files() -> u64 {
    let nr_open: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1 << 20);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        let want = libc::rlimit {
            rlim_cur: nr_open.min(262_144),
            rlim_max: nr_open.min(262_144).max(limit.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
            limit = want;
        } else {
            // Not allowed to raise the hard limit: the soft one up to it.
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    limit.rlim_cur
}

#[tokio::main]
async fn main() {
    let open_files = raise_open_files();
    let args: Vec<String> = std::env::args().collect();
    // `bench serve specter|raw S EVENTS`: one server under test (the benchmark starts
    // its servers this way, so this one binary is all it needs).
    if args.get(1).is_some_and(|a| a == "serve") {
        specter_bench::serve::serve(&args[2..]).await;
        return;
    }
    // `bench --instructions-of KIND S`: one callgrind count, printed (e.g. the
    // `metrics` kind of a `--features metrics` build).
    if let Some(i) = args.iter().position(|a| a == "--instructions-of") {
        let kind = args.get(i + 1).expect("--instructions-of KIND S").clone();
        let s: usize = args
            .get(i + 2)
            .and_then(|s| s.parse().ok())
            .expect("--instructions-of KIND S");
        let low = callgrind_instructions(&kind, s, 4, 1_000)
            .await
            .unwrap_or_else(|e| fail("instructions", e));
        let high = callgrind_instructions(&kind, s, 4, 3_000)
            .await
            .unwrap_or_else(|e| fail("instructions", e));
        println!(
            "{kind} S={s}: {:.0} instructions per ack",
            high.saturating_sub(low) as f64 / 8_000.0
        );
        return;
    }
    // `bench --instructions`: only the callgrind counts, printed.
    if args.iter().any(|a| a == "--instructions") {
        let mut report = Report::default();
        if let Err(e) = instructions(&mut report).await {
            fail("instructions", e);
        }
        return;
    }
    // `bench --broadcast [--quick]`: only the broadcast benchmark, printed as its
    // markdown section.
    if args.iter().any(|a| a == "--broadcast") {
        let mut report = Report::default();
        let (rounds, receivers, messages) = match args.iter().any(|a| a == "--quick") {
            true => (1, 20, 20),
            false => (3, 500, 200),
        };
        if let Err(e) = broadcast(rounds, receivers, messages, &mut report).await {
            fail("broadcast", e);
        }
        print!("{}", report.broadcast_markdown());
        return;
    }
    // `bench --fanout URL RECEIVERS MESSAGES`: only the broadcast benchmark's clients,
    // e.g. to profile a server.
    if let Some(i) = args.iter().position(|a| a == "--fanout") {
        let usage = "--fanout URL RECEIVERS MESSAGES [TEXT_BYTES]";
        let url = args.get(i + 1).expect(usage).clone();
        let r: usize = args.get(i + 2).and_then(|s| s.parse().ok()).expect(usage);
        let m: u64 = args.get(i + 3).and_then(|s| s.parse().ok()).expect(usage);
        let text: usize = args.get(i + 4).map_or(0, |s| s.parse().expect(usage));
        let clients = fanout::connect(&url, r, m, text)
            .await
            .unwrap_or_else(|e| fail("fanout", e));
        match clients.run(Duration::from_secs(60)).await {
            Ok(run) => println!("{run:?}"),
            Err(e) => fail("fanout", e),
        }
        return;
    }
    // `bench --recovery`: what connection state recovery costs, written to
    // `specter-bench/recovery.md` (which the full report includes).
    if args.iter().any(|a| a == "--recovery") {
        match recovery().await {
            Ok(md) => {
                let path = root().join("specter-bench/recovery.md");
                std::fs::write(&path, &md).unwrap_or_else(|e| fail("recovery", e.to_string()));
                print!("{md}");
            }
            Err(e) => fail("recovery", e),
        }
        return;
    }
    // `bench --pipeline`: only the pipeline's figures, printed as their markdown section.
    if args.iter().any(|a| a == "--pipeline") {
        let mut report = Report::default();
        let plan = if args.iter().any(|a| a == "--quick") {
            Plan::quick()
        } else {
            Plan::full()
        };
        if let Err(e) = pipeline(&plan, &mut report).await {
            fail("pipeline", e);
        }
        print!("{}", report.pipeline_markdown());
        return;
    }
    // `bench --idle URL CLIENTS SECONDS [FROM]`: idle websocket clients held open (from
    // the local address FROM) until SECONDS pass or standard input closes; the memory
    // runs start these, and they serve for a heap profile of a server.
    if let Some(i) = args.iter().position(|a| a == "--idle") {
        let usage = "--idle URL CLIENTS SECONDS [FROM]";
        let url = args.get(i + 1).expect(usage).clone();
        let n: usize = args.get(i + 2).and_then(|s| s.parse().ok()).expect(usage);
        let secs: u64 = args.get(i + 3).and_then(|s| s.parse().ok()).expect(usage);
        let from = args.get(i + 4).map(|a| a.parse().expect(usage));
        let sockets = loadgen::idle_from(&url, n, from)
            .await
            .unwrap_or_else(|e| fail("idle", e));
        println!("{} idle clients connected", sockets.len());
        let stdin_closed = async {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = stdin_closed => {}
        }
        return;
    }
    // `bench --memory`: only the memory and scale comparison.
    if args.iter().any(|a| a == "--memory") {
        let mut report = Report::default();
        let mut plan = if args.iter().any(|a| a == "--quick") {
            Plan::quick()
        } else {
            Plan::full()
        };
        // `--servers specter,node` (names as in the report, `-` for spaces).
        if let Some(list) = args
            .iter()
            .position(|a| a == "--servers")
            .and_then(|i| args.get(i + 1))
        {
            let names = list.replace('-', " ");
            plan.memory_servers
                .retain(|s| names.split(',').any(|n| n == *s));
        }
        if let Err(e) = memory(&plan, &mut report).await {
            fail("memory", e);
        }
        report.notes.push(format!(
            "Open-files limit of the benchmark and its servers: {open_files}."
        ));
        print!("{}", report.memory_markdown());
        for note in &report.notes {
            println!("\n{note}");
        }
        return;
    }
    // `bench --soak`: the churn of connections and the shutdown under load, against the
    // presence example.
    if args.iter().any(|a| a == "--soak") {
        let mut report = Report::default();
        let cycles = if args.iter().any(|a| a == "--quick") {
            500
        } else {
            50_000
        };
        if let Err(e) = soak(cycles, &mut report).await {
            fail("soak", e);
        }
        if let Err(e) = shutdown_under_load(&mut report).await {
            fail("shutdown", e);
        }
        print!("{}", report.soak_markdown());
        return;
    }
    // `bench --flood URL EVENTS`: only the flooding client.
    if let Some(i) = args.iter().position(|a| a == "--flood") {
        let url = args.get(i + 1).expect("--flood URL EVENTS").clone();
        let n: u64 = args
            .get(i + 2)
            .and_then(|s| s.parse().ok())
            .expect("--flood URL EVENTS");
        match loadgen::flood(&url, n).await {
            Ok(f) => println!("{f:?}"),
            Err(e) => fail("flood", e),
        }
        return;
    }
    // `bench --load URL SECONDS`: only the load generator, e.g. to profile a server.
    if let Some(i) = args.iter().position(|a| a == "--load") {
        let url = args.get(i + 1).expect("--load URL SECONDS").clone();
        let secs: u64 = args
            .get(i + 2)
            .and_then(|s| s.parse().ok())
            .expect("--load URL SECONDS");
        let until = Until::Time(Duration::from_secs(secs));
        let r = tokio::task::spawn_blocking(move || loadgen::run_on_one_core(&url, 16, until))
            .await
            .unwrap()
            .unwrap_or_else(|e| fail("load", e));
        println!(
            "{:.0} acks/s, p50 {} µs, p99 {} µs",
            r.rate(),
            r.p50_us,
            r.p99_us
        );
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(root, PathBuf::from);
    let mut plan = if quick { Plan::quick() } else { Plan::full() };
    if let Some(list) = args
        .iter()
        .position(|a| a == "--subscribers")
        .and_then(|i| args.get(i + 1))
    {
        plan.subscribers = list
            .split(',')
            .map(|s| s.parse().expect("--subscribers 1,3,10"))
            .collect();
    }
    let mut report = Report {
        workload: format!(
            "Median of {} interleaved rounds. Each server in its own process; the load generator on one core of its own (a single-threaded tokio runtime); {} websocket connections, each emitting `bench` with an ack in a closed loop ({}), after a warm-up. Each of the S subscribers bumps a counter and reads the payload; the last one answers the ack. Specter's subscribers share one decode of the payload per dispatch (`SharedData<Payload>`); raw socketioxide decodes once and calls the S functions in a row.",
            plan.rounds,
            plan.connections,
            match plan.until {
                Until::Time(d) => format!("{} s", d.as_secs_f64()),
                Until::Acks(n) => format!("{n} acks per connection"),
            }
        ),
        ..Report::default()
    };
    if let Err(e) = throughput(&plan, &mut report).await {
        fail("throughput", e);
    }
    if let Err(e) = order(&plan, &mut report).await {
        fail("order", e);
    }
    if let Err(e) = pipeline(&plan, &mut report).await {
        fail("pipeline", e);
    }
    if let Err(e) = broadcast(plan.rounds, plan.receivers, plan.messages, &mut report).await {
        fail("broadcast", e);
    }
    if let Err(e) = memory(&plan, &mut report).await {
        fail("memory", e);
    }
    if let Err(e) = allocations(&plan, &mut report).await {
        fail("allocations", e);
    }
    if let Err(e) = startup(&plan, &mut report).await {
        fail("startup", e);
    }
    explain(&mut report);
    if !quick {
        if let Err(e) = profile(&mut report).await {
            fail("profile", e);
        }
        if let Err(e) = instructions(&mut report).await {
            fail("instructions", e);
        }
        if let Err(e) = soak(50_000, &mut report).await {
            fail("soak", e);
        }
        if let Err(e) = shutdown_under_load(&mut report).await {
            fail("shutdown", e);
        }
    }
    report.machine = machine();
    std::fs::create_dir_all(&out).expect("create the output directory");
    std::fs::write(out.join("benchmarks.svg"), report.svg()).expect("write benchmarks.svg");
    std::fs::write(out.join("BENCHMARKS.md"), report.markdown("benchmarks.svg"))
        .expect("write BENCHMARKS.md");
    eprintln!("wrote {}", out.join("BENCHMARKS.md").display());
}

fn fail(step: &str, error: String) -> ! {
    eprintln!("bench: {step} failed: {error}");
    std::process::exit(1);
}
