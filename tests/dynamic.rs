//! Dynamic namespaces: one handler bound to `/tenant/{id}` serves every tenant's
//! namespace, with the parameter as an argument; one event table per pattern; the
//! namespaces a client opens are bounded and closed when their last socket leaves.

mod common;

use common::eventually;

use serde_json::json;
use specter::prelude::*;
use specter::testing::{TestClient, TestError};
use specter::{DispatchSettings, NsParams};

struct Tenants;

#[handler(name = "tenants", namespace = "/tenant/{id}", discover = false)]
impl Tenants {
    #[on("connect")]
    fn connect(&self, params: NsParams) -> Result<(), Reject> {
        match params.get("id") {
            Some("evil") => Err(Reject::new("no such tenant")),
            _ => Ok(()),
        }
    }

    #[on("whoami")]
    fn whoami(&self, params: NsParams, socket: SocketRef) -> String {
        format!("{} on {}", params.get("id").unwrap_or("?"), socket.ns())
    }

    /// To the other sockets of this tenant only.
    #[on("shout")]
    async fn shout(&self, socket: SocketRef, Data(text): Data<String>) {
        socket.broadcast().emit("shouted", &text).await.ok();
    }
}

fn app(max: usize) -> ServiceManager {
    ServiceManager::builder()
        .handler(Tenants)
        .dispatch(DispatchSettings::default().max_dynamic_namespaces(max))
        .build()
        .unwrap()
}

async fn tenant(app: &ServiceManager, id: &str) -> Result<TestClient, TestError> {
    TestClient::builder()
        .namespace(format!("/tenant/{id}"))
        .connect(app)
        .await
}

#[tokio::test]
async fn one_handler_serves_every_tenant_with_its_parameter() {
    let app = app(100);
    let mut ann = tenant(&app, "acme").await.unwrap();
    let mut bob = tenant(&app, "acme").await.unwrap();
    let mut zed = tenant(&app, "zen").await.unwrap();
    assert_eq!(
        ann.emit_with_ack("whoami", ()).await.unwrap(),
        [json!("acme on /tenant/acme")]
    );
    assert_eq!(
        zed.emit_with_ack("whoami", ()).await.unwrap(),
        [json!("zen on /tenant/zen")]
    );
    ann.emit("shout", "hi acme").unwrap();
    assert_eq!(bob.recv().await.unwrap().args, [json!("hi acme")]);
    zed.emit_with_ack("whoami", ()).await.unwrap();
    assert!(zed.received().is_empty(), "another tenant hears nothing");
    assert!(ann.received().is_empty(), "broadcast skips the sender");

    // One row per pattern, whatever namespaces clients opened.
    let table = app.event_table();
    assert!(
        table
            .iter()
            .all(|r| r.namespace == "/tenant/{id}" || r.namespace == "/"),
        "{table:?}"
    );
    assert!(
        table
            .iter()
            .any(|r| r.namespace == "/tenant/{id}" && r.event == "whoami")
    );
}

#[tokio::test]
async fn a_namespace_outside_the_pattern_or_refused_is_not_kept() {
    let app = app(100);
    let other = TestClient::builder()
        .namespace("/other")
        .connect(&app)
        .await;
    assert_eq!(
        other.err(),
        Some(TestError::Refused("Invalid namespace".into()))
    );
    let evil = tenant(&app, "evil").await;
    assert_eq!(
        evil.err(),
        Some(TestError::Refused("no such tenant".into()))
    );
    eventually("the refused tenant's namespace is closed", || {
        app.io().of("/tenant/evil").is_none()
    })
    .await;
}

#[tokio::test]
async fn open_namespaces_are_bounded_and_closed_when_their_last_socket_leaves() {
    let app = app(2);
    let a = tenant(&app, "a").await.unwrap();
    let _b = tenant(&app, "b").await.unwrap();
    let refused = tenant(&app, "c").await;
    assert_eq!(
        refused.err(),
        Some(TestError::Refused(
            "too many namespaces are open; try again later".into()
        ))
    );
    assert!(app.io().of("/tenant/c").is_none());
    a.disconnect().await;
    eventually("a's namespace is closed", || {
        app.io().of("/tenant/a").is_none()
    })
    .await;
    let mut c = tenant(&app, "c").await.unwrap();
    assert_eq!(
        c.emit_with_ack("whoami", ()).await.unwrap(),
        [json!("c on /tenant/c")]
    );
    assert!(c.received().is_empty());
}

#[tokio::test]
async fn node_connects_to_a_tenant_namespace() {
    let server = common::TestServer::start(app(100)).await;
    let mut client = common::Client::node().await;
    let s = client
        .connect(&format!("{}/tenant/acme", server.url))
        .await
        .unwrap();
    assert_eq!(
        client.emit_ack(&s, "whoami", json!([])).await,
        json!(["acme on /tenant/acme"])
    );
    let refused = client.connect(&format!("{}/tenant/evil", server.url)).await;
    assert_eq!(refused.err().as_deref(), Some("no such tenant"));
    server.stop().await;
}
