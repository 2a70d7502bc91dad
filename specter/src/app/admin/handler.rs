//! The `/admin` handler: the UI's login, what it is sent, and its operations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socketioxide::extract::Data;

use super::login::{self, LoginAuth, LoginBudget, Sessions};
use super::protocol::{ADMIN_NAMESPACE, Notices, OWNER, server_id, tell};
use super::settings::{AdminMode, AdminUi};
use super::sockets::{all_sockets, targets};
use super::watch::Aggregated;
use crate::adapter::{SocketIo, SocketRef};
use crate::app::events::Events;
use crate::app::handler::Handler;
use crate::app::hooks::{DynHooks, Hooks};
use crate::app::lifecycle::Lifecycle;
use crate::error::BoxError;
use crate::subscriber::{Reject, Source};

/// How often the UI gets `server_stats`, as the npm package sends them.
const STATS_EVERY: Duration = Duration::from_secs(2);

/// How long the UI's socket may take to be connected once its login passed.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// The `/admin` handler.
pub(crate) struct AdminHandler {
    config: AdminUi,
    /// The sessions this node opened (a login on another node opens its own).
    sessions: Arc<Sessions>,
    /// The login attempts this node checks.
    budget: LoginBudget,
    started: Instant,
    aggregated: Arc<Aggregated>,
    notices: Arc<Notices>,
}

impl AdminHandler {
    pub fn new(config: AdminUi, aggregated: Arc<Aggregated>, notices: Arc<Notices>) -> Self {
        Self {
            sessions: config.sessions.inner.clone(),
            budget: LoginBudget::new(config.limits),
            config,
            started: Instant::now(),
            aggregated,
            notices,
        }
    }

    fn features(&self) -> Vec<&'static str> {
        let mut features = if self.config.readonly {
            vec![]
        } else {
            vec![
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]
        };
        features.push("AGGREGATED_EVENTS");
        if self.config.mode == AdminMode::Development {
            features.push("ALL_EVENTS");
        }
        features
    }

    /// Authenticates the UI; once it is connected, sends its session, the config and
    /// every socket.
    async fn on_connect(
        &self,
        socket: SocketRef,
        io: SocketIo,
        Data(auth): Data<LoginAuth>,
    ) -> Result<(), Reject> {
        let address = login::peer(&socket);
        let ip = address.map(|a| a.ip());
        let limits = &self.config.limits;
        let resumed = |id: &login::Field| self.sessions.resume(&id.0, ip, limits);
        let new_session = match &self.config.auth {
            None => None,
            Some(_) if auth.session_id.as_ref().is_some_and(resumed) => None,
            Some((username, hash)) => {
                let refused = |r: login::Refusal| Reject::new(r.message());
                self.budget.admit(address).map_err(refused)?;
                let turn = self.budget.turn().await.map_err(refused)?;
                let given = (auth.username.0, auth.password.0);
                let passed = self.check_login(username, hash, given).await;
                drop(turn);
                self.budget.record(address, passed);
                if !passed {
                    return Err(Reject::new("invalid credentials"));
                }
                let bound = self.config.bind_sessions.then_some(ip).flatten();
                Some(self.sessions.open(bound, limits))
            }
        };
        // A full handshake is told to the UIs of this node only: the others spare it.
        socket.join(crate::adapter::node_room());
        let config = json!({ "supportedFeatures": self.features() });
        let namespaces = self.config.namespaces.clone();
        let reveal = self.config.reveal;
        let development = self.config.mode == AdminMode::Development;
        // The socket is not connected yet (this runs as the connect middleware): the
        // first emits wait for it.
        tokio::spawn(async move {
            let waited = Instant::now();
            while !socket.connected() {
                if waited.elapsed() > CONNECT_WAIT {
                    tracing::warn!(socket = %socket.id, "the admin UI never finished connecting");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut sent = Vec::new();
            if let Some(id) = new_session {
                sent.push(socket.emit("session", &id));
            }
            sent.push(socket.emit("config", &config));
            if development {
                let sockets = all_sockets(&io, &namespaces, reveal).await;
                sent.push(socket.emit("all_sockets", &(sockets,)));
            }
            if let Some(Err(e)) = sent.into_iter().find(Result::is_err) {
                tracing::warn!(error = %e, "the admin UI was not sent its session and sockets");
            }
        });
        Ok(())
    }

    /// Whether `(user, password)` is the login. bcrypt is slow on purpose: it runs on a
    /// blocking thread, a few checks at a time (the budget's turns), so that guesses
    /// cannot stall the app's workers; and it runs whatever the username, which its
    /// timing does not tell.
    async fn check_login(&self, username: &str, hash: &str, given: (String, String)) -> bool {
        let (user, password) = given;
        let hash = hash.to_owned();
        let check = move || bcrypt::verify(password, &hash).unwrap_or(false);
        let password_ok = tokio::task::spawn_blocking(check).await.unwrap_or(false);
        password_ok && user == username
    }

    /// Whether an operation may act on `nsp`: one of the namespaces the UI was given,
    /// never the UI's own (other administrators).
    fn may_operate(&self, nsp: &str) -> bool {
        let allowed = nsp != ADMIN_NAMESPACE && self.config.namespaces.iter().any(|n| n == nsp);
        if !allowed {
            tracing::warn!(nsp = ?crate::client_text::Shown(nsp), "the admin UI asked to operate outside its namespaces: refused");
        }
        allowed
    }

    async fn join(&self, io: SocketIo, Data(args): Data<RoomChange>) {
        if self.may_operate(&args.0) {
            change_rooms(&io, args, Room::Join).await;
        }
    }

    async fn leave(&self, io: SocketIo, Data(args): Data<RoomChange>) {
        if self.may_operate(&args.0) {
            change_rooms(&io, args, Room::Leave).await;
        }
    }

    async fn disconnect(
        &self,
        io: SocketIo,
        Data((nsp, _close, filter)): Data<(String, bool, Option<String>)>,
    ) {
        if !self.may_operate(&nsp) {
            return;
        }
        for socket in targets(&io, &nsp, filter.as_deref()).await {
            if let Err(e) = socket.disconnect().await {
                tracing::warn!(error = %e, "the admin UI's disconnect failed");
            }
        }
    }

    /// `emit(nsp, filter, event, arg)`: the UI's emit form, with one argument.
    async fn emit(
        &self,
        io: SocketIo,
        Data((nsp, filter, event, arg)): Data<(String, Option<String>, String, Value)>,
    ) {
        if !self.may_operate(&nsp) {
            return;
        }
        for socket in targets(&io, &nsp, filter.as_deref()).await {
            if let Err(e) = socket.emit(&event, &(&arg,)).await {
                tracing::warn!(error = %e, "the admin UI's emit failed");
            }
        }
    }
}

/// The UI's `join` and `leave`: `(nsp, room, filter)`.
type RoomChange = (String, String, Option<String>);

enum Room {
    Join,
    Leave,
}

/// Makes the sockets `filter` names join or leave `room`, and tells the UI of each
/// that was not in it already (or was, to leave it).
async fn change_rooms(io: &SocketIo, (nsp, room, filter): RoomChange, change: Room) {
    for socket in targets(io, &nsp, filter.as_deref()).await {
        let rooms = socket.rooms().await.unwrap_or_default();
        let inside = rooms.iter().any(|r| *r == room);
        let (done, told) = match change {
            Room::Join if !inside => (socket.join(room.clone()).await, "room_joined"),
            Room::Leave if inside => (socket.leave(room.clone()).await, "room_left"),
            _ => continue,
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, told, "the admin UI's room change failed");
            continue;
        }
        let id = socket.data().id.to_string();
        tell(io, told, &(&nsp, &room, id)).await;
    }
}

impl Handler for AdminHandler {
    fn name(&self) -> &str {
        OWNER
    }

    fn namespace(&self) -> &str {
        ADMIN_NAMESPACE
    }

    fn source(&self) -> Source {
        Source {
            file: file!(),
            line: line!(),
        }
    }

    fn build_events(&self, events: &mut Events<Self>) {
        events.on("connect", Self::on_connect);
        if !self.config.readonly {
            events.on("join", Self::join);
            events.on("leave", Self::leave);
            events.on("_disconnect", Self::disconnect);
            events.on("emit", Self::emit);
        }
    }

    fn hooks(&self) -> Option<&dyn DynHooks> {
        Some(self)
    }
}

impl Hooks for AdminHandler {
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        let Some(io) = lifecycle.io().cloned() else {
            return Ok(());
        };
        let _ = self.config.sessions.io.set(io.clone());
        let notices = self.notices.clone().run(io.clone(), lifecycle.stopping());
        lifecycle.spawn("admin UI notices", notices);
        let namespaces = self.config.namespaces.clone();
        let started = self.started;
        let server = server_id();
        let aggregated = self.aggregated.clone();
        lifecycle.every("admin UI stats", STATS_EVERY, move || {
            let (io, namespaces, server) = (io.clone(), namespaces.clone(), server.clone());
            let aggregated = aggregated.take();
            async move {
                let mut clients = 0;
                let mut polling = 0;
                let counts: Vec<Value> = namespaces
                    .iter()
                    .filter_map(|nsp| io.of(nsp.clone()).map(|op| (nsp, op.sockets())))
                    .map(|(nsp, sockets)| {
                        clients += sockets.len();
                        polling += sockets
                            .iter()
                            .filter(|s| s.transport_type() == crate::TransportType::Polling)
                            .count();
                        json!({ "name": nsp, "socketsCount": sockets.len() })
                    })
                    .collect();
                let stats = json!({
                    "serverId": server,
                    "hostname": server.split('#').next(),
                    "pid": std::process::id(),
                    "uptime": started.elapsed().as_secs_f64(),
                    "clientsCount": clients,
                    "pollingClientsCount": polling,
                    "aggregatedEvents": aggregated,
                    "namespaces": counts,
                });
                tell(&io, "server_stats", &(stats,)).await;
            }
        });
        Ok(())
    }
}
