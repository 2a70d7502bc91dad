//! A Socket.IO load generator speaking Engine.IO v4 / Socket.IO v5 over websocket
//! directly (tokio-tungstenite), with as little work per message as it can: C
//! connections, each emitting `bench` with an ack in a closed loop.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What one load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Acks received.
    pub acks: u64,
    /// Wall time of the measuring phase.
    pub elapsed: Duration,
    /// Median ack latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile ack latency, microseconds.
    pub p99_us: u64,
}

impl LoadReport {
    /// The report of these ack latencies (µs) over `elapsed`.
    fn of(mut latencies: Vec<u32>, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as u64
        };
        Self {
            acks: latencies.len() as u64,
            elapsed,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
        }
    }

    /// Acks per second.
    pub fn rate(&self) -> f64 {
        self.acks as f64 / self.elapsed.as_secs_f64()
    }
}

/// How long a run lasts: a duration, or a number of acks per connection.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// Run for this long.
    Time(Duration),
    /// Each connection stops after this many acks.
    Acks(u64),
}

/// The CONNECT packet every connection sends: `40` (the `/` namespace, no auth) unless
/// set otherwise ([`ask_for_recovery`]).
static CONNECT_PACKET: std::sync::RwLock<String> = std::sync::RwLock::new(String::new());

/// Whether the connections opened from now on ask for connection state recovery, as
/// Specter's client module does (`40{"specterRecovery":..}`), or join plainly (`40`).
pub fn ask_for_recovery(ask: bool) {
    *CONNECT_PACKET.write().unwrap() = match ask {
        true => r#"40{"specterRecovery":{"pid":null,"offset":null}}"#.to_owned(),
        false => "40".to_owned(),
    };
}

/// Opens a websocket to `base` (`http://127.0.0.1:PORT`) and joins the `/` namespace:
/// waits for the server's CONNECT answer before returning.
pub async fn connect(base: &str) -> Result<Ws, String> {
    connect_from(base, None).await
}

/// [`connect`] from the local address `from` (another loopback address, to open more
/// connections to one port than one address has ephemeral ports).
pub async fn connect_from(base: &str, from: Option<std::net::IpAddr>) -> Result<Ws, String> {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        base.replacen("http", "ws", 1)
    );
    let mut ws = match from {
        None => {
            tokio_tungstenite::connect_async(url)
                .await
                .map_err(|e| e.to_string())?
                .0
        }
        Some(ip) => {
            let addr: std::net::SocketAddr = base
                .trim_start_matches("http://")
                .parse()
                .map_err(|e| format!("{base}: {e}"))?;
            let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
            socket
                .bind(std::net::SocketAddr::new(ip, 0))
                .map_err(|e| format!("bind {ip}: {e}"))?;
            let stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
            tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
                .await
                .map_err(|e| e.to_string())?
                .0
        }
    };
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        return Err(format!("expected an Engine.IO open packet, got {open:?}"));
    }
    let join = match CONNECT_PACKET.read().unwrap().as_str() {
        "" => "40".to_owned(),
        set => set.to_owned(),
    };
    ws.send(Message::text(join))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let text = next_text(&mut ws).await?;
        if text.starts_with("40") {
            return Ok(ws);
        }
        if text.starts_with("44") {
            return Err(format!("connection refused: {text}"));
        }
    }
}

/// The next text frame, answering pings on the way.
async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                ws.send(Message::text("3"))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection closed".into()),
        }
    }
}

/// `connections` clients emit `bench` with an ack in a closed loop until `until`.
pub async fn run(base: &str, connections: usize, until: Until) -> Result<LoadReport, String> {
    let mut sockets = Vec::with_capacity(connections);
    for _ in 0..connections {
        sockets.push(connect(base).await?);
    }
    let start = Instant::now();
    let deadline = match until {
        Until::Time(d) => Some(start + d),
        Until::Acks(_) => None,
    };
    let limit = match until {
        Until::Acks(n) => n,
        Until::Time(_) => u64::MAX,
    };
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(closed_loop(ws, deadline, limit)))
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())??);
    }
    let elapsed = start.elapsed();
    Ok(LoadReport::of(latencies, elapsed))
}

/// One connection: emit, wait for the ack, repeat; returns each latency in µs.
async fn closed_loop(
    mut ws: Ws,
    deadline: Option<Instant>,
    limit: u64,
) -> Result<Vec<u32>, String> {
    let mut latencies = Vec::with_capacity(4096);
    let mut id: u64 = 0;
    while id < limit && deadline.is_none_or(|d| Instant::now() < d) {
        let sent = Instant::now();
        let packet = format!("42{id}[\"bench\",{{\"seq\":{id}}}]");
        ws.send(Message::text(packet))
            .await
            .map_err(|e| e.to_string())?;
        let want = format!("43{id}[");
        loop {
            let text = next_text(&mut ws).await?;
            if text.starts_with(&want) {
                break;
            }
        }
        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        id += 1;
    }
    let _ = ws.close(None).await;
    Ok(latencies)
}

/// [`run`] on a single-threaded runtime of its own: the load generator then takes at
/// most one core, whatever the server under test does with the others.
pub fn run_on_one_core(base: &str, connections: usize, until: Until) -> Result<LoadReport, String> {
    let base = base.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(run(&base, connections, until))
    })
    .join()
    .map_err(|_| "load generator panicked".to_owned())?
}

/// Opens `n` idle connections (each joined to `/`) and keeps them open until dropped.
pub async fn idle(base: &str, n: usize) -> Result<Vec<Ws>, String> {
    idle_from(base, n, None).await
}

/// [`idle`] from the local address `from`.
pub async fn idle_from(
    base: &str,
    n: usize,
    from: Option<std::net::IpAddr>,
) -> Result<Vec<Ws>, String> {
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(connect_from(base, from).await?);
    }
    Ok(sockets)
}

/// Opens `n` connections at once (all handshakes in flight together, at most `in_flight`
/// at a time); returns them and how long it took until the last one joined.
pub async fn burst_connect(
    base: &str,
    n: usize,
    in_flight: usize,
) -> Result<(Vec<Ws>, Duration), String> {
    use futures_util::stream::{self, StreamExt as _};
    let start = Instant::now();
    let sockets: Vec<Result<Ws, String>> = stream::iter(0..n)
        .map(|_| connect(base))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = start.elapsed();
    let sockets: Result<Vec<Ws>, String> = sockets.into_iter().collect();
    Ok((sockets?, elapsed))
}

/// One connection emits `bench` with an ack every `every` until `stop` is set; the ack
/// latencies. A client at a steady, modest rate: the probe beside a flood.
pub async fn paced(
    base: &str,
    every: Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<LoadReport, String> {
    let mut ws = connect(base).await?;
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut ticks = tokio::time::interval(every);
    let mut id: u64 = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        ticks.tick().await;
        let sent = Instant::now();
        ws.send(Message::text(format!("42{id}[\"bench\",{{\"seq\":{id}}}]")))
            .await
            .map_err(|e| e.to_string())?;
        let want = format!("43{id}[");
        while !next_text(&mut ws).await?.starts_with(&want) {}
        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
        id += 1;
    }
    let _ = ws.close(None).await;
    Ok(LoadReport::of(latencies, start.elapsed()))
}

/// What a flood got back.
#[derive(Debug, Clone, Default)]
pub struct FloodReport {
    /// Events emitted, each asking for an ack.
    pub sent: u64,
    /// Acks with a value.
    pub answered: u64,
    /// Acks of kind `rate_limited`.
    pub refused: u64,
    /// Acks of kind `overloaded`: the socket had too many events waiting.
    pub overloaded: u64,
    /// Whether the server closed the flooding connection before every ack came.
    pub closed_by_server: bool,
    /// From the first write to the last ack (plus 2 s when some never came).
    pub elapsed: Duration,
}

/// One connection emits `count` `bench` events with acks as fast as it can write them,
/// while reading every ack.
pub async fn flood(base: &str, count: u64) -> Result<FloodReport, String> {
    let ws = connect(base).await?;
    let (mut tx, mut rx) = ws.split();
    let start = Instant::now();
    let write = async move {
        for id in 0..count {
            tx.feed(Message::text(format!("42{id}[\"bench\",{{\"seq\":{id}}}]")))
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.flush().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(tx)
    };
    // Reads until every ack came, or none came for 2 s (an ack the server could not
    // send: the report says how many).
    let read = async move {
        let mut r = FloodReport {
            sent: count,
            ..FloodReport::default()
        };
        while r.answered + r.refused + r.overloaded < count {
            let next = tokio::time::timeout(Duration::from_secs(2), rx.next()).await;
            match next {
                Err(_) => break,
                Ok(Some(Ok(Message::Text(t)))) if t.starts_with("43") => {
                    if t.contains("\"rate_limited\"") {
                        r.refused += 1;
                    } else if t.contains("\"overloaded\"") {
                        r.overloaded += 1;
                    } else {
                        r.answered += 1;
                    }
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                    // The server gave up on the flooding client: part of the figure.
                    r.closed_by_server = true;
                    break;
                }
                Ok(Some(Ok(_))) => {}
            }
        }
        Ok::<_, String>(r)
    };
    // The reader in a task of its own, so that on a multi-threaded runtime it reads
    // while the writer writes (one flooding client that still reads its acks).
    let read = tokio::spawn(read);
    let written = write.await;
    let mut report = read.await.map_err(|e| e.to_string())??;
    match written {
        Ok(tx) => drop(tx), // closes the connection
        Err(e) if !report.closed_by_server => return Err(e),
        Err(_) => {}
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// `count` cycles of: connect, emit `heartbeat` with an ack, wait for it, disconnect;
/// `parallel` clients at a time. Returns the cycles completed.
pub async fn churn(base: &str, count: u64, parallel: usize) -> Result<u64, String> {
    use futures_util::stream::{self, StreamExt as _};
    let results: Vec<Result<(), String>> = stream::iter(0..count)
        .map(|i| async move {
            let mut ws = connect(base).await?;
            ws.send(Message::text(format!(
                "420[\"heartbeat\",{{\"user\":\"u{i}\"}}]"
            )))
            .await
            .map_err(|e| e.to_string())?;
            while !next_text(&mut ws).await?.starts_with("430[") {}
            let _ = ws.close(None).await;
            Ok(())
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let done = results.iter().filter(|r| r.is_ok()).count() as u64;
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        if done == 0 {
            return Err(e);
        }
    }
    Ok(done)
}

/// Acks asked and answered around a shutdown signal.
#[derive(Debug, Clone, Default)]
pub struct ShutdownReport {
    /// Acks asked before the signal.
    pub asked_before: u64,
    /// Of those, answered.
    pub answered_before: u64,
    /// Acks asked after the signal (the connection still open), and answered.
    pub asked_after: u64,
    /// Of those, answered.
    pub answered_after: u64,
}

/// `connections` clients each keep `depth` `heartbeat` acks in flight until their
/// connection closes; `signal` is set (by the caller) when the shutdown signal goes.
pub async fn until_closed(
    base: &str,
    connections: usize,
    depth: u64,
    signal: std::sync::Arc<std::sync::OnceLock<Instant>>,
) -> Result<ShutdownReport, String> {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let ws = connect(base).await?;
        let signal = signal.clone();
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let mut sent: Vec<Instant> = Vec::new();
            let mut answered: Vec<bool> = Vec::new();
            let mut next_id: u64 = 0;
            let mut outstanding = 0u64;
            loop {
                while outstanding < depth {
                    let packet = format!("42{next_id}[\"heartbeat\",{{\"user\":\"load\"}}]");
                    if tx.send(Message::text(packet)).await.is_err() {
                        break;
                    }
                    sent.push(Instant::now());
                    answered.push(false);
                    next_id += 1;
                    outstanding += 1;
                }
                let deadline = Duration::from_secs(15);
                match tokio::time::timeout(deadline, rx.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        if let Some(rest) = t.strip_prefix("43") {
                            let digits: String =
                                rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                            if let Ok(id) = digits.parse::<usize>() {
                                if let Some(a) = answered.get_mut(id) {
                                    *a = true;
                                    outstanding -= 1;
                                }
                            }
                        } else if t.as_str() == "2" {
                            let _ = tx.send(Message::text("3")).await;
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    _ => break, // closed, failed, or silent for 15 s
                }
            }
            let at = signal.get().copied();
            let mut r = ShutdownReport::default();
            for (when, ok) in sent.iter().zip(&answered) {
                let before = at.is_none_or(|s| *when < s);
                match (before, ok) {
                    (true, ok) => {
                        r.asked_before += 1;
                        r.answered_before += u64::from(*ok);
                    }
                    (false, ok) => {
                        r.asked_after += 1;
                        r.answered_after += u64::from(*ok);
                    }
                }
            }
            r
        }));
    }
    let mut total = ShutdownReport::default();
    for t in tasks {
        let r = t.await.map_err(|e| e.to_string())?;
        total.asked_before += r.asked_before;
        total.answered_before += r.answered_before;
        total.asked_after += r.asked_after;
        total.answered_after += r.answered_after;
    }
    Ok(total)
}
