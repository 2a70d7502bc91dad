//! Every method form `#[on]` accepts, the attribute paths and options users write, and
//! lifecycle hooks through `Hooks`.
use serde::Deserialize;
use specter::prelude::*;
use specter::{BoxError, DisconnectReason, Event, Hooks, Lifecycle, SocketIo, TryData};

#[derive(Deserialize)]
struct Beat {
    user: String,
}

#[derive(Default)]
struct Forms;

const AUDIT: i32 = -10;

#[specter::handler(name = "forms", namespace = "/forms")]
impl Forms {
    #[on("unit")]
    fn unit(&self) {}

    #[on("async_value", priority = -5)]
    async fn async_value(&self, Data(_b): Data<Beat>) -> serde_json::Value {
        serde_json::json!({ "ok": true })
    }

    #[specter::on("option", priority = AUDIT + 17)]
    fn option(&self, TryData(d): TryData<u8>) -> Option<u8> {
        d.ok()
    }

    #[on("result")]
    async fn result(&self, socket: SocketRef, Event(e): Event) -> Result<String, std::io::Error> {
        Ok(format!("{e} from {}", socket.id))
    }

    #[on("ack")]
    fn ack(&self, io: SocketIo) -> Ack<Vec<u8>> {
        let _ = io;
        Ack(vec![1, 2])
    }

    #[on("disconnect")]
    fn disconnect(&self, reason: DisconnectReason) {
        let _ = reason;
    }

    #[on("shared", priority = AUDIT)]
    fn shared(&self, SharedData(b): SharedData<Beat>) -> String {
        b.user.clone()
    }

    #[on("typing", concurrent, priority = 3)]
    async fn typing(&self, deliver: Deliver) {
        deliver.emit("typing", &true).await.ok();
    }

    /// Other methods are left alone.
    fn helper(&self) -> u8 {
        1
    }
}

impl Hooks for Forms {
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        lifecycle.add_cleanup(|| ());
        Ok(())
    }
}

/// The runtime crate under another path: `crate = "..."`.
mod renamed {
    pub use specter::*;
}

#[derive(Default)]
struct Renamed;

#[renamed::handler(name = "renamed", crate = "crate::renamed")]
impl Renamed {
    #[renamed::on("renamed")]
    fn renamed(&self) {}
}

struct WithState(u8);

#[handler(name = "with_state", discover = false)]
impl WithState {
    #[on("state")]
    fn state(&self) -> u8 {
        self.0
    }
}

fn main() {
    let _ = Forms.helper();
    let _ = ServiceManager::builder().discover().handler(WithState(1));
}
