//! A private Redis for the multi-node tests: one server, or a Redis Cluster of three,
//! each on free loopback ports in a temp dir and killed on drop; and the examples built
//! with the `redis` feature.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// A private redis-server on a free loopback port, in a temp dir; killed on drop.
pub struct Redis {
    child: Child,
    dir: TempDir,
    port: u16,
    pub url: String,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn redis() -> Redis {
    let version = std::process::Command::new("redis-server")
        .arg("--version")
        .output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "redis-server (>= 7) is required by the multi-node test: apt-get install redis-server \
         (scripts/test-all.sh installs it)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir =
        TempDir(std::env::temp_dir().join(format!("specter-redis-{}-{port}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let child = redis_server(port, &dir.0).await;
    Redis {
        child,
        dir,
        port,
        url: format!("redis://127.0.0.1:{port}"),
    }
}

impl Redis {
    /// Stops the server, as a crash or an upgrade would.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts it again on the same port.
    pub async fn start_again(&mut self) {
        self.child = redis_server(self.port, &self.dir.0).await;
    }
}

/// Starts redis-server on `port`, and returns once it answers PING.
async fn redis_server(port: u16, dir: &Path) -> Child {
    redis_server_with(port, dir, &[]).await
}

/// Starts redis-server on `port` with `extra` arguments, and returns once it answers PING.
async fn redis_server_with(port: u16, dir: &Path, extra: &[&str]) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Ready when it answers PING.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let mut buf = [0u8; 7];
            if s.write_all(b"PING\r\n").await.is_ok()
                && s.read_exact(&mut buf).await.is_ok()
                && &buf == b"+PONG\r\n"
            {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

/// The chat example built with `--features redis`, in a target dir of its own so the
/// local build of the same example stays as it is.
pub fn chat_with_redis() -> PathBuf {
    example_with_redis("chat")
}

/// The example `name` built with `--features redis` (see [`chat_with_redis`]).
pub fn example_with_redis(name: &str) -> PathBuf {
    let target = super::root().join("target/redis");
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "-q",
            "-p",
            "specter-runtime",
            "--example",
            name,
            "--features",
            "redis",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(super::root())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cargo build --example {name} --features redis failed"
    );
    target.join("debug/examples").join(name)
}

/// A free loopback port whose cluster bus port (+10,000) is free too.
fn cluster_port() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// A Redis Cluster of three primaries (no replicas) on loopback, its slots spread by
/// `redis-cli --cluster create`; each node is killed on drop.
pub struct RedisCluster {
    nodes: Vec<(Child, u16)>,
    dir: TempDir,
}

/// The arguments of a cluster node; its `nodes.conf` is kept in its dir, so that a node
/// started again is the same node.
fn cluster_args(port: u16) -> Vec<String> {
    [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        &format!("nodes-{port}.conf"),
        "--cluster-node-timeout",
        "1000",
    ]
    .map(str::to_owned)
    .to_vec()
}

pub async fn redis_cluster() -> RedisCluster {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "specter-redis-cluster-{}-{}",
        std::process::id(),
        cluster_port()
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let port = cluster_port();
        let args = cluster_args(port);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        nodes.push((redis_server_with(port, &dir.0, &args).await, port));
    }
    let addrs: Vec<String> = nodes
        .iter()
        .map(|(_, p)| format!("127.0.0.1:{p}"))
        .collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status();
    let created = tokio::time::timeout(Duration::from_secs(20), created)
        .await
        .expect("redis-cli --cluster create in time")
        .unwrap();
    assert!(created.success(), "redis-cli --cluster create failed");
    let cluster = RedisCluster { nodes, dir };
    cluster.becomes_ok().await;
    cluster
}

impl RedisCluster {
    /// The URLs of its nodes, comma-separated (the chat example's `SPECTER_REDIS_CLUSTER`).
    pub fn urls(&self) -> String {
        let urls: Vec<String> = self
            .nodes
            .iter()
            .map(|(_, p)| format!("redis://127.0.0.1:{p}"))
            .collect();
        urls.join(",")
    }

    /// What `redis-cli -p port args..` prints.
    pub async fn cli(port: u16, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(5), out)
            .await
            .expect("redis-cli answers in time")
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The index of the node whose shard holds the sharded channel `chan`: the one that
    /// counts its subscribers.
    pub async fn owner_of(&self, chan: &str) -> usize {
        for (i, (_, port)) in self.nodes.iter().enumerate() {
            let counted = Self::cli(*port, &["pubsub", "shardnumsub", chan]).await;
            if counted.lines().nth(1).is_some_and(|n| n.trim() != "0") {
                return i;
            }
        }
        panic!("no node of the cluster has a subscriber of {chan}");
    }

    /// How many subscribers the sharded channel `chan` has on the node that holds it.
    pub async fn owner_listeners(&self, chan: &str) -> u32 {
        let mut most = 0;
        for (_, port) in &self.nodes {
            let counted = Self::cli(*port, &["pubsub", "shardnumsub", chan]).await;
            let n = counted.lines().nth(1).and_then(|n| n.trim().parse().ok());
            most = most.max(n.unwrap_or(0));
        }
        most
    }

    /// Kills node `i`, as a crash would.
    pub async fn stop(&mut self, i: usize) {
        let _ = self.nodes[i].0.kill().await;
    }

    /// Starts node `i` again on its port, with its `nodes.conf`, and waits for the
    /// cluster to be whole.
    pub async fn start_again(&mut self, i: usize) {
        let port = self.nodes[i].1;
        let args = cluster_args(port);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.nodes[i].0 = redis_server_with(port, &self.dir.0, &args).await;
        self.becomes_ok().await;
    }

    /// Waits (20 s at most) until every node says `cluster_state:ok`.
    async fn becomes_ok(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        for (_, port) in &self.nodes {
            while !Self::cli(*port, &["cluster", "info"])
                .await
                .contains("cluster_state:ok")
            {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the Redis Cluster did not become ok"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A primary, its replica and a sentinel that watches them (quorum 1, the primary down
/// after 1 s), on loopback; each killed on drop.
pub struct RedisSentinel {
    primary: Child,
    _replica: Child,
    _sentinel: Child,
    _dir: TempDir,
    /// The sentinel's URL.
    pub url: String,
    primary_port: u16,
    sentinel_port: u16,
}

pub async fn redis_sentinel() -> RedisSentinel {
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (primary_port, replica_port, sentinel_port) = (port(), port(), port());
    let dir = TempDir(std::env::temp_dir().join(format!(
        "specter-redis-sentinel-{}-{sentinel_port}",
        std::process::id()
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    let primary = redis_server(primary_port, &dir.0).await;
    let replica = redis_server_with(
        replica_port,
        &dir.0,
        &["--replicaof", "127.0.0.1", &primary_port.to_string()],
    )
    .await;
    let conf = dir.0.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "bind 127.0.0.1\nport {sentinel_port}\ndir {}\n\
             sentinel monitor mymaster 127.0.0.1 {primary_port} 1\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 5000\n",
            dir.0.display()
        ),
    )
    .unwrap();
    let sentinel = Command::new("redis-server")
        .arg(&conf)
        .arg("--sentinel")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let cluster = RedisSentinel {
        primary,
        _replica: replica,
        _sentinel: sentinel,
        _dir: dir,
        url: format!("redis://127.0.0.1:{sentinel_port}"),
        primary_port,
        sentinel_port,
    };
    // Ready when the sentinel knows the primary and has found its replica.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let info = RedisCluster::cli(sentinel_port, &["sentinel", "replicas", "mymaster"]).await;
        if info.contains(&replica_port.to_string()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sentinel did not find the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster
}

impl RedisSentinel {
    /// Kills the primary, as a crash would: the sentinel promotes the replica.
    pub async fn kill_primary(&mut self) {
        let _ = self.primary.kill().await;
    }

    /// Waits (20 s at most) until the sentinel names a primary other than the first.
    pub async fn failed_over(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let first = self.primary_port.to_string();
        loop {
            let named = RedisCluster::cli(
                self.sentinel_port,
                &["sentinel", "get-master-addr-by-name", "mymaster"],
            )
            .await;
            if named.lines().nth(1).is_some_and(|p| p.trim() != first) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the sentinel did not fail over"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
