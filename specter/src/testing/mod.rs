//! An in-process Socket.IO client for tests, in the manner of Flask-SocketIO's
//! `test_client`: build the app from the same handlers and controllers, connect (with
//! auth data), emit, await an ack, receive what the server emitted, disconnect — all
//! over an in-memory connection, with no network port.
//!
//! ```
//! use specter::prelude::*;
//! use specter::testing::TestClient;
//! use serde_json::json;
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! #[handler(name = "echo", discover = false)]
//! impl Echo {
//!     #[on("echo")]
//!     fn echo(&self, socket: SocketRef, Data(v): Data<serde_json::Value>) -> serde_json::Value {
//!         socket.emit("echoed", &v).ok();
//!         v
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app = ServiceManager::builder().handler(Echo).build()?;
//! let mut client = TestClient::connect(&app).await?;     // boots the app if needed
//! let ack = client.emit_with_ack("echo", json!({"n": 1})).await?;
//! assert_eq!(ack, [json!({"n": 1})]);
//! let pushed = client.recv().await?;
//! assert_eq!((pushed.event.as_str(), pushed.args), ("echoed", vec![json!({"n": 1})]));
//! client.disconnect().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! The same client speaks to a real server over TCP with
//! [`TestClient::builder`]`().connect_url(..)`. Binary arguments the server sends arrive
//! as JSON arrays of bytes; the client sends binary arguments with [`Arg::Binary`].
//!
//! `specter::testing` is behind the `testing` feature: turn it on in your app's
//! dev-dependencies, `specter = { version = "..", features = ["testing"] }`.

#[cfg(feature = "msgpack")]
mod msgpack;
mod packet;
mod reader;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::ServiceManager;
pub use packet::Arg;
use reader::{Reader, read_loop};
use wire::{Answerers, Wire};

/// What can go wrong with a [`TestClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestError {
    /// The server refused the connection (`connect_error`) with this message.
    Refused(String),
    /// Nothing arrived within the client's timeout.
    Timeout,
    /// The connection is closed.
    Closed,
    /// The transport failed, or the server sent something this client cannot read.
    Transport(String),
}

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestError::Refused(m) => write!(f, "connection refused: {m}"),
            TestError::Timeout => f.write_str("timed out"),
            TestError::Closed => f.write_str("connection closed"),
            TestError::Transport(m) => write!(f, "transport error: {m}"),
        }
    }
}

impl std::error::Error for TestError {}

/// An event the server emitted to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// The event name.
    pub event: String,
    /// Its arguments.
    pub args: Vec<Value>,
}

/// Options of a [`TestClient`] connection.
#[derive(Debug, Clone)]
pub struct TestClientBuilder {
    namespace: String,
    auth: Value,
    timeout: Duration,
    answerers: Answerers,
    wire: Wire,
}

impl Default for TestClientBuilder {
    fn default() -> Self {
        Self {
            namespace: "/".into(),
            auth: Value::Object(Default::default()),
            timeout: Duration::from_secs(5),
            answerers: Answerers::default(),
            wire: Wire::Json,
        }
    }
}

impl TestClientBuilder {
    /// The namespace to connect to (default `/`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The auth payload of the connection (default `{}`).
    pub fn auth(mut self, auth: impl Serialize) -> Self {
        self.auth = serde_json::to_value(auth).expect("auth must serialize to JSON");
        self
    }

    /// How the client answers when the server asks `event` (an emit with an ack, as
    /// [`Deliver::ask`](crate::Deliver::ask) sends): `answer` gets the event's
    /// arguments and returns the callback's arguments, or `None` to leave the request
    /// unanswered (the server's ask then times out). A request for an event without
    /// an answerer is answered at once with no arguments. The event is also received
    /// as any other ([`TestClient::recv`]).
    ///
    /// ```
    /// # use specter::testing::TestClient;
    /// # use serde_json::{Value, json};
    /// let client = TestClient::builder()
    ///     .answer("name?", |_args: &[Value]| Some(vec![json!("ann")]))
    ///     .answer("slow?", |_args: &[Value]| None);
    /// ```
    pub fn answer(
        mut self,
        event: impl Into<String>,
        answer: impl Fn(&[Value]) -> Option<Vec<Value>> + Send + Sync + 'static,
    ) -> Self {
        self.answerers.0.insert(event.into(), Arc::new(answer));
        self
    }

    /// Speaks MessagePack (node's `socket.io-msgpack-parser`) instead of JSON, to an app
    /// built with [`ServiceManagerBuilder::msgpack`](crate::ServiceManagerBuilder::msgpack).
    #[cfg(feature = "msgpack")]
    pub fn msgpack(mut self) -> Self {
        self.wire = Wire::MsgPack;
        self
    }

    /// How long any wait may take (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to `app` in process: boots it if needed, then speaks Socket.IO over an
    /// in-memory connection served by the app's router.
    pub async fn connect(self, app: &ServiceManager) -> Result<TestClient, TestError> {
        app.boot()
            .await
            .map_err(|e| TestError::Transport(e.to_string()))?;
        self.connect_router(app.router()).await
    }

    /// Connects in process to any axum router that carries a Socket.IO layer (an app
    /// of your own, or plain socketioxide).
    pub async fn connect_router(self, router: axum::Router) -> Result<TestClient, TestError> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let service = hyper_util::service::TowerToHyperService::new(router);
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(server);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
            let _ = conn.with_upgrades().await;
        });
        let url = "ws://specter.test/socket.io/?EIO=4&transport=websocket";
        let (ws, _) = tokio_tungstenite::client_async(url, client)
            .await
            .map_err(|e| TestError::Transport(e.to_string()))?;
        self.handshake(ws).await
    }

    /// Connects to a server at `url` (`http://127.0.0.1:3000`) over TCP.
    pub async fn connect_url(self, url: &str) -> Result<TestClient, TestError> {
        let base = url.trim_end_matches('/').replacen("http", "ws", 1);
        let url = format!("{base}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| TestError::Transport(e.to_string()))?;
        self.handshake(ws).await
    }

    async fn handshake<S>(
        self,
        ws: tokio_tungstenite::WebSocketStream<S>,
    ) -> Result<TestClient, TestError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sink, stream) = ws.split();
        let (out, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                let close = matches!(m, Message::Close(_));
                if sink.send(m).await.is_err() || close {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let (events_tx, events) = mpsc::unbounded_channel();
        let (connected_tx, connected) = oneshot::channel();
        let reader = Reader {
            out: out.clone(),
            pending: pending.clone(),
            events: events_tx,
            connected: Some(connected_tx),
            namespace: self.namespace.clone(),
            answerers: self.answerers.clone(),
            wire: self.wire,
        };
        tokio::spawn(read_loop(stream, reader));
        for m in self.wire.connect(&self.namespace, &self.auth) {
            out.send(m).map_err(|_| TestError::Closed)?;
        }
        let sid = match tokio::time::timeout(self.timeout, connected).await {
            Err(_) => return Err(TestError::Timeout),
            Ok(Err(_)) => return Err(TestError::Closed),
            Ok(Ok(result)) => result?,
        };
        Ok(TestClient {
            wire: self.wire,
            namespace: self.namespace,
            timeout: self.timeout,
            sid,
            out,
            pending,
            events,
            next_ack: AtomicI64::new(0),
        })
    }
}

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Vec<Value>>>>>;

/// A Socket.IO client connected to one namespace.
pub struct TestClient {
    wire: Wire,
    namespace: String,
    timeout: Duration,
    sid: String,
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: mpsc::UnboundedReceiver<ServerEvent>,
    next_ack: AtomicI64,
}

fn json_arg(data: impl Serialize) -> Result<Arg, TestError> {
    serde_json::to_value(data)
        .map(Arg::Json)
        .map_err(|e| TestError::Transport(e.to_string()))
}

fn send(out: &mpsc::UnboundedSender<Message>, text: String) -> Result<(), TestError> {
    out.send(Message::text(text)).map_err(|_| TestError::Closed)
}

impl TestClient {
    /// Connects to `app` in process, on `/` with no auth: see [`TestClientBuilder`].
    pub async fn connect(app: &ServiceManager) -> Result<Self, TestError> {
        Self::builder().connect(app).await
    }

    /// Options: namespace, auth, timeout.
    pub fn builder() -> TestClientBuilder {
        TestClientBuilder::default()
    }

    /// The socket id the server gave this client.
    pub fn id(&self) -> &str {
        &self.sid
    }

    /// Emits `event` with `data` as its one argument, without asking for an ack.
    pub fn emit(&self, event: &str, data: impl Serialize) -> Result<(), TestError> {
        self.emit_args(event, vec![json_arg(data)?])
    }

    /// Emits `event` with any number of arguments (JSON or binary), without asking for
    /// an ack.
    pub fn emit_args(&self, event: &str, args: Vec<Arg>) -> Result<(), TestError> {
        self.send_event(None, event, args)
    }

    /// Emits `event` with `data` and waits for the ack; returns its arguments.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        data: impl Serialize,
    ) -> Result<Vec<Value>, TestError> {
        self.emit_args_with_ack(event, vec![json_arg(data)?]).await
    }

    /// Emits `event` with any number of arguments (JSON or binary) and waits for the
    /// ack; returns its arguments.
    ///
    /// ```no_run
    /// # async fn demo(client: &specter::testing::TestClient) -> Result<(), specter::testing::TestError> {
    /// use specter::testing::Arg;
    /// let ack = client.emit_args_with_ack("upload", vec![Arg::from(serde_json::json!("a.png")), Arg::Binary(vec![1, 2, 3])]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn emit_args_with_ack(
        &self,
        event: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<Value>, TestError> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.send_event(Some(id), event, args)?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(TestError::Closed),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                Err(TestError::Timeout)
            }
        }
    }

    fn send_event(&self, ack: Option<i64>, event: &str, args: Vec<Arg>) -> Result<(), TestError> {
        for m in self.wire.event(&self.namespace, ack, event, args) {
            self.out.send(m).map_err(|_| TestError::Closed)?;
        }
        Ok(())
    }

    /// Waits for the next event the server emits to this client.
    pub async fn recv(&mut self) -> Result<ServerEvent, TestError> {
        match tokio::time::timeout(self.timeout, self.events.recv()).await {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err(TestError::Closed),
            Err(_) => Err(TestError::Timeout),
        }
    }

    /// Every event received so far and not yet read.
    pub fn received(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    /// Sends raw Engine.IO text, for tests of malformed input.
    pub fn send_raw(&self, text: impl Into<String>) -> Result<(), TestError> {
        send(&self.out, text.into())
    }

    /// Leaves the namespace and closes the connection.
    pub async fn disconnect(self) {
        for m in self.wire.disconnect(&self.namespace) {
            let _ = self.out.send(m);
        }
        let _ = self.out.send(Message::Close(None));
        // Let the server read the packets before the connection goes.
        tokio::task::yield_now().await;
    }
}
