//! The processes a benchmark starts: a server that prints `listening on URL` when it is
//! ready, killed on drop.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A server process: killed on drop, and stopped when its standard input closes.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    pub async fn start(mut cmd: Command) -> Result<Self, String> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Ok(url.to_owned());
                }
            }
            Err(format!("{cmd:?} exited before listening"))
        })
        .await
        .map_err(|_| format!("{cmd:?} did not listen within 30 s"))??;
        Ok(Self { child, url })
    }

    /// CPU time (user + system) the process used so far, in microseconds.
    pub fn cpu_us(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name (which may contain spaces) start at `state`.
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .map_or(vec![], |(_, rest)| rest.split(' ').collect());
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of /proc/PID/stat, in USER_HZ (100) ticks.
        (ticks(11) + ticks(12)) * 10_000
    }

    pub fn rss(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

/// Runs `npm ci` in `dir` when its lockfile is newer than what npm installed (npm keeps
/// a copy of it in `node_modules`), as `scripts/test-all.sh` does.
pub fn npm_ci_if_stale(dir: &std::path::Path) -> Result<(), String> {
    let modified = |f: std::path::PathBuf| std::fs::metadata(f).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= modified(dir.join("package-lock.json")) {
        return Ok(());
    }
    let ok = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .map_err(|e| format!("npm is required: {e}"))?;
    match ok.success() {
        true => Ok(()),
        false => Err(format!("npm ci failed in {}", dir.display())),
    }
}
