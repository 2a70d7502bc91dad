//! The seed's ChatController (events "message" and "typing"), a ModerationController
//! that also listens to "message" and runs first (it can reject a message), and a
//! History service. The page is served under /chat, the official Socket.IO Admin UI
//! under /admin/ (it logs in as `admin`: see [`admin_ui`]), metrics at /metrics and
//! health at /health.
//!
//! ```sh
//! npm ci --prefix examples/chat   # the browser bundles: socket.io-client, the Admin UI
//! cargo run --example chat        # 127.0.0.1:3000, or SPECTER_ADDR; open /chat
//! # one node of many, sharing a Redis server (>= 7):
//! SPECTER_REDIS_URL=redis://127.0.0.1:6379 cargo run --example chat --features specter-runtime/redis
//! ```
//!
//! On several nodes, messages and typing reach every node's clients (they are
//! broadcasts); the history service and the list of present names are each node's own.

#[path = "support/mod.rs"]
mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use axum::{Extension, Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use specter::ServerEvent;
use specter::admin::{AdminMode, AdminUi};
use specter::prelude::*;
use specter::validate::Valid;
use specter::{
    BoxError, Controller, DispatchSettings, Events, Lifecycle, Recovery, RecoverySettings, Service,
    Services, SocketIo,
};

/// A message as clients see it: the server's `message` event, and the history.
#[derive(Debug, Clone, Serialize, JsonSchema, ServerEvent)]
#[event("message")]
struct ChatMessage {
    user: String,
    text: String,
    at: u64,
}

/// What a client sends with `message`: `Valid<Incoming>` checks these rules before the
/// chat's subscriber runs, and the ack lists each broken one.
#[derive(Debug, Deserialize, JsonSchema, garde::Validate)]
struct Incoming {
    #[garde(length(bytes, min = 1, max = 500), custom(not_blank))]
    text: String,
}

fn not_blank(text: &str, _: &()) -> garde::Result {
    match text.trim().is_empty() {
        true => Err(garde::Error::new("is blank")),
        false => Ok(()),
    }
}

/// How many messages one client may send: bursts of 10, then one a second. An
/// operator's setting (`CHAT_MESSAGE_RATE`, `10/10s` by default).
fn message_rate() -> specter::Rate {
    std::env::var("CHAT_MESSAGE_RATE")
        .ok()
        .map(|r| {
            r.parse()
                .expect("CHAT_MESSAGE_RATE is a rate such as 10/10s")
        })
        .unwrap_or_else(|| "10/10s".parse().expect("a rate"))
}

/// The answer to a message that was sent.
#[derive(Debug, Serialize, JsonSchema)]
struct Sent {
    ok: bool,
}

/// Who is present: the server's `presence` event.
#[derive(Debug, Serialize, JsonSchema, ServerEvent)]
#[event("presence")]
struct Presence(Vec<String>);

/// Someone is typing: the server's `typing` event.
#[derive(Debug, Serialize, JsonSchema, ServerEvent)]
#[event("typing")]
struct Typing {
    user: String,
}

/// The connection's auth payload: who is joining.
#[derive(Debug, Deserialize, JsonSchema)]
struct JoinAuth {
    name: String,
}

/// The last messages, for clients that join late.
#[derive(Default)]
struct History {
    messages: Mutex<VecDeque<ChatMessage>>,
}

const HISTORY_LEN: usize = 50;

impl History {
    fn push(&self, message: ChatMessage) {
        let mut messages = self.messages.lock().unwrap();
        if messages.len() == HISTORY_LEN {
            messages.pop_front();
        }
        messages.push_back(message);
    }

    fn recent(&self) -> Vec<ChatMessage> {
        self.messages.lock().unwrap().iter().cloned().collect()
    }
}

impl Service for History {
    async fn on_start(&self, _lifecycle: &Lifecycle) -> Result<(), BoxError> {
        self.push(ChatMessage {
            user: "specter".into(),
            text: "welcome to the chat".into(),
            at: now(),
        });
        Ok(())
    }

    async fn on_stop(&self, _lifecycle: &Lifecycle) -> Result<(), BoxError> {
        tracing::info!(
            messages = self.messages.lock().unwrap().len(),
            "history closed"
        );
        Ok(())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Who a socket is: set when it connects, kept in the socket's session, and carried
/// with it to another node when its client recovers its connection there.
#[derive(Clone, Serialize, Deserialize)]
struct Member(String);

specter::carry_session!(Member);

/// The chat itself: names, messages, typing, presence, and the page.
#[derive(Default, Controller)]
#[controller(name = "chat", route = "/chat")]
struct ChatController;

// `describe` records each method's payload and ack types for the contract
// (`cargo run --example chat -- contract DIR`); `#[handler]` does it on its own.
#[specter::describe]
impl ChatController {
    /// The sorted names of the sockets present, but `leaving`.
    fn present(io: &SocketIo, leaving: Option<&SocketRef>) -> Presence {
        let mut names: Vec<String> = io
            .sockets()
            .iter()
            .filter(|s| leaving.is_none_or(|l| l.id != s.id))
            .filter_map(Session::<Member>::get)
            .map(|m| m.0)
            .collect();
        // A member whose connection was lost and who is back already (recovery) is
        // there twice for a moment: the socket away, and the new one.
        names.sort();
        names.dedup();
        Presence(names)
    }

    /// Two clients connecting at the same instant under one name may both get in: an
    /// app that must prevent it reserves names in a service.
    /// A member whose connection was lost and who came back in time (`Recovery`) is
    /// not "already here": the socket has its session, rooms and missed messages back.
    fn on_connect(
        &self,
        socket: SocketRef,
        io: SocketIo,
        Data(auth): Data<JoinAuth>,
        recovery: Recovery,
    ) -> Result<(), Reject> {
        // Back on the node that had its session, or on another node (several nodes
        // on Redis: `carry_session!`), its `Member` came back with it.
        let member = Session::<Member>::get(&socket);
        if let (Recovery::Recovered { .. }, Some(_)) = (recovery, member) {
            return Ok(());
        }
        let name = auth.name.trim();
        if name.is_empty() || name.len() > 32 {
            return Err(Reject::new("pick a name of 1 to 32 characters"));
        }
        if Self::present(&io, None).0.iter().any(|n| n == name) {
            return Err(Reject::new(format!("{name} is already here")));
        }
        Session::insert(&socket, Member(name.to_owned()));
        Ok(())
    }

    /// Sent by the page once connected: answers with the history, tells everyone who
    /// is present.
    async fn on_join(
        &self,
        io: SocketIo,
        deliver: Deliver,
        State(history): State<Arc<History>>,
    ) -> Vec<ChatMessage> {
        let present = Self::present(&io, None);
        delivered(deliver.send_to(io.broadcast(), &present).await);
        history.recent()
    }

    async fn on_message(
        &self,
        io: SocketIo,
        deliver: Deliver,
        Session(member): Session<Member>,
        Valid(incoming): Valid<Incoming>,
        State(history): State<Arc<History>>,
    ) -> Ack<Sent> {
        let message = ChatMessage {
            user: member.0,
            text: incoming.text.clone(),
            at: now(),
        };
        history.push(message.clone());
        delivered(deliver.send_to(io.broadcast(), &message).await);
        Ack(Sent { ok: true })
    }

    async fn on_typing(
        &self,
        socket: SocketRef,
        deliver: Deliver,
        Session(member): Session<Member>,
    ) {
        let typing = Typing { user: member.0 };
        delivered(deliver.send_to(socket.broadcast(), &typing).await);
    }

    async fn on_disconnect(&self, socket: SocketRef, io: SocketIo, deliver: Deliver) {
        let present = Self::present(&io, Some(&socket));
        delivered(deliver.send_to(io.broadcast(), &present).await);
    }
}

/// Emits go through `Deliver`, which waits for room in a full buffer; what it still
/// could not deliver (a client gone or stalled) it has logged and counted, and is said
/// here once per emit.
fn delivered(result: Result<(), specter::Undelivered>) {
    if let Err(e) = result {
        tracing::info!(reason = %e, "not every client received the emit");
    }
}

impl Controller for ChatController {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on(specter::event!("connect"), Self::on_connect);
        events.on("join", Self::on_join);
        events
            .on(specter::event!("message"), Self::on_message)
            .rate_limit(message_rate());
        // Clients send `typing` on key presses; two a second is plenty to show it.
        events
            .on("typing", Self::on_typing)
            .rate_limit("2/s".parse().expect("a rate"));
        events.on("disconnect", Self::on_disconnect);
    }

    fn build_routes(&self, routes: Router<Arc<Self>>) -> Router<Arc<Self>> {
        routes
            .route("/", get(async || Html(include_str!("chat/index.html"))))
            .route(
                "/chat.js",
                get(async || javascript(include_str!("chat/chat.js"))),
            )
            .route("/socket.io.min.js", get(bundle))
            .route(
                "/specter-recovery.mjs",
                get(async || javascript(include_str!("../client/specter-recovery.mjs"))),
            )
            .route("/history", get(history))
    }
}

fn javascript(body: impl Into<String>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript")], body.into())
}

/// socket.io-client's browser bundle, from the npm package (there is no CDN here).
async fn bundle() -> axum::response::Response {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/chat/node_modules/socket.io-client/dist/socket.io.min.js"
    );
    match tokio::fs::read_to_string(path).await {
        Ok(js) => javascript(js).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the socket.io-client bundle is missing: run `npm ci --prefix examples/chat`",
        )
            .into_response(),
    }
}

async fn history(Extension(services): Extension<Services>) -> Json<Vec<ChatMessage>> {
    Json(
        services
            .get::<History>()
            .map(|h| h.recent())
            .unwrap_or_default(),
    )
}

/// Listens to "message" before the chat does (priority 10 < 100) and rejects words that
/// must not be broadcast: the chat's subscriber then never runs. (The rules on the
/// message's shape are `Incoming`'s, checked by `Valid`.)
#[derive(Default, Controller)]
#[controller(name = "moderation")]
struct ModerationController;

const BANNED: [&str; 2] = ["spam", "scam"];

#[specter::describe]
impl ModerationController {
    fn check(&self, Data(incoming): Data<Incoming>) -> Option<Reject> {
        let text = incoming.text.to_lowercase();
        let banned = BANNED.iter().find(|w| text.contains(*w));
        banned.map(|word| Reject::new(format!("{word:?} is not allowed here")))
    }
}

impl Controller for ModerationController {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("message", Self::check).priority(10);
    }
}

/// Serves the app's metrics (feature `metrics` of Specter) at `/metrics`, in the
/// Prometheus text format.
#[derive(Default, Controller)]
#[controller(name = "metrics", route = "/")]
struct MetricsController;

static PROMETHEUS: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
    std::sync::OnceLock::new();

impl Controller for MetricsController {
    fn build_events(&self, _: &mut Events<Self>) {}

    fn build_routes(&self, routes: Router<Arc<Self>>) -> Router<Arc<Self>> {
        routes.route(
            "/metrics",
            get(async || PROMETHEUS.get().map(|h| h.render()).unwrap_or_default()),
        )
    }
}

/// The Admin UI's login: user `admin`, and the password whose bcrypt hash is
/// `CHAT_ADMIN_HASH` (an operator's setting, as `htpasswd -nbB` or any bcrypt tool
/// makes it). Without one, the example makes up a password and prints it. The UI runs in
/// development mode: its menu leads to the sockets, rooms, clients and the event log.
fn admin_ui() -> AdminUi {
    let hash = std::env::var("CHAT_ADMIN_HASH").unwrap_or_else(|_| {
        let password = socketioxide::socket::Sid::new().to_string();
        println!("admin UI: /admin/ as admin, password {password}");
        bcrypt::hash(password, bcrypt::DEFAULT_COST).expect("a bcrypt hash")
    });
    AdminUi::basic_auth("admin", &hash)
        .expect("CHAT_ADMIN_HASH is a bcrypt hash")
        .mode(AdminMode::Development)
}

/// The Admin UI's page, from its npm package (`@socket.io/admin-ui`), at /admin/: a
/// single-page app whose files are named relative to it.
#[derive(Default, Controller)]
#[controller(name = "admin-ui-page", route = "/")]
struct AdminPage;

const ADMIN_UI_FILES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/chat/node_modules/@socket.io/admin-ui/ui/dist"
);

impl Controller for AdminPage {
    fn build_events(&self, _: &mut Events<Self>) {}

    fn build_routes(&self, routes: Router<Arc<Self>>) -> Router<Arc<Self>> {
        if !std::path::Path::new(ADMIN_UI_FILES).is_dir() {
            tracing::warn!("the Admin UI's files are missing: run `npm ci --prefix examples/chat`");
        }
        routes
            .route("/admin", get(async || Redirect::permanent("/admin/")))
            .nest_service(
                "/admin/",
                tower_http::services::ServeDir::new(ADMIN_UI_FILES),
            )
    }
}

#[tokio::main]
async fn main() -> Result<(), specter::Error> {
    // The recorder every `metrics` call of Specter reports to.
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("one metrics recorder per process");
    let _ = PROMETHEUS.set(handle);
    support::serve(
        ServiceManager::builder()
            .service(History::default())
            .discover()
            .admin_ui(admin_ui())
            // A member whose connection drops (a phone between networks) and who is
            // back within 2 minutes misses nothing.
            .dispatch(DispatchSettings::default().recovery(RecoverySettings::default()))
            .health_route("/health"),
    )
    .await
}
