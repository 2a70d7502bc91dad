//! BENCHMARKS.md and its chart.

use std::fmt::Write;

/// One throughput measurement.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Server name: `specter`, `raw socketioxide`, `node socket.io`, `python SPECTER`.
    pub server: String,
    /// Subscribers of the event.
    pub subscribers: usize,
    /// Acks per second.
    pub rate: f64,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 99th percentile latency, µs.
    pub p99_us: u64,
    /// Server CPU time (user + system) per ack, µs.
    pub cpu_us_per_ack: f64,
    /// Server CPU time over wall time: how many cores the server kept busy.
    pub server_cores: f64,
}

/// Memory per idle connection.
#[derive(Debug, Clone)]
pub struct Memory {
    /// `specter` or `raw socketioxide`.
    pub server: String,
    /// Events the server subscribes.
    pub events: usize,
    /// Idle clients connected.
    pub clients: usize,
    /// RSS growth per client, bytes.
    pub bytes_per_client: f64,
    /// CPU of the server holding them idle, in cores (measured at the largest count).
    pub idle_cores: Option<f64>,
}

/// Heap allocations per in-process round trip.
#[derive(Debug, Clone)]
pub struct Allocations {
    /// Subscribers of the event.
    pub subscribers: usize,
    /// Per round trip through Specter.
    pub specter: f64,
    /// Per round trip through raw socketioxide.
    pub raw: f64,
}

/// Instructions per ack of one server, counted by callgrind.
#[derive(Debug, Clone)]
pub struct Instructions {
    /// The server.
    pub server: String,
    /// Subscribers of the event.
    pub subscribers: usize,
    /// Instructions per ack.
    pub per_ack: f64,
}

/// The pipeline's cost: server CPU and instructions per ack at S = 3, plain ordered
/// subscribers, without and with one layer, one guard and a rate limit that never trips.
#[derive(Debug, Clone)]
pub struct PipelineCost {
    /// `order-sync-on` (no pipeline stage in use) or `pipeline`.
    pub server: String,
    /// Median server CPU per ack, µs.
    pub cpu_us_per_ack: f64,
    /// Instructions per ack (callgrind), when valgrind is there.
    pub instructions: Option<f64>,
}

/// One client flooding a rate-limited event while another emits at a steady rate.
#[derive(Debug, Clone)]
pub struct Flood {
    /// The limit.
    pub limit: String,
    /// Events the flooding client sent, each asking for an ack.
    pub sent: u64,
    /// Acks with a value.
    pub answered: u64,
    /// Acks of kind `rate_limited`.
    pub refused: u64,
    /// Acks of kind `overloaded` (more than the queue bound waiting).
    pub overloaded: u64,
    /// Whether the server closed the flooding connection.
    pub closed_by_server: bool,
    /// Seconds from the first event to the last ack.
    pub secs: f64,
    /// Server RSS before the flood, bytes.
    pub rss_before: u64,
    /// Highest server RSS sampled during the flood (every 10 ms), bytes.
    pub rss_peak: u64,
    /// The second client's ack latency alone: p50, p99 µs.
    pub probe_alone: (u64, u64),
    /// The second client's ack latency during the flood: p50, p99 µs, and its acks.
    pub probe_flood: (u64, u64, u64),
}

/// Connect, emit, disconnect cycles and the server's RSS along them.
#[derive(Debug, Clone)]
pub struct Soak {
    /// Cycles completed.
    pub cycles: u64,
    /// Seconds they took.
    pub secs: f64,
    /// RSS before, after the first half, after the second, bytes.
    pub rss: [u64; 3],
}

/// Time to build the ingress.
#[derive(Debug, Clone)]
pub struct Startup {
    /// What was registered.
    pub shape: String,
    /// Registrations.
    pub registrations: usize,
    /// Milliseconds to subscribe them all (boot).
    pub millis: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `key: value` lines about the machine and versions.
    pub machine: Vec<(String, String)>,
    /// How the load was generated.
    pub workload: String,
    /// Throughput rows.
    pub throughput: Vec<Throughput>,
    /// Memory rows.
    pub memory: Vec<Memory>,
    /// Allocation rows.
    pub allocations: Vec<Allocations>,
    /// Startup rows.
    pub startup: Vec<Startup>,
    /// Per-socket order rows: Specter at S = 3 with order on and off.
    pub order: Vec<Throughput>,
    /// Connects per second: server, clients connecting at once, rate.
    pub connects: Vec<(String, usize, f64)>,
    /// The churn of connections against the presence example.
    pub soak: Option<Soak>,
    /// Acks around a shutdown under load.
    pub shutdown: Option<crate::loadgen::ShutdownReport>,
    /// The pipeline's cost rows.
    pub pipeline: Vec<PipelineCost>,
    /// The flood figure.
    pub flood: Option<Flood>,
    /// Instructions per ack under callgrind.
    pub instructions: Vec<Instructions>,
    /// The broadcast rows.
    pub broadcast: Vec<Broadcast>,
    /// Notes on what bounds a figure or a missed target.
    pub notes: Vec<String>,
}

const RAW: &str = "raw socketioxide";

/// One server's broadcast run: R receivers, M messages.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The server.
    pub server: String,
    /// Receivers.
    pub receivers: usize,
    /// Messages sent.
    pub messages: u64,
    /// Deliveries counted by the receivers.
    pub delivered: u64,
    /// From the first message sent to the last delivery, ms.
    pub wall_ms: f64,
    /// Server CPU (user + system) per delivery, µs.
    pub cpu_us_per_delivery: f64,
}

impl Report {
    /// Acks/s of `server` at `s` subscribers.
    pub fn rate(&self, server: &str, s: usize) -> Option<f64> {
        self.throughput
            .iter()
            .find(|t| t.server == server && t.subscribers == s)
            .map(|t| t.rate)
    }

    /// Server CPU µs per ack of `server` at `s` subscribers.
    /// None too when the run was too short for the process clock (10 ms ticks) to see
    /// any CPU time: a ratio to it would read `inf` or `NaN`.
    pub fn cpu(&self, server: &str, s: usize) -> Option<f64> {
        self.throughput
            .iter()
            .find(|t| t.server == server && t.subscribers == s)
            .map(|t| t.cpu_us_per_ack)
            .filter(|cpu| *cpu > 0.0)
    }

    /// The broadcast section.
    pub fn broadcast_markdown(&self) -> String {
        let mut md = String::new();
        let Some(first) = self.broadcast.first() else {
            return md;
        };
        let _ = writeln!(
            md,
            "\n## Broadcast\n\n{} receivers connected to `/`; one more client sends {} `say` events at once (a chat message of three fields); the server sends each to every other socket as `said`: {} deliveries. Wall time runs from the first `say` sent to the last `said` received; server CPU is the server process's user + system time over the run. Median of the interleaved rounds, by wall time. Specter sends through `Deliver::to_all` (each recipient waits for room in its own buffer), raw socketioxide through `broadcast().emit`, node through `socket.broadcast.emit`.\n\n| server | delivered | wall ms | vs node | server CPU µs/delivery | vs node |\n|---|---:|---:|---:|---:|---:|",
            first.receivers,
            first.messages,
            first.receivers as u64 * first.messages
        );
        let node = self.broadcast.iter().find(|b| b.server == "node socket.io");
        for b in &self.broadcast {
            let vs = |mine: f64, theirs: f64| format!("{:.2}x", mine / theirs);
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {} | {:.2} | {} |",
                b.server,
                b.delivered,
                b.wall_ms,
                node.map_or("–".into(), |n| vs(b.wall_ms, n.wall_ms)),
                b.cpu_us_per_delivery,
                node.map_or("–".into(), |n| vs(
                    b.cpu_us_per_delivery,
                    n.cpu_us_per_delivery
                )),
            );
        }
        md
    }

    /// The report as Markdown; the chart is linked as `chart`.
    pub fn markdown(&self, chart: &str) -> String {
        let mut md = String::from("# Benchmarks\n\n");
        md.push_str(
            "Written by `cargo run --release -p specter-bench --bin bench`. The machines are shared \
             and noisy: compare the ratios between servers measured in the same run, not the \
             absolute figures across runs.\n\n## Machine\n\n",
        );
        for (k, v) in &self.machine {
            let _ = writeln!(md, "- {k}: {v}");
        }
        let _ = writeln!(md, "\n## Throughput\n\n{}\n", self.workload);
        md.push_str("Server CPU per ack is the server process's user + system time over the measured run divided by its acks: it does not depend on how fast the load generator is. Cores is that CPU time over wall time.\n\n");
        md.push_str("| server | S | acks/s | vs raw | p50 µs | p99 µs | server CPU µs/ack | vs raw | server cores |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for t in &self.throughput {
            let ratio = self
                .rate(RAW, t.subscribers)
                .map_or("–".to_owned(), |raw| format!("{:.2}x", t.rate / raw));
            let cpu_ratio = self.cpu(RAW, t.subscribers).map_or("–".to_owned(), |raw| {
                format!("{:.2}x", t.cpu_us_per_ack / raw)
            });
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {ratio} | {} | {} | {:.1} | {cpu_ratio} | {:.2} |",
                t.server,
                t.subscribers,
                t.rate,
                t.p50_us,
                t.p99_us,
                t.cpu_us_per_ack,
                t.server_cores
            );
        }
        let _ = writeln!(md, "\n![acks/s against S]({chart})\n");
        let targets = [
            (RAW, 1, 0.95),
            ("node socket.io", 3, 3.0),
            ("python SPECTER", 3, 20.0),
        ];
        for (other, s, target) in targets {
            if let (Some(sp), Some(o), Some(sp_cpu), Some(o_cpu)) = (
                self.rate("specter", s),
                self.rate(other, s),
                self.cpu("specter", s),
                self.cpu(other, s),
            ) {
                let _ = writeln!(
                    md,
                    "- Specter / {other} at S = {s}: **{:.2}x** the acks/s, **{:.2}x** less server CPU per ack (target >= {target}x)",
                    sp / o,
                    o_cpu / sp_cpu
                );
            }
        }
        md.push_str(&self.broadcast_markdown());
        md.push_str(&self.memory_markdown());
        if !self.allocations.is_empty() {
            md.push_str("\n## Heap allocations per dispatch\n\nCounted by a counting global allocator over in-process round trips (`specter::testing::TestClient`: client, transport and server in one process); the difference between Specter and raw socketioxide is what Specter adds.\n\n| S | Specter | raw socketioxide | Specter adds |\n|---:|---:|---:|---:|\n");
            for a in &self.allocations {
                let _ = writeln!(
                    md,
                    "| {} | {:.1} | {:.1} | {:.1} |",
                    a.subscribers,
                    a.specter,
                    a.raw,
                    a.specter - a.raw + 0.0 // no "-0.0"
                );
            }
        }
        if !self.order.is_empty() {
            md.push_str("\n## Per-socket order\n\nSpecter at S = 3, subscribers bound through `SocketIngress::on`, plain or async, with per-socket order on (the default) and off (`DispatchSettings::ordered(false)`); same load as above. Target: order on within 5% of off for plain subscribers, within 10% for async ones.\n\n| subscribers | order | acks/s | server CPU µs/ack | vs order off |\n|---|---|---:|---:|---:|\n");
            for t in &self.order {
                let off = t.server.replace("-on", "-off");
                let base = self
                    .order
                    .iter()
                    .find(|o| o.server == off)
                    .map_or(f64::NAN, |o| o.cpu_us_per_ack);
                let mut parts = t.server.split('-').skip(1);
                let (kind, order) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let _ = writeln!(
                    md,
                    "| {kind} | {order} | {:.0} | {:.1} | {:.2}x |",
                    t.rate,
                    t.cpu_us_per_ack,
                    t.cpu_us_per_ack / base
                );
            }
        }
        md.push_str(&self.pipeline_markdown());
        md.push_str(&self.soak_markdown());
        if !self.instructions.is_empty() {
            md.push_str("\n## Instructions per ack (callgrind)\n\nInstructions the server process executes per ack, counted by valgrind's callgrind: exact and repeatable whatever else the machine does (the difference of a 1,000- and a 3,000-ack run per connection over 4 connections, so startup and shutdown cancel out). The same workloads as above; the `order` rows are the per-socket order variants at S = 3.\n\n| server | S | instructions per ack | vs reference |\n|---|---:|---:|---:|\n");
            for i in &self.instructions {
                let reference = match i.server.as_str() {
                    "specter" => Some(RAW.to_owned()),
                    other if other.ends_with("-on") => Some(other.replace("-on", "-off")),
                    _ => None,
                };
                let ratio = reference
                    .and_then(|r| self.instructions.iter().find(|x| x.server == r))
                    .map_or("".to_owned(), |r| format!("{:.3}x", i.per_ack / r.per_ack));
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.0} | {ratio} |",
                    i.server, i.subscribers, i.per_ack
                );
            }
        }
        if !self.startup.is_empty() {
            md.push_str("\n## Startup\n\nTime for `ServiceManager::boot` to subscribe a handler's table (target: 10,000 registrations in < 5 ms).\n\n| shape | registrations | ms |\n|---|---:|---:|\n");
            for s in &self.startup {
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} |",
                    s.shape, s.registrations, s.millis
                );
            }
        }
        // The cross-node figures come from their own binary (`cross-node`, built with
        // `--features redis`), which writes them beside this file.
        // So do recovery's (`bench --recovery`).
        for file in ["recovery.md", "cross-node.md"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            if let Ok(section) = std::fs::read_to_string(path) {
                let _ = write!(md, "\n{section}");
            }
        }
        if !self.notes.is_empty() {
            md.push_str("\n## Notes\n\n");
            for n in &self.notes {
                let _ = writeln!(md, "- {n}");
            }
        }
        md
    }

    /// A line chart of acks/s against S, one line per server, as SVG.
    pub fn svg(&self) -> String {
        const W: f64 = 640.0;
        const H: f64 = 400.0;
        const L: f64 = 80.0;
        const R: f64 = 180.0;
        const T: f64 = 30.0;
        const B: f64 = 50.0;
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];
        let mut servers: Vec<&str> = Vec::new();
        for t in &self.throughput {
            if !servers.contains(&t.server.as_str()) {
                servers.push(&t.server);
            }
        }
        let mut xs: Vec<usize> = self.throughput.iter().map(|t| t.subscribers).collect();
        xs.sort_unstable();
        xs.dedup();
        let max_rate = self.throughput.iter().map(|t| t.rate).fold(1.0, f64::max) * 1.1;
        let x_of = |s: usize| {
            let i = xs.iter().position(|&x| x == s).unwrap_or(0) as f64;
            L + (W - L - R)
                * if xs.len() > 1 {
                    i / (xs.len() - 1) as f64
                } else {
                    0.5
                }
        };
        let y_of = |r: f64| T + (H - T - B) * (1.0 - r / max_rate);
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">acks/s against subscribers per event (S)</text>\n",
            (L + W - R) / 2.0
        );
        for i in 0..=5 {
            let r = max_rate * i as f64 / 5.0;
            let y = y_of(r);
            let _ = writeln!(
                svg,
                "<line x1=\"{L}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}</text>",
                W - R,
                L - 6.0,
                y + 4.0,
                r
            );
        }
        for &s in &xs {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">S = {s}</text>",
                x_of(s),
                H - B + 20.0
            );
        }
        for (i, server) in servers.iter().enumerate() {
            let color = colors[i % colors.len()];
            let points: Vec<String> = self
                .throughput
                .iter()
                .filter(|t| t.server == *server)
                .map(|t| format!("{:.1},{:.1}", x_of(t.subscribers), y_of(t.rate)))
                .collect();
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
            for p in &points {
                let (x, y) = p.split_once(',').unwrap();
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{color}\"/>"
                );
            }
            let ly = T + 20.0 + 20.0 * i as f64;
            let _ = writeln!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{server}</text>",
                W - R + 15.0,
                W - R + 35.0,
                W - R + 40.0,
                ly + 4.0
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

impl Report {
    /// The section on the pipeline's cost and the flood (empty when neither ran).
    pub fn pipeline_markdown(&self) -> String {
        let mut md = String::new();
        if !self.pipeline.is_empty() {
            md.push_str("\n## The pipeline\n\nSpecter at S = 3, plain subscribers bound through the ingress, per-socket order on: without any pipeline stage (`order-sync-on`), and with one layer (counting events), a guard that allows on the first subscriber and a rate limit on `bench` that never trips (`pipeline`). Same load as the throughput table. Target: within 10%.\n\n| server | server CPU µs/ack | vs no stage | instructions per ack | vs no stage |\n|---|---:|---:|---:|---:|\n");
            let base = &self.pipeline[0];
            for p in &self.pipeline {
                let instr = p.instructions.map_or("-".to_owned(), |i| format!("{i:.0}"));
                let ratio = match (p.instructions, base.instructions) {
                    (Some(a), Some(b)) => format!("{:.3}x", a / b),
                    _ => "-".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {:.1} | {:.2}x | {instr} | {ratio} |",
                    p.server,
                    p.cpu_us_per_ack,
                    p.cpu_us_per_ack / base.cpu_us_per_ack
                );
            }
        }
        if let Some(f) = &self.flood {
            let _ = write!(
                md,
                "\n### A flood against a rate limit\n\nOne websocket client writes {} `bench` events with acks as fast as it can, at an event limited to {} per socket; a second client meanwhile emits one `bench` every 10 ms and waits for each ack.\n\n| | |\n|---|---:|\n| events sent | {} |\n| answered | {} |\n| refused (`rate_limited`) | {} |\n| refused (`overloaded`) | {} |\n| never answered | {} |\n| connection closed by the server | {} |\n| flood duration | {:.2} s |\n| server RSS before | {:.1} MB |\n| server RSS at peak | {:.1} MB |\n| second client alone, p50 / p99 | {} / {} µs |\n| second client during the flood, p50 / p99 ({} acks) | {} / {} µs |\n",
                f.sent,
                f.limit,
                f.sent,
                f.answered,
                f.refused,
                f.overloaded,
                f.sent - f.answered - f.refused - f.overloaded,
                if f.closed_by_server { "yes" } else { "no" },
                f.secs,
                f.rss_before as f64 / 1e6,
                f.rss_peak as f64 / 1e6,
                f.probe_alone.0,
                f.probe_alone.1,
                f.probe_flood.2,
                f.probe_flood.0,
                f.probe_flood.1,
            );
        }
        md
    }
}

/// The memory target per idle websocket connection, bytes.
pub const MEMORY_TARGET: f64 = 14.0 * 1024.0;

impl Report {
    /// The memory and scale section (empty when it did not run).
    pub fn memory_markdown(&self) -> String {
        let mut md = String::new();
        if self.memory.is_empty() {
            return md;
        }
        md.push_str("\n## Memory per idle connection\n\nRSS growth of the server process while idle websocket clients (this benchmark's own, speaking Engine.IO 4 / Socket.IO 5) connect, divided by the clients; the clients run in child processes, 16,000 per loopback source address. Target for Specter with default settings: at most 14 KB.\n\n| server | events | clients | bytes per client | vs node socket.io | idle CPU |\n|---|---:|---:|---:|---:|---:|\n");
        for m in &self.memory {
            let node = self
                .memory
                .iter()
                .find(|r| r.server == "node socket.io" && r.clients == m.clients && r.events == 1)
                .map_or("–".to_owned(), |r| {
                    format!("{:.2}x", m.bytes_per_client / r.bytes_per_client)
                });
            let idle = m
                .idle_cores
                .map_or(String::new(), |c| format!("{:.2}% of a core", c * 100.0));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.0} | {node} | {idle} |",
                m.server, m.events, m.clients, m.bytes_per_client
            );
        }
        if let Some(worst) = self
            .memory
            .iter()
            .filter(|m| m.server == "specter" && m.events == 1)
            .map(|m| m.bytes_per_client)
            .reduce(f64::max)
        {
            let verdict = if worst <= MEMORY_TARGET {
                "met"
            } else {
                "missed"
            };
            let _ = writeln!(
                md,
                "\nTarget (at most {:.0} bytes per idle connection): **{verdict}**, {:.0} bytes at worst.",
                MEMORY_TARGET, worst
            );
        }
        if !self.connects.is_empty() {
            md.push_str("\n### Connects per second\n\nClients connecting at once (512 handshakes in flight), from the first TCP connect to the last Socket.IO CONNECT answer.\n\n| server | clients | connects per second |\n|---|---:|---:|\n");
            for (server, n, rate) in &self.connects {
                let _ = writeln!(md, "| {server} | {n} | {rate:.0} |");
            }
        }
        md
    }
}

impl Report {
    /// The soak and shutdown section (empty when neither ran).
    pub fn soak_markdown(&self) -> String {
        let mut md = String::new();
        if let Some(s) = &self.soak {
            let kb = |b: u64| b as f64 / 1024.0;
            let _ = write!(
                md,
                "\n## Churn and shutdown\n\n{} cycles of connect, emit `heartbeat` with an ack, disconnect (8 clients at a time) against the presence example, in {:.1} s. Server RSS: {:.0} kB before, {:.0} kB after the first half, {:.0} kB after the second ({}).\n",
                s.cycles,
                s.secs,
                kb(s.rss[0]),
                kb(s.rss[1]),
                kb(s.rss[2]),
                if s.rss[2] <= s.rss[1] + s.rss[1] / 20 {
                    "no growth past the first half"
                } else {
                    "still growing"
                }
            );
        }
        if let Some(r) = &self.shutdown {
            let _ = write!(
                md,
                "\nSIGTERM to the presence example under load (16 clients, 32 acks in flight each): {} of {} acks asked before the signal were answered; after it, while the connections drained, {} of {} more.\n",
                r.answered_before, r.asked_before, r.answered_after, r.asked_after
            );
        }
        md
    }
}
