//! Several nodes of the chat example share one Redis server (socketioxide's Redis
//! adapter, cargo feature `redis`): a message sent on one node reaches the clients of
//! the others, the survivors keep talking when a node dies, and the Admin UI on one
//! node sees and operates the sockets of every node.

mod common;

use std::time::Duration;

use common::redis::{
    Redis, chat_with_redis, example_with_redis, redis, redis_cluster, redis_sentinel,
};
use common::{BrowserRun, Client, assert_admin_ui_run, start};
use serde_json::{Value, json};
use tokio::process::Child;

async fn join(c: &mut Client, url: &str, name: &str) -> String {
    let s = c
        .connect_with(url, json!({ "name": name }), "websocket")
        .await
        .unwrap();
    c.emit_ack(&s, "join", json!([null])).await;
    s
}

async fn say(c: &mut Client, sock: &str, text: &str) {
    assert_eq!(
        c.emit_ack(sock, "message", json!([{ "text": text }])).await,
        json!([{"ok": true}])
    );
}

async fn heard(c: &mut Client, sock: &str) -> (String, String) {
    let m: Value = c.next_event(sock, "message").await;
    (
        m[0]["user"].as_str().unwrap().to_owned(),
        m[0]["text"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_message_on_one_node_reaches_the_others_and_survives_a_dead_node() {
    let chat = tokio::task::spawn_blocking(chat_with_redis).await.unwrap();
    let redis = redis().await;
    let env = [("SPECTER_REDIS_URL", redis.url.as_str())];
    let (node1, url1) = start(&chat, &env).await;
    let (node2, url2) = start(&chat, &env).await;
    let (node3, url3) = start(&chat, &env).await;

    let mut c = Client::node().await;
    let ann = join(&mut c, &url1, "ann").await;
    let bob = join(&mut c, &url2, "bob").await;
    let cid = join(&mut c, &url3, "cid").await;

    say(&mut c, &ann, "hello from node 1").await;
    for s in [&ann, &bob, &cid] {
        assert_eq!(
            heard(&mut c, s).await,
            ("ann".into(), "hello from node 1".into())
        );
    }

    // Node 2 dies: nodes 1 and 3 still exchange messages.
    drop(node2);
    assert_eq!(
        c.next_event(&bob, "disconnect").await,
        json!(["transport close"])
    );
    say(&mut c, &cid, "node 3 here").await;
    assert_eq!(
        heard(&mut c, &ann).await,
        ("cid".into(), "node 3 here".into())
    );
    assert_eq!(
        heard(&mut c, &cid).await,
        ("cid".into(), "node 3 here".into())
    );
    say(&mut c, &ann, "node 1 too").await;
    assert_eq!(
        heard(&mut c, &cid).await,
        ("ann".into(), "node 1 too".into())
    );
    assert_eq!(
        heard(&mut c, &ann).await,
        ("ann".into(), "node 1 too".into())
    );
    drop((node1, node3));
}

/// A private Redis and two chat nodes on it whose Admin UI logs in as `admin` with the
/// password `s3cret`; the Redis lives as long as what it returns.
async fn two_nodes_with_admin_ui() -> (Redis, (Child, String), (Child, String)) {
    let chat = tokio::task::spawn_blocking(chat_with_redis).await.unwrap();
    let redis = redis().await;
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let env = [
        ("SPECTER_REDIS_URL", redis.url.as_str()),
        ("CHAT_ADMIN_HASH", hash.as_str()),
        ("SPECTER_HEALTH_DETAILS", "1"),
    ];
    let first = start(&chat, &env).await;
    let second = start(&chat, &env).await;
    (redis, first, second)
}

/// The official Admin UI, logged in on node 1 in Chromium, lists ann (node 1) and bob
/// (node 2), sees cid connect to node 2, and disconnects bob on node 2.
#[tokio::test]
async fn the_admin_ui_on_one_node_sees_and_operates_every_node() {
    let (_redis, (node1, url1), (node2, url2)) = two_nodes_with_admin_ui().await;

    let run = BrowserRun::of("admin-ui.mjs", &[&url1, "s3cret", &url1, &url2]).await;
    assert_admin_ui_run(&run, &[node1.id(), node2.id()]);
    drop((node1, node2));
}

/// The status of `GET /health` on the node at `url`.
async fn health(url: &str) -> (u16, Value) {
    let answer = common::raw::request(url, "GET", "/health", &[], "").await;
    (
        answer.status,
        serde_json::from_str(&answer.body).unwrap_or(Value::Null),
    )
}

/// Polls node `url`'s health until its status is `code`, for at most 10 s.
async fn health_becomes(url: &str, code: u16) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = health(url).await;
        if status == code {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health of {url} stayed {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until each node (started with `SPECTER_HEALTH_DETAILS`) has heard every other,
/// then one more check of their links: each knows how many listen on each channel, as
/// what it holds through an outage waits for as many again. (A node that joined less
/// than one check before an outage is not waited for.)
async fn formed(urls: &[&str]) {
    for url in urls {
        let heard = async {
            loop {
                let (_, body) = health(url).await;
                if body["broker"]["nodes"].as_array().map(Vec::len) == Some(urls.len()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let heard = tokio::time::timeout(Duration::from_secs(10), heard).await;
        assert!(heard.is_ok(), "{url} hears the {} nodes", urls.len());
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
}

/// Two chat nodes on the broker that `env` names, and three members who have all heard
/// ann's `before`: ann and dan on node 1, bob on node 2.
struct Members {
    nodes: (Child, Child),
    urls: (String, String),
    c: Client,
    ann: String,
    dan: String,
    bob: String,
}

async fn members(env: &[(&str, &str)]) -> Members {
    let chat = tokio::task::spawn_blocking(chat_with_redis).await.unwrap();
    let env = [env, &[("SPECTER_HEALTH_DETAILS", "1")]].concat();
    let (node1, url1) = start(&chat, &env).await;
    let (node2, url2) = start(&chat, &env).await;
    formed(&[&url1, &url2]).await;
    let mut c = Client::node().await;
    let ann = join(&mut c, &url1, "ann").await;
    let dan = join(&mut c, &url1, "dan").await;
    let bob = join(&mut c, &url2, "bob").await;
    say(&mut c, &ann, "before").await;
    for s in [&ann, &dan, &bob] {
        assert_eq!(heard(&mut c, s).await, ("ann".into(), "before".into()));
    }
    Members {
        nodes: (node1, node2),
        urls: (url1, url2),
        c,
        ann,
        dan,
        bob,
    }
}

/// Ann (node 1) says `text` while the broker is away: she and dan (node 1 too) hear it
/// at once.
async fn said_locally(c: &mut Client, ann: &str, dan: &str, text: &str) {
    say(c, ann, text).await;
    for s in [ann, dan] {
        assert_eq!(heard(c, s).await, ("ann".into(), text.into()));
    }
}

/// Once the broker is back: ann says `after`, and bob (node 2) hears what node 1 held
/// (`held`, in order) then `after`; bob is heard on node 1 again.
async fn back_after_outage(c: &mut Client, ann: &str, bob: &str, held: &[String]) {
    say(c, ann, "after").await;
    for text in held.iter().map(String::as_str).chain(["after"]) {
        assert_eq!(
            heard(c, bob).await,
            ("ann".into(), text.into()),
            "node 2 hears what node 1 held through the outage, in order, then what follows"
        );
    }
    say(c, bob, "bob is back").await;
    assert_eq!(heard(c, ann).await.1, "after");
    assert_eq!(heard(c, ann).await, ("bob".into(), "bob is back".into()));
}

/// Redis stops for a while and starts again, as in an upgrade: meanwhile the sender's
/// own node still delivers to its clients and says it is degraded, and holds what the
/// other node must hear, 2 messages at most here (`SPECTER_REDIS_HELD`); afterwards the
/// other node hears what was held, in order, then what follows, with no restart; what
/// was given up is counted, and is exactly what it missed.
#[tokio::test]
async fn the_cluster_survives_a_redis_restart() {
    let mut redis = redis().await;
    let redis_url = redis.url.clone();
    let Members {
        nodes: (node1, node2),
        urls: (url1, url2),
        mut c,
        ann,
        dan,
        bob,
    } = members(&[
        ("SPECTER_REDIS_URL", redis_url.as_str()),
        ("SPECTER_REDIS_HELD", "2"),
    ])
    .await;
    assert_eq!(health(&url1).await.0, 200);

    let given_up = |h: &Value| h["broker"]["unpublished_by_namespace"]["/"].as_u64();
    let (_, before) = health(&url1).await;
    assert_eq!(given_up(&before), None, "{before}");

    redis.stop().await;
    let degraded = health_becomes(&url1, 503).await;
    assert_eq!(degraded["status"], "degraded");
    assert_eq!(degraded["broker"]["state"], "down");
    // The sender's own node delivers at once; the other node cannot hear it yet.
    let during = 5;
    for i in 0..during {
        said_locally(&mut c, &ann, &dan, &format!("during {i}")).await;
    }
    // At most 2 are held (the Admin UI's stats, `/admin`'s, may take a place): the
    // rest of ann's are given up, counted under `/`.
    let (_, degraded) = health(&url1).await;
    let lost = given_up(&degraded).unwrap_or(0);
    assert!((3..=during).contains(&lost), "{degraded}");

    redis.start_again().await;
    health_becomes(&url1, 200).await;
    health_becomes(&url2, 200).await;
    // Node 2 hears what node 1 held, in order, then what follows: it missed exactly
    // the messages counted as given up.
    let held: Vec<String> = (0..during - lost).map(|i| format!("during {i}")).collect();
    back_after_outage(&mut c, &ann, &bob, &held).await;
    let (_, after) = health(&url1).await;
    assert_eq!(given_up(&after), Some(lost), "{after}");
    assert!(
        after["broker"]["published_late"].as_u64() >= Some(during - lost),
        "{after}"
    );
    drop((node1, node2));
}

/// A live `socket_connected` carries the handshake to the UIs of the socket's own node
/// only: a UI on another node gets its id, namespace and rooms, so no header crosses
/// Redis.
#[tokio::test]
async fn a_sockets_handshake_stays_on_its_node() {
    let (_redis, (node1, url1), (node2, url2)) = two_nodes_with_admin_ui().await;
    let mut c = Client::node().await;
    let ui = c
        .connect_with(
            &format!("{url1}/admin"),
            json!({"username": "admin", "password": "s3cret"}),
            "websocket",
        )
        .await
        .unwrap();
    c.next_event(&ui, "all_sockets").await;
    let bob = join(&mut c, &url2, "bob").await;
    let there = c.next_event(&ui, "socket_connected").await;
    let _ = bob;
    assert_eq!(there[0]["nsp"], "/", "{there}");
    assert_eq!(there[0]["handshake"]["headers"], json!({}), "{there}");
    let _ann = join(&mut c, &url1, "ann").await;
    let here = c.next_event(&ui, "socket_connected").await;
    assert!(
        here[0]["handshake"]["headers"]["host"].is_string(),
        "{here}"
    );
    drop((node1, node2));
}

/// A node killed with SIGKILL leaves nothing to wait on: the others stop listing its
/// sockets at once (its subscriptions end with its Redis connection), and a fresh list
/// does not wait for it.
#[tokio::test]
async fn a_killed_node_is_neither_listed_nor_waited_for() {
    let (_redis, (node1, url1), (node2, url2)) = two_nodes_with_admin_ui().await;
    let mut c = Client::node().await;
    let _ann = join(&mut c, &url1, "ann").await;
    let _bob = join(&mut c, &url2, "bob").await;
    let login = json!({"username": "admin", "password": "s3cret"});
    let admin = format!("{url1}/admin");
    let ui = c
        .connect_with(&admin, login.clone(), "websocket")
        .await
        .unwrap();
    let both = c.next_event(&ui, "all_sockets").await;
    assert_eq!(both[0].as_array().unwrap().len(), 2, "{both}");

    drop(node2); // kill_on_drop: SIGKILL
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = tokio::time::Instant::now();
    let ui = c.connect_with(&admin, login, "websocket").await.unwrap();
    let one = c.next_event(&ui, "all_sockets").await;
    assert_eq!(
        one[0].as_array().unwrap().len(),
        1,
        "only node 1's socket: {one}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "the list did not wait for the dead node: {:?}",
        asked.elapsed()
    );
    drop(node1);
}

/// What a presence node answers a heartbeat: how many sockets are present on every node.
async fn present(c: &mut Client, sock: &str, user: &str) -> u64 {
    let beat = c
        .emit_ack(sock, "heartbeat", json!([{ "user": user }]))
        .await;
    beat[0]["present"]
        .as_u64()
        .unwrap_or_else(|| panic!("{beat}"))
}

/// Heartbeats on `sock` until it is told `want` sockets are present (5 s at most).
async fn present_becomes(c: &mut Client, sock: &str, user: &str, want: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = present(c, sock, user).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} is told {now} present, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two presence nodes keep who is present in step with the node event
/// `presence:roster`: a socket on one node is counted on the other, and its leaving too.
#[tokio::test]
async fn nodes_tell_each_other_who_is_present_with_node_events() {
    let presence = tokio::task::spawn_blocking(|| example_with_redis("presence"))
        .await
        .unwrap();
    let redis = redis().await;
    let env = [("SPECTER_REDIS_URL", redis.url.as_str())];
    let (node1, url1) = start(&presence, &env).await;
    let (node2, url2) = start(&presence, &env).await;

    let mut c = Client::node().await;
    let ann = c.connect(&url1).await.unwrap();
    assert_eq!(
        present(&mut c, &ann, "ann").await,
        1,
        "ann alone, on node 1"
    );
    let bob = c.connect(&url2).await.unwrap();
    // Node 2 counts ann, whom only node 1 sees, once node 1's roster arrived.
    present_becomes(&mut c, &bob, "bob", 2).await;
    present_becomes(&mut c, &ann, "ann", 2).await;

    c.disconnect(&ann).await;
    present_becomes(&mut c, &bob, "bob", 1).await;
    drop((node1, node2));
}

/// The broker is a Redis Cluster of three (sharded pub/sub): the nodes hear each other;
/// the shard that holds the chat's channel is killed during traffic, the sender's own
/// node still delivers and says it is degraded, and once the shard is back the other
/// node hears what was held meanwhile, then what follows, with no restart.
#[tokio::test]
async fn a_redis_cluster_carries_the_nodes_through_a_restarted_shard() {
    let mut cluster = redis_cluster().await;
    let seeds = cluster.urls();
    let Members {
        nodes: (node1, node2),
        urls: (url1, url2),
        mut c,
        ann,
        dan,
        bob,
    } = members(&[("SPECTER_REDIS_CLUSTER", seeds.as_str())]).await;
    say(&mut c, &bob, "from node 2").await;
    for s in [&ann, &dan, &bob] {
        assert_eq!(heard(&mut c, s).await, ("bob".into(), "from node 2".into()));
    }

    let shard = cluster.owner_of("socket.io-request#/#").await;
    cluster.stop(shard).await;
    let degraded = health_becomes(&url1, 503).await;
    assert_eq!(degraded["broker"]["state"], "down", "{degraded}");
    said_locally(&mut c, &ann, &dan, "during").await;

    cluster.start_again(shard).await;
    health_becomes(&url1, 200).await;
    health_becomes(&url2, 200).await;
    // Each node re-subscribes to the shard once its connection to it is back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let counted = cluster.owner_listeners("socket.io-request#/#").await;
        if counted == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the nodes did not re-subscribe to the restarted shard ({counted} of 2)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    back_after_outage(&mut c, &ann, &bob, &["during".into()]).await;
    drop((node1, node2));
}

/// Sends `signal` (`STOP`, `CONT`) to `node`.
async fn signal(node: &Child, signal: &str) {
    let pid = node.id().expect("the node runs").to_string();
    let sent = tokio::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// A node that hangs (SIGSTOP: its Redis connection stays open, so it still counts as
/// a node) does not hang the others' lists: the Admin UI's list waits for it 2 s at most
/// (`LinkSettings::request_timeout`), then shows what the other nodes answered; node 1
/// names the node that did not answer (`host#pid`) in its health.
#[tokio::test]
async fn a_hung_node_delays_a_list_by_the_request_timeout_only() {
    let (_redis, (node1, url1), (node2, url2)) = two_nodes_with_admin_ui().await;
    let mut c = Client::node().await;
    let _ann = join(&mut c, &url1, "ann").await;
    let _bob = join(&mut c, &url2, "bob").await;
    let login = json!({"username": "admin", "password": "s3cret"});
    let admin = format!("{url1}/admin");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let name = |node: &Child| format!("{}#{}", host.trim(), node.id().unwrap());
    let (first, second) = (name(&node1), name(&node2));
    let (_, healthy) = health(&url1).await;
    let heard = async {
        loop {
            let (_, body) = health(&url1).await;
            if body["broker"]["nodes"] == json!([first, second]) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let heard = tokio::time::timeout(Duration::from_secs(5), heard).await;
    assert!(
        heard.is_ok(),
        "node 1 lists {first} and {second}: {healthy}"
    );
    assert_eq!(healthy["broker"].get("unanswered"), None, "{healthy}");

    signal(&node2, "STOP").await;
    let asked = tokio::time::Instant::now();
    let ui = c.connect_with(&admin, login, "websocket").await.unwrap();
    let one = c.next_event(&ui, "all_sockets").await;
    let waited = asked.elapsed();
    signal(&node2, "CONT").await;
    assert_eq!(
        one[0].as_array().unwrap().len(),
        1,
        "node 1's socket only: {one}"
    );
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "the list waited {waited:?} for the hung node, not the request timeout of 2 s"
    );
    let (_, after) = health(&url1).await;
    assert_eq!(
        after["broker"]["unanswered"],
        json!({ second.as_str(): 1 }),
        "node 2 named as the node that did not answer: {after}"
    );
    drop((node1, node2));
}

/// The broker is a primary that Redis Sentinel watches: the primary dies during traffic,
/// the sentinel promotes its replica, and each node moves to it by itself: the sender's
/// node delivers at once meanwhile and holds what the other must hear, which hears it
/// once the link is on the new primary, then what follows.
#[tokio::test]
async fn a_sentinel_failover_moves_the_nodes_to_the_new_primary() {
    let mut sentinel = redis_sentinel().await;
    let sentinel_url = sentinel.url.clone();
    let Members {
        nodes: (node1, node2),
        urls: (url1, url2),
        mut c,
        ann,
        dan,
        bob,
    } = members(&[("SPECTER_REDIS_SENTINEL", sentinel_url.as_str())]).await;

    sentinel.kill_primary().await;
    let degraded = health_becomes(&url1, 503).await;
    assert_eq!(degraded["broker"]["state"], "down", "{degraded}");
    said_locally(&mut c, &ann, &dan, "during").await;

    sentinel.failed_over().await;
    health_becomes(&url1, 200).await;
    health_becomes(&url2, 200).await;
    back_after_outage(&mut c, &ann, &bob, &["during".into()]).await;
    drop((node1, node2));
}

/// Connection state recovery on two nodes: ann's connection goes through a proxy to
/// node 1 and bob says 300 messages on node 2. The proxy cuts ann twice; after the first
/// cut she comes back on node 2, after the second on node 1 again. Each time her
/// session is recovered under her first id, with the member the chat carries
/// (`carry_session!`: her auth names nobody once she is in, so a node that did not get
/// her member would refuse her), and she hears every message once, in order; over
/// websocket, then over polling.
#[tokio::test]
async fn a_client_that_comes_back_on_another_node_recovers_its_session() {
    let chat = tokio::task::spawn_blocking(chat_with_redis).await.unwrap();
    let redis = redis().await;
    let env = [
        ("SPECTER_REDIS_URL", redis.url.as_str()),
        ("CHAT_MESSAGE_RATE", "1000/1s"),
        ("SPECTER_HEALTH_DETAILS", "1"),
    ];
    let (node1, url1) = start(&chat, &env).await;
    let (node2, url2) = start(&chat, &env).await;
    // Node 2 asks the nodes it has heard for ann's session.
    formed(&[&url1, &url2]).await;
    for transport in ["websocket", "polling"] {
        comes_back_on_the_other_node(&url1, &url2, transport).await;
    }
    drop((node1, node2, redis));
}

async fn comes_back_on_the_other_node(url1: &str, url2: &str, transport: &str) {
    use common::recovery::{Proxy, Run, assert_recovered};
    let proxy = Proxy::to(url1).await;
    let mut run = Run::start(&proxy.url, url2, transport, 300, "chat");
    let first = run.next("connect").await;
    run.next("sending").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.point_to(url2);
    proxy.cut(Duration::from_millis(1500)).await;
    let on_node2 = run.next("connect").await;
    proxy.point_to(url1);
    proxy.cut(Duration::from_millis(1500)).await;
    let on_node1 = run.next("connect").await;
    let done = run.next("done").await;
    assert_recovered(&first, &[&on_node2, &on_node1], &done, 300, transport);
}
