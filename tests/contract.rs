//! The event contract: the chat example's generated TypeScript and AsyncAPI files are
//! up to date, a TypeScript client typed with them compiles with `tsc --strict` and
//! talks to the server, mistakes in one fail `tsc` for the right reason, both examples'
//! AsyncAPI documents parse, and the lint reports what the code cannot promise.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use common::{Log, example, start, terminate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use specter::contract::{Contract, Severity};
use specter::prelude::*;
use specter::testing::TestClient;
use specter::{Outbox, ServerEvent, Spread};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ts_dir() -> PathBuf {
    root().join("tests/ts")
}

/// typescript, socket.io-client and @asyncapi/parser, from the committed lockfile.
fn ensure_ts_packages() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if ts_dir().join("node_modules").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(ts_dir())
            .status()
            .expect("npm is required by the contract tests");
        assert!(status.success(), "`npm ci` in tests/ts failed");
    });
}

/// Runs `program args` in tests/ts, bounded in time; (exit code, stdout, stderr). One
/// at a time: `tsc` takes a core, and the TypeScript client's own timeout must not
/// meet a machine busy compiling for the other tests.
async fn run_in_ts(program: &str, args: &[&str]) -> (i32, String, String) {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(ts_dir())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{program} {args:?} took over 2 minutes"))
    .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes the contract of the example `name` into a fresh directory.
async fn write_contract(name: &str) -> tempdir::Dir {
    let dir = tempdir::Dir::new(name);
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(example(name))
            .args(["contract", dir.path().to_str().unwrap()])
            .env("RUST_LOG", "warn")
            // The contract command serves nothing; a port of its own all the same.
            .env("SPECTER_ADDR", "127.0.0.1:0")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the contract command finishes")
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// A directory under target/ removed when dropped.
mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Self {
            Self::inside(&std::env::temp_dir(), name)
        }

        /// A fresh directory under `parent`.
        pub fn inside(parent: &Path, name: &str) -> Self {
            static N: AtomicU32 = AtomicU32::new(0);
            let path = parent.join(format!(
                "specter-contract-{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[tokio::test]
async fn the_committed_chat_contract_is_the_one_the_code_writes() {
    let fresh = write_contract("chat").await;
    let committed = root().join("examples/chat/contract");
    for file in ["socket-events.d.ts", "asyncapi.json"] {
        let want = std::fs::read_to_string(fresh.path().join(file)).unwrap();
        let have = std::fs::read_to_string(committed.join(file)).unwrap_or_default();
        assert!(
            want == have,
            "examples/chat/contract/{file} is out of date: run \
             `cargo run --example chat -- contract examples/chat/contract`"
        );
    }
}

#[tokio::test]
async fn a_typescript_client_typed_with_the_contract_compiles_and_talks_to_the_chat() {
    ensure_ts_packages();
    let (code, out, err) = run_in_ts("node_modules/.bin/tsc", &["-p", "tsconfig.json"]).await;
    assert_eq!(code, 0, "tsc --strict rejects client.ts:\n{out}{err}");
    let (code, out, err) = run_in_ts("node_modules/.bin/tsc", &["-p", "tsconfig.run.json"]).await;
    assert_eq!(code, 0, "{out}{err}");

    let (child, url) = start(&example("chat"), &[]).await;
    let (code, out, err) = run_in_ts("node", &["dist/client.js", &url]).await;
    assert_eq!(code, 0, "the TypeScript client failed: {err}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["history"], 1, "the welcome message: {report}");
    assert_eq!(report["ack"], json!({"ok": true}));
    assert_eq!(report["echo"]["user"], "ts");
    assert_eq!(report["echo"]["text"], "hello from typescript");
    terminate(child).await;
}

#[tokio::test]
async fn mistakes_in_a_typescript_client_fail_tsc_and_say_why() {
    ensure_ts_packages();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(ts_dir().join("bad/expected.json")).unwrap())
            .unwrap();
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 3);
    for (file, why) in expected {
        let (code, out) = tsc_strict(&format!("bad/{file}")).await;
        assert_ne!(code, 0, "{file} type-checks, but it is wrong");
        let code = why["code"].as_str().unwrap();
        let fragment = why["fragment"].as_str().unwrap();
        assert!(
            out.contains(&format!("error {code}:")) && out.contains(fragment),
            "{file} must fail with {code} ({fragment}); tsc said:\n{out}"
        );
        assert_eq!(
            out.matches("error TS").count(),
            1,
            "{file} has one mistake:\n{out}"
        );
    }
}

async fn assert_asyncapi_parses(path: &Path) {
    ensure_ts_packages();
    let (code, out, err) = run_in_ts("node", &["asyncapi-check.mjs", path.to_str().unwrap()]).await;
    let report: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|_| panic!("asyncapi-check printed {out}{err}"));
    assert_eq!(report["errors"], json!([]), "{}", path.display());
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn the_asyncapi_documents_of_both_examples_parse_without_errors() {
    let chat = write_contract("chat").await;
    assert_asyncapi_parses(&chat.path().join("asyncapi.json")).await;
    let presence = write_contract("presence").await;
    assert_asyncapi_parses(&presence.path().join("asyncapi.json")).await;
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(presence.path().join("asyncapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    let op = &doc["operations"]["root.client.heartbeat"];
    assert_eq!(op["action"], "receive");
    assert_eq!(
        op["reply"]["messages"][0]["$ref"],
        "#/channels/root/messages/client.heartbeat.ack"
    );
    assert_eq!(
        doc["components"]["schemas"]["Beat"]["properties"]["beats"]["type"],
        "integer"
    );
}

// ---- the lint, and typed server events, in process ------------------------------------

#[derive(Deserialize, JsonSchema)]
struct Move {
    #[allow(dead_code)]
    x: i64,
}

#[derive(Deserialize, JsonSchema)]
struct Rename {
    #[allow(dead_code)]
    x: String,
}

struct Board;
#[handler(name = "board", discover = false)]
impl Board {
    #[on("step", priority = 1)]
    fn step(&self, Data(_m): Data<Move>) -> u32 {
        1
    }
}

struct Labels;
#[handler(name = "labels", discover = false)]
impl Labels {
    #[on("step", priority = 2)]
    fn step(&self, Data(_r): Data<Rename>) -> String {
        "renamed".into()
    }
}

#[tokio::test]
async fn the_lint_names_incompatible_payloads_double_answers_and_unrecorded_subscribers() {
    let app = ServiceManager::builder()
        .handler(Board)
        .handler(Labels)
        .build()
        .unwrap();
    app.boot().await.unwrap();
    app.ingress()
        .on("step", |Data(_v): Data<Value>| ())
        .owner("spy")
        .priority(3)
        .subscribe()
        .unwrap();
    let contract = Contract::of(&app, "board", "1.0.0");
    let findings = contract.lint();
    let text: Vec<String> = findings.iter().map(|f| f.to_string()).collect();

    let incompatible = findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap_or_else(|| panic!("no error among {text:#?}"));
    assert_eq!(
        incompatible.message,
        "no payload satisfies both `Move` (board) and `Rename` (labels)"
    );
    let sources: Vec<(&str, String)> = incompatible
        .sources
        .iter()
        .map(|(who, at)| (who.as_str(), at.to_string()))
        .collect();
    assert_eq!(sources.len(), 2);
    assert_eq!((sources[0].0, sources[1].0), ("board", "labels"));
    assert!(
        sources
            .iter()
            .all(|(_, at)| at.starts_with("tests/contract.rs:")),
        "{sources:?}"
    );
    assert!(incompatible.sources[0].1.line < incompatible.sources[1].1.line);
    assert!(
        text.iter()
            .any(|t| t.contains("2 subscribers answer the ack; the last one's value wins (labels)")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("the signature of `spy`'s subscriber is not recorded")),
        "{text:#?}"
    );
    // The TypeScript says what a message must be for every subscriber.
    let ts = contract.typescript();
    assert!(
        ts.contains(
            "step: (payload: Move & Rename, ack?: (answer: string | AckError) => void) => void;"
        ),
        "{ts}"
    );
    app.shutdown().await;
}

#[derive(Serialize, JsonSchema, ServerEvent)]
#[event("score")]
struct Score {
    points: u32,
}

#[derive(Serialize, ServerEvent)]
#[event("tick", namespace = "/clock")]
struct Tick(u64);

/// A question the server asks; the client's callback answers with a `bool`.
#[derive(Serialize, JsonSchema, ServerEvent)]
#[event("confirm", answer = bool)]
struct Confirm {
    question: String,
}

/// A newtype around a list: one argument, the list.
#[derive(Serialize, JsonSchema, ServerEvent)]
#[event("roster")]
struct Roster(Vec<String>);

/// The log, and the app's outbox (emits from outside subscribers), set once built.
struct Game(Log, Arc<OnceLock<Outbox>>);
#[handler(name = "game", discover = false)]
impl Game {
    #[on("goal")]
    async fn goal(&self, deliver: Deliver) {
        let outbox = self.1.get().expect("set once the app is built");
        deliver.send(&Score { points: 1 }).await.unwrap();
        outbox.send_to_everyone(&Score { points: 2 }).await.unwrap();
        deliver
            .send(&Roster(vec!["ann".into(), "bob".into()]))
            .await
            .unwrap();
        self.0.push("scored");
    }
}

#[tokio::test]
async fn typed_server_events_are_emitted_under_their_names_and_listed_in_the_contract() {
    let log = Log::default();
    let outbox = Arc::new(OnceLock::new());
    let app = ServiceManager::builder()
        .handler(Game(log.clone(), outbox.clone()))
        .build()
        .unwrap();
    outbox.set(app.outbox()).unwrap();
    let mut client = TestClient::connect(&app).await.unwrap();
    client.emit_with_ack("goal", ()).await.unwrap();
    let first = client.recv().await.unwrap();
    let second = client.recv().await.unwrap();
    assert_eq!(
        [
            (first.event.as_str(), json!(first.args)),
            (second.event.as_str(), json!(second.args))
        ],
        [
            ("score", json!([{"points": 1}])),
            ("score", json!([{"points": 2}]))
        ]
    );
    let third = client.recv().await.unwrap();
    assert_eq!(
        (third.event.as_str(), json!(third.args)),
        ("roster", json!([["ann", "bob"]]))
    );
    assert_eq!(log.take(), ["scored"]);

    let contract = Contract::of(&app, "game", "1.0.0");
    let root = &contract.namespaces[0];
    let names: Vec<&str> = root.server_events.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"score"), "{names:?}");
    assert!(!names.contains(&"tick"), "tick is emitted on /clock only");
    let findings = contract.lint();
    assert!(
        findings.iter().all(|f| f.event != "score"),
        "score has a schema: {findings:?}"
    );
    assert_eq!(<Tick as ServerEvent>::NAME, "tick");
    app.shutdown().await;
}

/// Type-checks `file` (under tests/ts) with `tsc --strict`; (exit code, stdout).
async fn tsc_strict(file: &str) -> (i32, String) {
    let (code, out, err) = run_in_ts(
        "node_modules/.bin/tsc",
        &[
            "--pretty",
            "false",
            "--strict",
            "--noEmit",
            "--target",
            "ES2022",
            "--module",
            "NodeNext",
            "--moduleResolution",
            "NodeNext",
            "--skipLibCheck",
            "--types",
            "node",
            file,
        ],
    )
    .await;
    (code, format!("{out}{err}"))
}

/// Reads two arguments and answers with three.
struct Files;
#[handler(name = "files", discover = false)]
impl Files {
    #[on("stat")]
    fn stat(&self, Data((path, size)): Data<(String, u32)>) -> Spread<(String, u32, bool)> {
        Spread((path, size, size > 0))
    }
}

/// A client of the contract in `dir`: it answers `confirm` with `answer` and emits
/// `stat` with `size` as its second argument.
fn asks_client(answer: &str, size: &str) -> String {
    [
        r#"import { io, type Socket } from "socket.io-client";"#,
        r#"import type { ClientToServerEvents, ServerToClientEvents } from "./socket-events.js";"#,
        r#"const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:9", { autoConnect: false });"#,
        r#"socket.on("confirm", (payload, callback) => {"#,
        r#"  const question: string = payload.question;"#,
        &format!("  callback({answer});"),
        r#"});"#,
        &format!(r#"socket.emit("stat", "/a", {size}, (answer, size, nonEmpty) => {{"#),
        r#"  if (typeof answer === "string") {"#,
        r#"    const n: number | undefined = size;"#,
        r#"    const b: boolean | undefined = nonEmpty;"#,
        r#"    console.log(answer.length, n, b);"#,
        r#"  }"#,
        r#"});"#,
        "",
    ]
    .join("\n")
}

#[tokio::test]
async fn positional_arguments_and_server_asks_are_typed_in_typescript_and_asyncapi() {
    ensure_ts_packages();
    let app = ServiceManager::builder()
        .handler(Game(Log::default(), Arc::default()))
        .handler(Files)
        .build()
        .unwrap();
    app.boot().await.unwrap();
    let contract = Contract::of(&app, "game", "1.0.0");
    let ts = contract.typescript();
    assert!(
        ts.contains("confirm: (payload: Confirm, callback: (answer: boolean) => void) => void;"),
        "{ts}"
    );
    assert!(
        ts.contains(
            "stat: (payload: string, arg2: number, ack?: (answer: string | AckError, arg2?: number, arg3?: boolean) => void) => void;"
        ),
        "{ts}"
    );
    let doc = contract.asyncapi();
    assert_eq!(
        doc["operations"]["root.server.confirm"]["reply"]["messages"][0]["$ref"],
        "#/channels/root/messages/server.confirm.answer"
    );
    let stat = &doc["components"]["messages"]["root.client.stat"]["payload"];
    assert_eq!(stat["type"], "array");
    assert_eq!(stat["items"].as_array().map(Vec::len), Some(2), "{stat}");
    let answer = &doc["components"]["messages"]["root.client.stat.ack"]["payload"];
    assert_eq!(
        answer["items"].as_array().map(Vec::len),
        Some(3),
        "{answer}"
    );

    let dir = tempdir::Dir::inside(&ts_dir(), "asks");
    std::fs::write(dir.path().join("socket-events.d.ts"), &ts).unwrap();
    std::fs::write(
        dir.path().join("good.ts"),
        asks_client("question.length > 0", "7"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad_answer.ts"),
        asks_client("\"yes\"", "7"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad_argument.ts"),
        asks_client("true", "\"7\""),
    )
    .unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap().to_owned();
    let (code, out) = tsc_strict(&format!("{name}/good.ts")).await;
    assert_eq!(
        code, 0,
        "a client that follows the contract type-checks:\n{out}"
    );
    for (file, fragment) in [
        (
            "bad_answer.ts",
            "Argument of type 'string' is not assignable to parameter of type 'boolean'",
        ),
        (
            "bad_argument.ts",
            "Argument of type 'string' is not assignable to parameter of type 'number'",
        ),
    ] {
        let (code, out) = tsc_strict(&format!("{name}/{file}")).await;
        assert_ne!(code, 0, "{file} must not type-check");
        assert!(
            out.contains("error TS2345:") && out.contains(fragment),
            "{file}: {out}"
        );
        assert_eq!(
            out.matches("error TS").count(),
            1,
            "{file} has one mistake:\n{out}"
        );
    }

    let asyncapi = dir.path().join("asyncapi.json");
    std::fs::write(&asyncapi, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    assert_asyncapi_parses(&asyncapi).await;
    app.shutdown().await;
}

#[derive(Deserialize, JsonSchema)]
struct Hop {
    #[allow(dead_code)]
    squares: u8,
}

struct Pawn;
struct Rook;
/// The rook's impl block names it through an alias.
type Castle = Rook;

mod pieces {
    use super::{Data, Hop, handler};

    // The impl block names the type by a path that is not its type name.
    #[handler(name = "pawn", discover = false)]
    impl super::Pawn {
        #[on("hop")]
        fn hop(&self, Data(_h): Data<Hop>) -> bool {
            true
        }
    }
}

#[handler(name = "rook", discover = false)]
impl Castle {
    #[on("slide")]
    fn slide(&self, Data(_n): Data<u8>) -> String {
        "slid".into()
    }
}

#[tokio::test]
async fn a_method_record_is_found_whatever_path_or_alias_names_its_type() {
    let app = ServiceManager::builder()
        .handler(Pawn)
        .handler(Rook)
        .build()
        .unwrap();
    app.boot().await.unwrap();
    let contract = Contract::of(&app, "pieces", "1.0.0");
    let text: Vec<String> = contract.lint().iter().map(|f| f.to_string()).collect();
    assert!(
        !text.iter().any(|t| t.contains("is not recorded")),
        "{text:#?}"
    );
    let ts = contract.typescript();
    assert!(
        ts.contains("hop: (payload: Hop, ack?: (answer: boolean | AckError) => void) => void;"),
        "{ts}"
    );
    assert!(
        ts.contains("slide: (payload: number, ack?: (answer: string | AckError) => void) => void;"),
        "{ts}"
    );
    app.shutdown().await;
}

/// What one node tells the others.
#[derive(Serialize, Deserialize, JsonSchema, specter::NodeEvent)]
#[event("board:moved")]
struct Moved {
    #[allow(dead_code)]
    squares: u8,
}

#[tokio::test]
async fn node_events_are_in_the_catalogue_and_not_in_the_clients_typescript() {
    let app = ServiceManager::builder().handler(Board).build().unwrap();
    app.boot().await.unwrap();
    let contract = Contract::of(&app, "board", "1.0.0");
    let moved = contract
        .node_events
        .iter()
        .find(|e| e.name == "board:moved")
        .unwrap_or_else(|| panic!("{:?}", contract.node_events));
    assert_eq!(moved.payload.name, "Moved");
    assert!(moved.payload.schema.is_some());
    assert!(moved.source.to_string().starts_with("tests/contract.rs:"));
    let ts = contract.typescript();
    assert!(!ts.contains("board:moved"), "{ts}");
    let asyncapi = contract.asyncapi().to_string();
    assert!(!asyncapi.contains("board:moved"), "{asyncapi}");
    // Alone, there is no other node to tell: that is no failure.
    assert!(app.outbox().to_nodes(&Moved { squares: 2 }).await.is_ok());
    app.shutdown().await;
}
