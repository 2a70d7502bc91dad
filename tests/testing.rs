//! `specter::testing::TestClient`: the in-process client, with no network port.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use specter::SocketIo;
use specter::prelude::*;
use specter::testing::{ServerEvent, TestClient, TestError};

#[derive(Default)]
struct Room {
    left: Arc<AtomicUsize>,
}

#[handler(name = "room", discover = false)]
impl Room {
    #[on("connect")]
    fn connect(&self, socket: SocketRef, Data(auth): Data<Value>) -> Result<(), Reject> {
        let name = auth["name"].as_str().ok_or(Reject::new("who are you?"))?;
        socket.join(name.to_owned());
        Ok(())
    }

    #[on("shout")]
    async fn shout(&self, io: SocketIo, Data(text): Data<String>) -> usize {
        io.emit("shouted", &text).await.ok();
        text.len()
    }

    #[on("disconnect")]
    fn disconnect(&self) {
        self.left.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn connect_emit_ack_receive_and_disconnect_in_process() {
    let room = Room::default();
    let left = room.left.clone();
    let app = ServiceManager::builder().handler(room).build().unwrap();

    let refused = TestClient::connect(&app).await.err().unwrap();
    assert_eq!(refused, TestError::Refused("who are you?".into()));

    let mut ann = TestClient::builder()
        .auth(json!({"name": "ann"}))
        .connect(&app)
        .await
        .unwrap();
    let mut bob = TestClient::builder()
        .auth(json!({"name": "bob"}))
        .connect(&app)
        .await
        .unwrap();
    assert_ne!(ann.id(), bob.id());
    assert_eq!(app.io().within("ann").sockets().len(), 1);

    assert_eq!(ann.emit_with_ack("shout", "hey").await.unwrap(), [json!(3)]);
    let expected = ServerEvent {
        event: "shouted".into(),
        args: vec![json!("hey")],
    };
    assert_eq!(ann.recv().await.unwrap(), expected);
    assert_eq!(bob.recv().await.unwrap(), expected);

    bob.emit("shout", "ho").unwrap();
    assert_eq!(ann.recv().await.unwrap().args, [json!("ho")]);
    assert_eq!(bob.recv().await.unwrap().args, [json!("ho")]);
    assert!(ann.received().is_empty());

    ann.disconnect().await;
    bob.disconnect().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while left.load(Ordering::SeqCst) < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "disconnect subscribers ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn namespaces_and_timeouts() {
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on("whoami", |s: SocketRef| s.ns().to_owned())
        .namespace("/admin")
        .owner("test")
        .subscribe()
        .unwrap();
    // A subscriber that never answers: the client's own timeout ends the wait.
    app.ingress()
        .on("slow", async || std::future::pending::<()>().await)
        .owner("test")
        .subscribe()
        .unwrap();
    let admin = TestClient::builder()
        .namespace("/admin")
        .connect(&app)
        .await
        .unwrap();
    assert_eq!(
        admin.emit_with_ack("whoami", ()).await.unwrap(),
        [json!("/admin")]
    );
    let mut root = TestClient::builder()
        .timeout(std::time::Duration::from_millis(200))
        .connect(&app)
        .await
        .unwrap();
    assert_eq!(
        root.emit_with_ack("slow", ()).await,
        Err(TestError::Timeout)
    );
    assert_eq!(root.recv().await, Err(TestError::Timeout));
}
