//! The reference server of the Socket.IO protocol's own test suite, written on
//! Specter's public API; `tests/conformance.rs` speaks the protocol to it by hand.
//! On connection it emits `auth` with the handshake's auth payload; on `/` it echoes
//! `message` as `message-back` and answers `message-with-ack` with the same arguments
//! (binary ones included); `/custom` only emits `auth`. Timings as the suite's: ping
//! every 300 ms, 200 ms to answer, 1 s to join a namespace, 1 MB messages.

mod support;

use std::time::Duration;

use serde_json::Value;
use specter::Args;
use specter::prelude::*;

struct Main;

#[handler(name = "main", discover = false)]
impl Main {
    #[on("connected")]
    async fn auth(&self, deliver: Deliver, Data(auth): Data<Value>) {
        deliver.emit("auth", &auth).await.ok();
    }

    #[on("message")]
    async fn message(&self, deliver: Deliver, args: Args) {
        deliver.emit_args("message-back", &args).await.ok();
    }

    #[on("message-with-ack")]
    fn message_with_ack(&self, args: Args) -> Args {
        args
    }
}

struct Custom;

#[handler(name = "custom", namespace = "/custom", discover = false)]
impl Custom {
    #[on("connected")]
    async fn auth(&self, deliver: Deliver, Data(auth): Data<Value>) {
        deliver.emit("auth", &auth).await.ok();
    }
}

#[tokio::main]
async fn main() -> Result<(), specter::Error> {
    let app = ServiceManager::builder()
        .handler(Main)
        .handler(Custom)
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_secs(1))
        .max_payload(1_000_000)
        .allow_any_origin();
    support::serve(app).await
}
