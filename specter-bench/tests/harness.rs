//! The whole benchmark harness on a tiny workload, so it cannot rot: it must run end to
//! end and write a report with every section. No figure is asserted: speed belongs in
//! the report, not in a test.

use std::process::Command;

#[test]
fn the_harness_runs_end_to_end_and_writes_its_report() {
    let out = std::env::temp_dir().join(format!("specter-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--quick", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let md = std::fs::read_to_string(out.join("BENCHMARKS.md")).unwrap();
    for needle in [
        "| specter | 1 |",
        "| raw socketioxide | 1 | ",
        "## Memory per idle connection",
        "## Heap allocations per dispatch",
        "## Startup",
        "## Broadcast",
        "| node socket.io | 400 |",
        "## Per-socket order",
        "| async | on |",
        "## The pipeline",
        "### A flood against a rate limit",
        "### Connects per second",
        "Target (at most 14336 bytes per idle connection): **",
        "- cores: ",
    ] {
        assert!(md.contains(needle), "no {needle:?} in\n{md}");
    }
    let svg = std::fs::read_to_string(out.join("benchmarks.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
