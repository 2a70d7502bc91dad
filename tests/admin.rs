//! The server side of the Socket.IO Admin UI through the in-process `TestClient`,
//! speaking to `/admin` as the UI does: basic auth, the session, `config`,
//! `all_sockets`, `server_stats`, and a disconnect done from the UI.

mod common;

use std::time::Duration;

use common::{Log, eventually};
use serde_json::{Value, json};
use specter::DisconnectReason;
use specter::admin::{AdminMode, AdminUi};
use specter::prelude::*;
use specter::testing::{TestClient, TestError};

fn admin_app(log: &Log) -> ServiceManager {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let app = ServiceManager::builder()
        .admin_ui(
            AdminUi::basic_auth("admin", &hash)
                .unwrap()
                .mode(AdminMode::Development),
        )
        .build()
        .unwrap();
    let gone = log.clone();
    app.ingress()
        .on(
            "disconnect",
            move |socket: SocketRef, reason: DisconnectReason| {
                gone.push(format!("{} left: {reason:?}", socket.id))
            },
        )
        .owner("audit")
        .subscribe()
        .unwrap();
    app
}

async fn admin(app: &ServiceManager, password: &str) -> Result<TestClient, TestError> {
    TestClient::builder()
        .namespace("/admin")
        .auth(json!({"username": "admin", "password": password}))
        .timeout(Duration::from_secs(5))
        .connect(app)
        .await
}

/// The session id the UI was given at login.
async fn session_of(ui: &mut TestClient) -> String {
    next(ui, "session").await[0].as_str().unwrap().to_owned()
}

/// A UI that logs in again with session `id`.
async fn resume(app: &ServiceManager, id: &str) -> Result<TestClient, TestError> {
    TestClient::builder()
        .namespace("/admin")
        .auth(json!({ "sessionId": id }))
        .timeout(Duration::from_secs(5))
        .connect(app)
        .await
}

/// The next event named `name` the client receives.
async fn next(client: &mut TestClient, name: &str) -> Vec<Value> {
    loop {
        let e = client
            .recv()
            .await
            .unwrap_or_else(|e| panic!("waiting for {name}: {e}"));
        if e.event == name {
            return e.args;
        }
    }
}

#[tokio::test]
async fn the_admin_ui_logs_in_sees_the_sockets_and_disconnects_one() {
    let log = Log::default();
    let app = admin_app(&log);
    app.boot().await.unwrap();
    let mut user = TestClient::connect(&app).await.unwrap();

    let refused = admin(&app, "guess").await.err().expect("a wrong password");
    assert_eq!(
        refused.to_string(),
        "connection refused: invalid credentials"
    );

    let mut ui = admin(&app, "s3cret").await.unwrap();
    let session = next(&mut ui, "session").await;
    assert_eq!(session[0].as_str().map(str::len), Some(16), "{session:?}");
    let config = next(&mut ui, "config").await;
    assert_eq!(
        config[0]["supportedFeatures"],
        json!([
            "EMIT",
            "JOIN",
            "LEAVE",
            "DISCONNECT",
            "MJOIN",
            "MLEAVE",
            "MDISCONNECT",
            "AGGREGATED_EVENTS",
            "ALL_EVENTS"
        ])
    );
    let sockets = next(&mut ui, "all_sockets").await;
    let listed: Vec<(&str, &str)> = sockets[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["nsp"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(user.id(), "/")]);

    // The session id logs in again without the password.
    let again = TestClient::builder()
        .namespace("/admin")
        .auth(json!({"sessionId": session[0]}))
        .connect(&app)
        .await;
    assert!(again.is_ok(), "the session logs in: {:?}", again.err());

    let stats = next(&mut ui, "server_stats").await;
    assert_eq!(
        stats[0]["namespaces"],
        json!([{"name": "/", "socketsCount": 1}])
    );
    assert_eq!(stats[0]["clientsCount"], 1);

    // The UI's emit form: `emit(nsp, filter, event, ...args)`.
    let answer = ui
        .emit_args_with_ack(
            "emit",
            vec![
                json!("/").into(),
                json!(null).into(),
                json!("notice").into(),
                json!("hi").into(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(answer, Vec::<Value>::new(), "the emit is carried out");
    assert_eq!(next(&mut user, "notice").await, [json!("hi")]);

    // The UI's disconnect button: `_disconnect(nsp, close, filter)`, the filter being
    // the socket's own room.
    ui.emit_args(
        "_disconnect",
        vec![
            json!("/").into(),
            json!(false).into(),
            json!(user.id()).into(),
        ],
    )
    .unwrap();
    let id = user.id().to_owned();
    eventually("the user disconnected by the UI", || {
        log.snapshot()
            .iter()
            .any(|l| l == &format!("{id} left: ServerNSDisconnect"))
    })
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_read_only_admin_ui_cannot_disconnect() {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let app = ServiceManager::builder()
        .admin_ui(
            AdminUi::basic_auth("admin", &hash)
                .unwrap()
                .readonly(true)
                .mode(AdminMode::Development),
        )
        .build()
        .unwrap();
    app.boot().await.unwrap();
    let _user = TestClient::connect(&app).await.unwrap();
    let mut ui = admin(&app, "s3cret").await.unwrap();
    let config = next(&mut ui, "config").await;
    assert_eq!(
        config[0]["supportedFeatures"],
        json!(["AGGREGATED_EVENTS", "ALL_EVENTS"])
    );
    let answer = ui
        .emit_args_with_ack(
            "_disconnect",
            vec![json!("/").into(), json!(false).into(), json!(null).into()],
        )
        .await
        .unwrap();
    assert_eq!(answer[0]["error"]["kind"], "unknown_event");
    assert_eq!(app.io().of("/").unwrap().sockets().len(), 1);
    app.shutdown().await;
}

/// The UI's side of a test: the events it receives, and on the way the counts of the
/// dashboard's chart from every `server_stats`, whichever event is awaited.
struct Ui {
    client: TestClient,
    counted: Vec<(Value, Value, Value)>,
}

impl Ui {
    /// The next event named one of `names`: its name and arguments.
    async fn next_of(&mut self, names: &[&str]) -> (String, Vec<Value>) {
        loop {
            let e = self
                .client
                .recv()
                .await
                .unwrap_or_else(|e| panic!("waiting for {names:?}: {e}"));
            if e.event == "server_stats" {
                for c in e.args[0]["aggregatedEvents"].as_array().unwrap() {
                    assert_eq!(c["timestamp"].as_u64().unwrap() % 1000, 0, "{c}");
                    self.counted.push((
                        c["type"].clone(),
                        c["subType"].clone(),
                        c["count"].clone(),
                    ));
                }
            }
            if names.contains(&e.event.as_str()) {
                return (e.event, e.args);
            }
        }
    }

    async fn next(&mut self, name: &str) -> Vec<Value> {
        self.next_of(&[name]).await.1
    }
}

/// The UI is told as things happen: a socket connects (with when), joins a room from
/// the UI (once, however often asked), leaves it, and leaves; the dashboard counts the
/// connect and the disconnect. And the app's contract does not list the UI's own
/// namespace.
#[tokio::test]
async fn the_admin_ui_hears_sockets_connect_join_and_leave_as_they_do() {
    let log = Log::default();
    let app = admin_app(&log);
    app.boot().await.unwrap();
    let client = admin(&app, "s3cret").await.unwrap();
    let mut ui = Ui {
        client,
        counted: Vec::new(),
    };
    assert_eq!(ui.next("all_sockets").await, [json!([])]);

    let user = TestClient::connect(&app).await.unwrap();
    let id = user.id().to_owned();
    let connected = ui.next("socket_connected").await;
    assert_eq!(
        (&connected[0]["id"], &connected[0]["nsp"]),
        (&json!(id), &json!("/"))
    );
    let issued = connected[0]["handshake"]["issued"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now - issued < 10_000, "connected at {issued}, now {now}");

    // The UI's "join a room" form on the socket's page: `join(nsp, room, id)`; asked
    // twice, then the room's "leave" button.
    let room_args = || vec![json!("/").into(), json!("vip").into(), json!(id).into()];
    ui.client.emit_args("join", room_args()).unwrap();
    ui.client.emit_args("join", room_args()).unwrap();
    let room_events = ["room_joined", "room_left"];
    let joined = ui.next_of(&room_events).await;
    assert_eq!(
        joined,
        (
            "room_joined".into(),
            vec![json!("/"), json!("vip"), json!(id)]
        )
    );
    let socket = app.io().of("/").unwrap().sockets().pop().unwrap();
    assert_eq!(socket.rooms(), ["vip"]);
    ui.client.emit_args("leave", room_args()).unwrap();
    let left = ui.next_of(&room_events).await;
    assert_eq!(
        left,
        (
            "room_left".into(),
            vec![json!("/"), json!("vip"), json!(id)]
        ),
        "one join told"
    );
    assert!(socket.rooms().is_empty());

    user.disconnect().await;
    assert_eq!(
        ui.next("socket_disconnected").await,
        [json!("/"), json!(id), json!("client namespace disconnect")]
    );

    // The dashboard's connection chart: what every `server_stats` counted.
    for _ in 0..4 {
        if ui.counted.len() >= 2 {
            break;
        }
        ui.next("server_stats").await;
    }
    assert_eq!(
        ui.counted,
        [
            (json!("rawConnection"), Value::Null, json!(1)),
            (
                json!("rawDisconnection"),
                json!("client namespace disconnect"),
                json!(1)
            )
        ]
    );

    let contract = specter::contract::Contract::of(&app, "app", "1.0.0");
    let paths: Vec<&str> = contract
        .namespaces
        .iter()
        .map(|n| n.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["/"],
        "the UI's namespace is not part of the app's contract"
    );
    app.shutdown().await;
}

// ---- safe to expose --------------------------------------------------------------------

#[tokio::test]
async fn wrong_logins_slow_then_lock_out_and_a_long_field_is_refused_unread() {
    let app = admin_app(&Log::default());
    app.boot().await.unwrap();
    for _ in 0..3 {
        let refused = admin(&app, "guess").await.err().unwrap();
        assert_eq!(refused, TestError::Refused("invalid credentials".into()));
    }
    // The fourth must wait a second after the third, the right password too (the
    // waits growing and ending are the unit tests' of `login`, on a paused clock).
    let refused = admin(&app, "s3cret").await.err().unwrap();
    assert_eq!(
        refused,
        TestError::Refused("too many attempts: retry in 1 s".into())
    );

    let long = "p".repeat(100_000);
    let refused = admin(&app, &long).await.err().unwrap();
    assert_eq!(
        refused,
        TestError::Refused("invalid payload: password: longer than 256 bytes".into())
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_session_id_is_resumed_and_an_unknown_one_is_not() {
    let app = admin_app(&Log::default());
    app.boot().await.unwrap();
    let mut ui = admin(&app, "s3cret").await.unwrap();
    let session = session_of(&mut ui).await;
    assert!(resume(&app, &session).await.is_ok());
    assert_eq!(
        resume(&app, "made-up").await.err(),
        Some(TestError::Refused("invalid credentials".into()))
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_ui_sees_no_credentials_and_operates_only_its_namespaces() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let log = Log::default();
    let server = common::TestServer::start(admin_app(&log)).await;
    let host = common::raw::host(&server.url).to_owned();
    let mut ui = TestClient::builder()
        .namespace("/admin")
        .auth(json!({"username": "admin", "password": "s3cret"}))
        .timeout(Duration::from_secs(5))
        .connect_url(&server.url)
        .await
        .unwrap();
    next(&mut ui, "all_sockets").await;

    // A client whose handshake carries credentials.
    let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket&token=abc123&room=lobby");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", "sid=topsecret".parse().unwrap());
    request
        .headers_mut()
        .insert("authorization", "Bearer topsecret".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws.send(Message::text("40")).await.unwrap();
    let connected = next(&mut ui, "socket_connected").await;
    let handshake = &connected[0]["handshake"];
    assert_eq!(handshake["headers"]["cookie"], "[redacted]");
    assert_eq!(handshake["headers"]["authorization"], "[redacted]");
    assert_eq!(handshake["query"]["token"], "[redacted]");
    assert_eq!(
        handshake["query"]["room"], "lobby",
        "what is not a secret is shown"
    );
    assert_eq!(
        handshake["address"], "127.0.0.1",
        "the connection's own address"
    );
    let told = Value::from(connected.clone()).to_string();
    assert!(
        !told.contains("topsecret") && !told.contains("abc123"),
        "{told}"
    );

    // A UI that logs in now lists that socket with the same redactions.
    let mut other = TestClient::builder()
        .namespace("/admin")
        .auth(json!({"username": "admin", "password": "s3cret"}))
        .connect_url(&server.url)
        .await
        .unwrap();
    let listed = next(&mut other, "all_sockets").await;
    let listed = Value::from(listed).to_string();
    assert!(listed.contains("[redacted]"), "{listed}");
    assert!(
        !listed.contains("topsecret") && !listed.contains("abc123"),
        "{listed}"
    );

    // Another administrator is not a target: the UI's own namespace is not among its.
    ui.emit("_disconnect", json!(["/admin", false, other.id()]))
        .unwrap();
    ui.emit("_disconnect", json!(["/elsewhere", false, Value::Null]))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        log.snapshot().is_empty(),
        "nobody was disconnected: {:?}",
        log.snapshot()
    );
    other.disconnect().await;
    let _ = ws.close(None).await;
    server.stop().await;
}

#[tokio::test]
async fn in_development_the_event_log_shows_what_clients_send_and_production_shows_figures_only() {
    let app = admin_app(&Log::default());
    app.ingress()
        .on("message", |Data(_m): Data<Value>| ())
        .owner("chat")
        .subscribe()
        .unwrap();
    app.boot().await.unwrap();
    let mut ui = admin(&app, "s3cret").await.unwrap();
    next(&mut ui, "all_sockets").await;
    let user = TestClient::connect(&app).await.unwrap();
    user.emit("message", json!({"text": "hello"})).unwrap();
    let logged = next(&mut ui, "event_received").await;
    assert_eq!(logged[0], "/");
    assert_eq!(logged[1], user.id());
    assert_eq!(logged[2], json!(["message", {"text": "hello"}]));
    assert!(
        logged[3].as_str().unwrap().ends_with('Z'),
        "a date as node writes it"
    );
    user.emit("message", json!({"text": "x".repeat(5_000)}))
        .unwrap();
    let logged = next(&mut ui, "event_received").await;
    assert_eq!(logged[2][1], "(5023 bytes, not shown)");
    app.shutdown().await;

    // Production, the default: the dashboard's figures, no sockets, no live events.
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let app = ServiceManager::builder()
        .admin_ui(AdminUi::basic_auth("admin", &hash).unwrap())
        .build()
        .unwrap();
    app.boot().await.unwrap();
    let mut ui = admin(&app, "s3cret").await.unwrap();
    let config = next(&mut ui, "config").await;
    assert!(
        !config[0]["supportedFeatures"]
            .as_array()
            .unwrap()
            .contains(&json!("ALL_EVENTS"))
    );
    let _user = TestClient::connect(&app).await.unwrap();
    let stats = next(&mut ui, "server_stats").await;
    assert_eq!(stats[0]["clientsCount"], 1);
    let told: Vec<String> = ui.received().into_iter().map(|e| e.event).collect();
    assert!(
        !told
            .iter()
            .any(|e| e == "all_sockets" || e == "socket_connected"),
        "{told:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn revoking_the_sessions_disconnects_every_ui_and_its_session_is_gone() {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let admin_ui = AdminUi::basic_auth("admin", &hash)
        .unwrap()
        .mode(AdminMode::Development);
    let sessions = admin_ui.sessions();
    let app = ServiceManager::builder()
        .admin_ui(admin_ui)
        .build()
        .unwrap();
    app.boot().await.unwrap();
    let mut ui = admin(&app, "s3cret").await.unwrap();
    let session = session_of(&mut ui).await;
    next(&mut ui, "all_sockets").await;
    sessions.revoke_all();
    loop {
        match ui.recv().await {
            Ok(_) => continue,
            Err(e) => break assert_eq!(e, TestError::Closed),
        }
    }
    let resumed = resume(&app, &session).await;
    assert_eq!(
        resumed.err(),
        Some(TestError::Refused("invalid credentials".into()))
    );
    app.shutdown().await;
}

/// This process's CPU time so far (user and system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // After the command's name: utime and stime are the 12th and 13th fields, in ticks.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[tokio::test]
async fn four_hundred_abandoned_logins_from_many_addresses_leave_the_server_idle() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    // A hash slow enough that 400 checks would keep a core busy for many seconds.
    let hash = bcrypt::hash("s3cret", 10).unwrap();
    let app = ServiceManager::builder()
        .admin_ui(AdminUi::basic_auth("admin", &hash).unwrap())
        .build()
        .unwrap();
    let server = common::TestServer::start(app).await;
    let target: std::net::SocketAddr = common::raw::host(&server.url).parse().unwrap();
    let attempts = (0..400u32).map(|i| async move {
        // 200 loopback addresses, two attempts each: none is over its own budget.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        let ip = std::net::Ipv4Addr::new(127, 0, (i / 2 / 250) as u8, 2 + (i / 2 % 250) as u8);
        socket.bind((ip, 0).into()).unwrap();
        let tcp = socket.connect(target).await.unwrap();
        let url = format!("ws://{target}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
        let login = r#"40/admin,{"username":"admin","password":"guess"}"#;
        ws.send(Message::text(login)).await.unwrap();
        // Gone at once, without waiting for the answer.
        drop(ws);
    });
    futures_util::future::join_all(attempts).await;
    // The checks already running end; what waited is refused or dropped.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_time();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = cpu_time() - before;
    assert!(
        spent < Duration::from_millis(300),
        "the server kept checking logins of clients that left: {spent:?} of CPU in 2 s"
    );
    server.stop().await;
}
