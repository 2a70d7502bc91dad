//! What the integration tests share: a Specter app served on a loopback port, and
//! node's socket.io-client driven over a pipe.
#![allow(dead_code)]

pub mod logs;
pub mod raw;
pub mod recovery;
pub mod redis;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use serde_json::{Value, json};
use specter::ServiceManager;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};

/// The workspace's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// How long any single wait of a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// A Specter app serving on 127.0.0.1 at a free port; stopped on drop.
pub struct TestServer {
    pub url: String,
    pub app: ServiceManager,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), specter::Error>>>,
}

impl TestServer {
    /// Boots `app` and serves it on a free loopback port.
    pub async fn start(app: ServiceManager) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        app.boot().await.expect("boot");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(app.clone().serve_until(listener, async move {
            let _ = rx.await;
        }));
        Self {
            url,
            app,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Sends the stop signal, and returns at once: the shutdown runs meanwhile.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops serving (disconnecting every client) and shuts the app down.
    pub async fn stop(mut self) {
        self.signal_stop();
        let task = self.task.take().unwrap();
        tokio::time::timeout(WAIT, task)
            .await
            .expect("server stops in time")
            .unwrap()
            .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Installs the node packages of tests/node and examples/chat from their committed
/// lockfiles, on first use.
pub fn ensure_node_packages() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let version = std::process::Command::new("node").arg("--version").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "node is required by the integration tests (they drive node's socket.io-client): \
             install Node.js 18 or later and npm"
        );
        let chat = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/chat");
        for dir in [node_dir(), chat] {
            if installed(&dir) {
                continue;
            }
            let status = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm is required to install the test clients");
            assert!(status.success(), "`npm ci` in {} failed", dir.display());
        }
    });
}

/// Whether `dir`'s node packages are installed from its current lockfile (npm keeps a
/// copy of what it installed in `node_modules/.package-lock.json`).
fn installed(dir: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(dir.join("package-lock.json")),
        modified(dir.join("node_modules/.package-lock.json")),
    ) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    }
}

/// A script of tests/node that drives headless Chromium, run to its end: it prints one
/// JSON line per step (`{"step": name, ..}`).
pub struct BrowserRun {
    steps: Vec<Value>,
    stdout: String,
    stderr: String,
    success: bool,
}

impl BrowserRun {
    /// Runs `node SCRIPT ARGS..` in tests/node with Debian's Chromium, at most 90 s.
    pub async fn of(script: &str, args: &[&str]) -> Self {
        ensure_node_packages();
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&chromium).exists(),
            "{chromium} is missing: the browser tests need Debian's chromium (apt-get install \
             chromium; scripts/test-all.sh installs it)"
        );
        let run = Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(node_dir())
            .env("CHROMIUM", &chromium)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(90), run)
            .await
            .expect("the browser run finishes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Self {
            steps: stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            stdout,
            success: out.status.success(),
        }
    }

    /// The step named `name`; fails the test, with the run's output, when there is none.
    pub fn step(&self, name: &str) -> Value {
        let found = self.steps.iter().find(|s| s["step"] == name);
        found
            .unwrap_or_else(|| panic!("no step {name}: {}\n{}", self.stdout, self.stderr))
            .clone()
    }

    /// Every step passed: no page error, and the script exited with success.
    pub fn assert_clean(&self) {
        self.step("done");
        let errors = self.steps.iter().any(|s| s["step"] == "pageerror");
        assert!(!errors && self.success, "{}\n{}", self.stdout, self.stderr);
    }
}

/// Socket ids as a sorted JSON array, as the browser scripts list them.
fn sorted<'a>(ids: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut ids: Vec<&str> = ids.into_iter().filter_map(Value::as_str).collect();
    ids.sort_unstable();
    json!(ids)
}

/// What tests/node/admin-ui.mjs saw of the app served by the processes `pids`: the
/// servers, the sockets before and while the UI watched, ann in room `vip`, bob
/// disconnected and gone from the list.
pub fn assert_admin_ui_run(run: &BrowserRun, pids: &[Option<u32>]) {
    let menu = run.step("menu")["entries"].clone();
    for page in [
        "Dashboard",
        "Sockets",
        "Rooms",
        "Clients",
        "Events",
        "Servers",
    ] {
        assert!(
            menu.as_array().unwrap().iter().any(|e| e == page),
            "the menu leads to {page}: {menu}"
        );
    }
    assert_eq!(run.step("servers")["ids"], json!(servers(pids)));
    let clients = run.step("clients");
    let (ann, bob) = (&clients["ann"], &clients["bob"]);
    assert_eq!(run.step("listed")["ids"], sorted([ann, bob]));
    let live = run.step("live");
    assert_eq!(live["ids"], sorted([ann, bob, &live["cid"]]));
    assert_eq!(run.step("joined")["rooms"], json!(["vip"]));
    let has = |step: &str, text: &Value| {
        run.step(step)["cells"]
            .as_array()
            .is_some_and(|cells| cells.iter().any(|c| c == text))
    };
    assert!(has("rooms", &json!("vip")), "the Rooms page lists vip");
    assert!(has("clients page", ann), "the Clients page lists ann");
    let events = run.step("events");
    assert!(
        events["cells"]
            .as_array()
            .is_some_and(|cells| cells.iter().any(|c| c == "Event name: message")),
        "the event log shows ann's message: {events}"
    );
    assert_eq!(run.step("disconnected")["reason"], "io server disconnect");
    assert_eq!(run.step("gone")["ids"], sorted([ann, &live["cid"]]));
    run.assert_clean();
}

/// The Admin UI's server ids of the processes `pids`: `host#pid`.
fn servers(pids: &[Option<u32>]) -> Vec<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let mut ids: Vec<String> = pids
        .iter()
        .map(|pid| format!("{}#{}", host.trim(), pid.unwrap()))
        .collect();
    ids.sort();
    ids
}

/// The directory of the node test clients.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python")
}

/// The venv under target/ with python-socketio, created on first use.
fn python_venv() -> PathBuf {
    static INSTALL: Once = Once::new();
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv");
    INSTALL.call_once(|| {
        let python = venv.join("bin/python");
        let ready = std::process::Command::new(&python)
            .args(["-c", "import socketio, websocket, requests"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ready {
            return;
        }
        let status = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is required by the interop tests (they drive python-socketio)");
        assert!(
            status.success(),
            "python3 -m venv failed: install python3-venv"
        );
        let status = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(python_dir().join("requirements.txt"))
            .status()
            .expect("pip in the venv");
        assert!(
            status.success(),
            "pip install -r tests/python/requirements.txt failed"
        );
    });
    venv
}

/// A real Socket.IO client (node's socket.io-client or python-socketio) in a child
/// process killed on drop, driven over a pipe.
pub struct Client {
    _child: Child,
    stdin: ChildStdin,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    events: mpsc::UnboundedReceiver<Value>,
    buffered: VecDeque<Value>,
    next_id: u64,
}

impl Client {
    /// node's socket.io-client.
    pub async fn node() -> Self {
        ensure_node_packages();
        let mut cmd = Command::new("node");
        cmd.arg("driver.mjs").current_dir(node_dir());
        Self::spawn(cmd)
    }

    /// python-socketio's client.
    pub async fn python() -> Self {
        let venv = python_venv();
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.arg("-u").arg(python_dir().join("driver.py"));
        Self::spawn(cmd)
    }

    /// `node` or `python`.
    pub async fn named(kind: &str) -> Self {
        match kind {
            "node" => Self::node().await,
            "python" => Self::python().await,
            other => panic!("no client {other}"),
        }
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the client driver");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let (tx, events) = mpsc::unbounded_channel();
        let p = pending.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                    eprintln!("client driver: {line}");
                    continue;
                };
                match msg.get("id").and_then(Value::as_u64) {
                    Some(id) => {
                        if let Some(reply) = p.lock().unwrap().remove(&id) {
                            let _ = reply.send(msg);
                        }
                    }
                    None => {
                        let _ = tx.send(msg);
                    }
                }
            }
        });
        Self {
            _child: child,
            stdin,
            pending,
            events,
            buffered: VecDeque::new(),
            next_id: 1,
        }
    }

    /// Sends a command; the receiver gets the driver's answer.
    pub async fn send(&mut self, mut cmd: Value) -> oneshot::Receiver<Value> {
        let id = self.next_id;
        self.next_id += 1;
        cmd["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        let line = format!("{cmd}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        rx
    }

    async fn call(&mut self, cmd: Value) -> Value {
        let rx = self.send(cmd.clone()).await;
        answer(rx, &cmd).await
    }

    /// Connects to `url` (a namespace is part of it, as in socket.io-client).
    pub async fn connect(&mut self, url: &str) -> Result<String, String> {
        self.connect_with(url, json!({}), "websocket").await
    }

    /// Connects with auth data over one transport (`websocket` or `polling`).
    pub async fn connect_with(
        &mut self,
        url: &str,
        auth: Value,
        transport: &str,
    ) -> Result<String, String> {
        self.connect_cmd(
            json!({ "op": "connect", "url": url, "auth": auth, "transports": [transport] }),
        )
        .await
    }

    /// Sends a connect command; the socket's name in the driver, or the refusal.
    async fn connect_cmd(&mut self, cmd: Value) -> Result<String, String> {
        let reply = self.call(cmd).await;
        match reply.get("sock") {
            Some(s) => Ok(s.as_str().unwrap().to_owned()),
            None => Err(reply["error"].as_str().unwrap_or_default().to_owned()),
        }
    }

    /// Connects with node's `socket.io-msgpack-parser` (node's driver only).
    pub async fn connect_msgpack(&mut self, url: &str, transport: &str) -> Result<String, String> {
        self.connect_cmd(
            json!({ "op": "connect", "url": url, "transports": [transport], "parser": "msgpack" }),
        )
        .await
    }

    /// Emits and waits for the ack; returns the ack's arguments.
    pub async fn emit_ack(&mut self, sock: &str, event: &str, args: Value) -> Value {
        let reply = self
            .call(json!({ "op": "emit", "sock": sock, "event": event, "args": args, "ack": true }))
            .await;
        match reply.get("ack") {
            Some(ack) => ack.clone(),
            None => panic!("no ack for {event}: {reply}"),
        }
    }

    /// From now on, answers the server's requests for `event` to `sock` with `args`
    /// (node's driver; without it they go unanswered).
    pub async fn answer(&mut self, sock: &str, event: &str, args: Value) {
        self.call(json!({ "op": "answer", "sock": sock, "event": event, "args": args }))
            .await;
    }

    /// Emits without asking for an ack.
    pub async fn emit(&mut self, sock: &str, event: &str, args: Value) {
        self.call(json!({ "op": "emit", "sock": sock, "event": event, "args": args }))
            .await;
    }

    /// Waits for the server to emit `event` to `sock`; returns its arguments.
    pub async fn next_event(&mut self, sock: &str, event: &str) -> Value {
        let matches = |m: &Value| m["sock"] == sock && m["event"] == event;
        if let Some(i) = self.buffered.iter().position(matches) {
            return self.buffered.remove(i).unwrap()["args"].clone();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("{sock} did not receive {event}"))
                .expect("node driver exited");
            if matches(&msg) {
                return msg["args"].clone();
            }
            self.buffered.push_back(msg);
        }
    }

    /// The next event the server emitted to `sock`, whatever its name: `(event, args)`.
    pub async fn next_of(&mut self, sock: &str) -> (String, Value) {
        let of = |m: &Value| m["sock"] == sock;
        let msg = match self.buffered.iter().position(of) {
            Some(i) => self.buffered.remove(i).unwrap(),
            None => loop {
                let msg = tokio::time::timeout(WAIT, self.events.recv())
                    .await
                    .unwrap_or_else(|_| panic!("{sock} received nothing"))
                    .expect("client driver exited");
                if of(&msg) {
                    break msg;
                }
                self.buffered.push_back(msg);
            },
        };
        (
            msg["event"].as_str().unwrap_or_default().to_owned(),
            msg["args"].clone(),
        )
    }

    /// Whether `sock` already received `event` among the events read past so far.
    pub fn seen(&self, sock: &str, event: &str) -> bool {
        self.buffered
            .iter()
            .any(|m| m["sock"] == sock && m["event"] == event)
    }

    pub async fn disconnect(&mut self, sock: &str) {
        self.call(json!({ "op": "disconnect", "sock": sock })).await;
    }
}

/// Waits for the answer to `cmd`, at most [`WAIT`].
pub async fn answer(rx: oneshot::Receiver<Value>, cmd: &Value) -> Value {
    tokio::time::timeout(WAIT, rx)
        .await
        .unwrap_or_else(|_| panic!("node driver did not answer {cmd}"))
        .unwrap()
}

/// Polls `check` until it holds, or panics with `what` after [`WAIT`].
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A shared, ordered record of what ran.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// An example binary, built by `cargo test` next to this test's own binary.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo test builds examples",
        path.display()
    );
    path
}

/// Starts an example binary on a free loopback port, with `env` set; returns it and
/// the URL it printed.
pub async fn start(program: &Path, env: &[(&str, &str)]) -> (Child, String) {
    let name = program.display();
    let mut child = Command::new(program)
        .env("SPECTER_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("listening on ") {
                return url.to_owned();
            }
        }
        panic!("{name} exited before listening");
    })
    .await
    .expect("the example prints `listening on http://ADDR`");
    // Keep reading, so the example never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// SIGTERM, then the process must exit cleanly on its own.
pub async fn terminate(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("graceful shutdown finishes")
        .unwrap();
    assert!(exit.success(), "exit status {exit}");
}

/// Emits `event` with `args` (a JSON array of arguments) from an in-process
/// [`specter::testing::TestClient`] and returns the ack's arguments as one JSON array.
pub async fn emit_ack(client: &specter::testing::TestClient, event: &str, args: Value) -> Value {
    let args = args
        .as_array()
        .expect("arguments as a JSON array")
        .iter()
        .cloned()
        .map(specter::testing::Arg::from)
        .collect();
    Value::from(
        client
            .emit_args_with_ack(event, args)
            .await
            .unwrap_or_else(|e| panic!("ack of {event:?}: {e}")),
    )
}
