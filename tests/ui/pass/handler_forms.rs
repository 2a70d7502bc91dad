//! Every method form `#[on]` accepts.
use serde::Deserialize;
use specter::prelude::*;

#[derive(Deserialize)]
struct Beat {
    #[allow(dead_code)]
    user: String,
}

#[derive(Default)]
struct Forms;

#[handler(name = "forms", namespace = "/forms")]
impl Forms {
    #[on("unit")]
    fn unit(&self) {}

    #[on("async_value", priority = -5)]
    async fn async_value(&self, Data(_b): Data<Beat>) -> serde_json::Value {
        serde_json::json!({ "ok": true })
    }

    #[on("option", priority = 7)]
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

    async fn on_setup(&self) -> Result<(), String> {
        Ok(())
    }

    fn on_teardown(&self, lifecycle: &Lifecycle) {
        let _ = lifecycle;
    }

    /// Other methods are left alone.
    fn helper(&self) -> u8 {
        1
    }
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
