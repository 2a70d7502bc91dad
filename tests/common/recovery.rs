//! What the recovery tests share: a TCP proxy the test cuts, and the node script that
//! counts what a recovering client heard.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on 127.0.0.1 to `upstream` that the test cuts (every connection closed)
/// and that refuses new connections for a while.
pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<ProxyState>>,
    task: JoinHandle<()>,
}

struct ProxyState {
    upstream: String,
    refusing: bool,
    conns: Vec<JoinHandle<()>>,
}

impl Proxy {
    pub async fn to(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ProxyState {
            upstream: upstream.trim_start_matches("http://").to_owned(),
            refusing: false,
            conns: Vec::new(),
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if shared.lock().unwrap().refusing {
                    drop(client);
                    continue;
                }
                let upstream = shared.lock().unwrap().upstream.clone();
                let conn = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                shared.lock().unwrap().conns.push(conn);
            }
        });
        Self { url, state, task }
    }

    /// New connections go to `upstream` from now on (another node of the app).
    #[allow(dead_code)]
    pub fn point_to(&self, upstream: &str) {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        self.state.lock().unwrap().upstream = upstream;
    }

    /// Closes every connection and refuses new ones from now on.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap();
        state.refusing = true;
        for conn in state.conns.drain(..) {
            conn.abort();
        }
    }

    /// Closes every connection and refuses new ones for `refuse`.
    pub async fn cut(&self, refuse: Duration) {
        {
            let mut state = self.state.lock().unwrap();
            state.refusing = true;
            for conn in state.conns.drain(..) {
                conn.abort();
            }
        }
        tokio::time::sleep(refuse).await;
        self.state.lock().unwrap().refusing = false;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        for conn in self.state.lock().unwrap().conns.drain(..) {
            conn.abort();
        }
    }
}

/// The node script's lines, as they come.
pub struct Run {
    _child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Run {
    /// `recovery.mjs` with these arguments (`app`: `chat` for the chat example's
    /// events, else empty).
    pub fn start(proxy: &str, direct: &str, transport: &str, count: usize, app: &str) -> Self {
        super::ensure_node_packages();
        let mut child = tokio::process::Command::new("node")
            .arg("recovery.mjs")
            .args([proxy, direct, transport, &count.to_string(), app])
            .current_dir(super::node_dir())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self {
            _child: child,
            lines,
        }
    }

    /// The next line that has `key`, within 30 s.
    pub async fn next(&mut self, key: &str) -> Value {
        let next = async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                let line: Value = serde_json::from_str(&line).unwrap();
                if let Some(value) = line.get(key) {
                    return value.clone();
                }
            }
            panic!("the script ended before a line with {key}");
        };
        tokio::time::timeout(Duration::from_secs(30), next)
            .await
            .unwrap_or_else(|_| panic!("no line with {key} within 30 s"))
    }
}

/// What a run of `recovery.mjs` saw across two cuts of `proxy` (each refusing the client
/// for 1.5 s) made while the sender speaks: the first connect, the two after the cuts,
/// and the end of the run.
pub async fn across_two_cuts(proxy: &Proxy, run: &mut Run) -> [Value; 4] {
    let first = run.next("connect").await;
    run.next("sending").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.cut(Duration::from_millis(1500)).await;
    let back = run.next("connect").await;
    proxy.cut(Duration::from_millis(1500)).await;
    let again = run.next("connect").await;
    [first, back, again, run.next("done").await]
}

/// The numbers the receiver heard, in the order it heard them.
pub fn heard(done: &Value) -> Vec<u64> {
    serde_json::from_value(done["heard"].clone())
        .unwrap_or_else(|_| panic!("each message once, as its number: {done}"))
}

/// What a run across cuts must show (`what` names the run in a failure): a fresh first
/// connect, each later one recovered under the first id, and the `count` messages
/// heard once each, in order.
#[allow(dead_code)]
pub fn assert_recovered(first: &Value, later: &[&Value], done: &Value, count: u64, what: &str) {
    assert_eq!(first["recovered"], false, "{what}: {first}");
    for connect in later {
        assert_eq!(connect["recovered"], true, "{what}: {connect}");
        assert_eq!(connect["id"], first["id"], "{what}, the same id: {connect}");
    }
    let heard = heard(done);
    let missing = (0..count).filter(|n| !heard.contains(n)).count();
    assert_eq!(missing, 0, "{what}: missed {missing} of {count}: {heard:?}");
    assert_eq!(
        heard,
        (0..count).collect::<Vec<u64>>(),
        "{what}: each once, in order"
    );
}
