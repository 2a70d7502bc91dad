//! The cross-node benchmark: two nodes on one Redis server, Specter's and node
//! socket.io's with `@socket.io/redis-adapter`, in one run:
//! `cargo run --release -p specter-bench --features redis --bin cross-node [-- --quick]`.
//!
//! - **Broadcast across nodes**: 500 receivers on node B, a sender on node A that emits
//!   200 `say` at once; node A broadcasts each as `said` (through Redis to B). Deliveries
//!   per second from the first `say` sent to the last `said` received, and each
//!   delivery's latency from its `say`: p50 and p99. Median of 3 rounds by wall time.
//! - **A 5 s outage**: 20 receivers on each node, the sender on A emits one `say` every
//!   10 ms for 8 s; Redis is killed 1.5 s in and started again 5 s later. What each
//!   side missed, and how long after Redis was back the first message crossed again.
//!
//! With `--recovery`, only Specter's broadcast, with connection state recovery off and
//! on (the receivers ask for it, as Specter's client module does, in both runs), printed
//! and not written.
//!
//! It writes its section of BENCHMARKS.md (`specter-bench/cross-node.md`, which the
//! `bench` binary includes when it writes the whole file).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use specter_bench::loadgen::{self, Ws};
use specter_bench::process::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return specter_bench::serve::serve(&args[1..]).await;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (rounds, receivers, messages) = if quick { (1, 100, 50) } else { (3, 500, 200) };
    if args.iter().any(|a| a == "--recovery") {
        return recovery(rounds, receivers, messages).await;
    }
    let mut section = String::from("## Across nodes (Redis)\n\n");
    section.push_str(&format!(
        "Two nodes of the same server on one local `redis-server`: Specter (`--features redis`, its Redis link) and node socket.io 4.8 with `@socket.io/redis-adapter` 8 and `redis` 4. {receivers} receivers on node B, a sender on node A that emits {messages} `say` at once; node A broadcasts each (`Deliver::to_all`, `socket.broadcast.emit`), and node B delivers it. Deliveries per second from the first `say` sent to the last `said` received; latency of each delivery from its `say`. Median of {rounds} interleaved rounds by wall time. `cargo run --release -p specter-bench --features redis --bin cross-node`:\n\n"
    ));
    section.push_str(
        "| server | delivered | deliveries/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|\n",
    );
    let kinds = [Kind::Specter, Kind::Node];
    let mut runs: Vec<(Kind, Broadcast)> = Vec::new();
    for round in 1..=rounds {
        for kind in kinds {
            let b = broadcast(kind, receivers, messages)
                .await
                .unwrap_or_else(|e| {
                    panic!("{}: {e}", kind.name());
                });
            eprintln!(
                "round {round} {:>14}: {} of {} in {:.0} ms, {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
                kind.name(),
                b.delivered,
                receivers as u64 * messages,
                b.wall.as_secs_f64() * 1e3,
                b.rate(),
                b.p50_ms,
                b.p99_ms
            );
            runs.push((kind, b));
        }
    }
    for kind in kinds {
        let mut mine: Vec<&Broadcast> = runs
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, b)| b)
            .collect();
        mine.sort_by_key(|b| b.wall);
        let b = mine[mine.len() / 2];
        section.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} |\n",
            kind.name(),
            b.delivered,
            b.rate(),
            b.p50_ms,
            b.p99_ms
        ));
    }
    section.push_str("\nA 5 s outage: 20 receivers on each node; the sender on node A emits one `say` every 10 ms for 8 s (800 messages); Redis is killed 1.5 s in and started again on the same port 5 s later. Missed: messages a receiver never got (the most any receiver of that node missed); back after: from Redis started again to the first message that crossed after the outage. One run of each.\n\n| server | missed on the sender's node | missed on the other node | back after ms |\n|---|---:|---:|---:|\n");
    for kind in kinds {
        let o = outage(kind)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        eprintln!("outage {:>14}: {o:?}", kind.name());
        let back = o
            .back_after
            .map_or("never".to_owned(), |d| format!("{}", d.as_millis()));
        section.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            kind.name(),
            o.missed_local,
            o.missed_remote,
            back
        ));
    }
    let file = root().join("specter-bench/cross-node.md");
    std::fs::write(&file, &section).expect("write cross-node.md");
    let benchmarks = root().join("BENCHMARKS.md");
    let whole = std::fs::read_to_string(&benchmarks).unwrap_or_default();
    std::fs::write(&benchmarks, with_section(&whole, &section)).expect("write BENCHMARKS.md");
    println!("{section}");
    eprintln!("wrote {} and its section of BENCHMARKS.md", file.display());
}

/// Whether the Specter nodes started from now on recover connections (`BENCH_RECOVERY`).
static RECOVERY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Specter's broadcast across nodes with recovery off, then on; the median of `rounds`
/// each by wall time, interleaved.
async fn recovery(rounds: usize, receivers: usize, messages: u64) {
    loadgen::ask_for_recovery(true);
    let mut runs: Vec<(bool, Broadcast)> = Vec::new();
    for _ in 0..rounds {
        for on in [false, true] {
            RECOVERY.store(on, std::sync::atomic::Ordering::Relaxed);
            let b = broadcast(Kind::Specter, receivers, messages)
                .await
                .unwrap_or_else(|e| panic!("recovery {on}: {e}"));
            runs.push((on, b));
        }
    }
    println!(
        "| recovery | delivered | deliveries/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|"
    );
    for on in [false, true] {
        let mut mine: Vec<&Broadcast> = runs
            .iter()
            .filter(|(o, _)| *o == on)
            .map(|(_, b)| b)
            .collect();
        mine.sort_by_key(|b| b.wall);
        let b = mine[mine.len() / 2];
        let name = if on { "on" } else { "off" };
        let (rate, p50, p99) = (b.rate(), b.p50_ms, b.p99_ms);
        println!(
            "| {name} | {} | {rate:.0} | {p50:.1} | {p99:.1} |",
            b.delivered
        );
    }
}

/// `whole` with its section `## Across nodes (Redis)` replaced by `section` (or added
/// at the end).
fn with_section(whole: &str, section: &str) -> String {
    let title = "## Across nodes (Redis)";
    let Some(start) = whole.find(title) else {
        return format!("{}\n\n{section}", whole.trim_end());
    };
    let rest = &whole[start + title.len()..];
    let end = rest
        .find("\n## ")
        .map_or(whole.len(), |i| start + title.len() + i + 1);
    format!("{}{section}{}", &whole[..start], &whole[end..])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Specter,
    Node,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Specter => "specter",
            Kind::Node => "node socket.io",
        }
    }

    /// One node of this server on the Redis server at `redis`.
    async fn node(self, redis: &str) -> Result<Server, String> {
        let cmd = match self {
            Kind::Specter => {
                let mut cmd = Command::new(std::env::current_exe().unwrap());
                cmd.args(["serve", "fanout-specter", "1", "1"]);
                cmd.env("SPECTER_REDIS_URL", redis).env("RUST_LOG", "error");
                let recovery = RECOVERY.load(std::sync::atomic::Ordering::Relaxed);
                cmd.env("BENCH_RECOVERY", if recovery { "1" } else { "0" });
                cmd
            }
            Kind::Node => {
                let dir = root().join("specter-bench/node");
                specter_bench::process::npm_ci_if_stale(&dir)?;
                let mut cmd = Command::new("node");
                cmd.arg(dir.join("fanout.mjs")).env("REDIS_URL", redis);
                cmd
            }
        };
        Server::start(cmd).await
    }
}

/// A private redis-server on a free loopback port; killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    async fn start() -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        Ok(Self {
            child: redis_server(port).await?,
            port,
        })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }

    async fn start_again(&mut self) -> Result<(), String> {
        self.child = redis_server(self.port).await?;
        Ok(())
    }
}

/// Starts redis-server on `port`, and returns once it answers PING.
async fn redis_server(port: u16) -> Result<Child, String> {
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("redis-server is required: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let mut pong = [0u8; 7];
            if s.write_all(b"PING\r\n").await.is_ok()
                && s.read_exact(&mut pong).await.is_ok()
                && &pong == b"+PONG\r\n"
            {
                return Ok(child);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("redis-server did not start".into())
}

/// The `seq` of a `said` frame (`42["said",{"seq":12,...`).
fn seq_of(frame: &str) -> Option<u64> {
    let rest = frame.strip_prefix("42[\"said\"")?;
    let digits = &rest[rest.find("\"seq\":")? + 6..];
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    digits[..end].parse().ok()
}

/// A receiver's deliveries: each `seq` with when it arrived.
type Got = Vec<(u64, Instant)>;

/// Parks one reader per socket until `expected` messages arrived or `stop` changes.
fn read(sockets: Vec<Ws>, expected: usize, stop: &watch::Receiver<()>) -> Vec<JoinHandle<Got>> {
    sockets
        .into_iter()
        .map(|mut ws| {
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let mut got = Vec::with_capacity(expected);
                while got.len() < expected {
                    tokio::select! {
                        _ = stop.changed() => break,
                        frame = ws.next() => match frame {
                            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                                ws.send(Message::text("3")).await.ok();
                            }
                            Some(Ok(Message::Text(t))) => {
                                if let Some(seq) = seq_of(t.as_str()) {
                                    got.push((seq, Instant::now()));
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => break,
                        },
                    }
                }
                got
            })
        })
        .collect()
}

fn say(seq: u64) -> Message {
    Message::text(format!(
        r#"42["say",{{"seq":{seq},"user":"bench","text":"hello, everyone in the room"}}]"#
    ))
}

/// What one broadcast across nodes measured.
#[derive(Debug)]
struct Broadcast {
    delivered: u64,
    wall: Duration,
    p50_ms: f64,
    p99_ms: f64,
}

impl Broadcast {
    fn rate(&self) -> f64 {
        self.delivered as f64 / self.wall.as_secs_f64()
    }
}

async fn broadcast(kind: Kind, receivers: usize, messages: u64) -> Result<Broadcast, String> {
    let redis = Redis::start().await?;
    let a = kind.node(&redis.url()).await?;
    let b = kind.node(&redis.url()).await?;
    let sockets = loadgen::idle(&b.url, receivers).await?;
    let mut sender = loadgen::connect(&a.url).await?;
    let (stop, stopped) = watch::channel(());
    let readers = read(sockets, messages as usize, &stopped);
    // Let the readers park, and node B's subscriptions settle, before the clock starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sent = Vec::with_capacity(messages as usize);
    for seq in 0..messages {
        sent.push(Instant::now());
        sender.feed(say(seq)).await.map_err(|e| e.to_string())?;
    }
    sender.flush().await.map_err(|e| e.to_string())?;
    let all = futures_util::future::join_all(readers);
    let got = match tokio::time::timeout(Duration::from_secs(60), all).await {
        Ok(got) => got,
        Err(_) => return Err("the receivers did not get every message within 60 s".into()),
    };
    drop(stop);
    let mut latencies = Vec::new();
    let mut last = sent[0];
    for got in got {
        for (seq, at) in got.map_err(|e| e.to_string())? {
            latencies.push(at - sent[seq as usize]);
            last = last.max(at);
        }
    }
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok(Broadcast {
        delivered: latencies.len() as u64,
        wall: last - sent[0],
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    })
}

/// What a 5 s outage of Redis cost.
#[derive(Debug)]
struct Outage {
    missed_local: usize,
    missed_remote: usize,
    back_after: Option<Duration>,
}

async fn outage(kind: Kind) -> Result<Outage, String> {
    const MESSAGES: u64 = 800;
    let mut redis = Redis::start().await?;
    let a = kind.node(&redis.url()).await?;
    let b = kind.node(&redis.url()).await?;
    let (stop, stopped) = watch::channel(());
    let local = read(
        loadgen::idle(&a.url, 20).await?,
        MESSAGES as usize,
        &stopped,
    );
    let remote = read(
        loadgen::idle(&b.url, 20).await?,
        MESSAGES as usize,
        &stopped,
    );
    let mut sender = loadgen::connect(&a.url).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let broker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.stop().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        redis.start_again().await.map(|()| (Instant::now(), redis))
    });
    let mut every = tokio::time::interval(Duration::from_millis(10));
    for seq in 0..MESSAGES {
        every.tick().await;
        sender.send(say(seq)).await.map_err(|e| e.to_string())?;
    }
    let (restarted, _redis) = broker.await.map_err(|e| e.to_string())??;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(());
    let collect = async |readers: Vec<JoinHandle<Got>>| {
        let mut all = Vec::new();
        for r in readers {
            all.push(r.await.unwrap_or_default());
        }
        all
    };
    let (local, remote) = (collect(local).await, collect(remote).await);
    let missed = |got: &[Got]| {
        got.iter()
            .map(|g| MESSAGES as usize - g.len())
            .max()
            .unwrap_or(0)
    };
    // The first message that crossed after the gap: the first delivery on node B after
    // Redis was started again.
    let back_after = remote
        .iter()
        .filter_map(|g| g.iter().map(|(_, at)| *at).find(|at| *at > restarted))
        .min()
        .map(|at| at - restarted);
    Ok(Outage {
        missed_local: missed(&local),
        missed_remote: missed(&remote),
        back_after,
    })
}
