//! The README's install lines and first example, as a user copies them into a new
//! project: a scratch crate that depends on this workspace by path under the published
//! name, `specter-runtime`, and one that renames the dependency, must build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced blocks of `lang` in `text`, in order.
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    text.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect()
}

/// Builds a scratch crate with `manifest` and `main`, sharing this workspace's lockfile
/// (so no version moves) and target dir (so nothing is built twice).
fn build(name: &str, dependencies: &str, main: &str) -> PathBuf {
    let dir = root().join("target/install-check").join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n{dependencies}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--target-dir"])
        .arg(root().join("target"))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    root().join("target/debug").join(name)
}

/// The README's dependency lines with the published package taken from this workspace.
fn from_workspace(lines: &str, runtime: &Path) -> String {
    let path = format!("{{ path = {:?} }}", runtime.display().to_string());
    let with_path = lines.replace(
        "specter-runtime = \"0.1\"",
        &format!("specter-runtime = {path}"),
    );
    assert_ne!(
        with_path, lines,
        "the README installs `specter-runtime = \"0.1\"`"
    );
    with_path
}

#[test]
fn the_readme_install_lines_and_first_example_build_in_a_new_project() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let install = blocks(&readme, "toml")[0];
    assert!(install.starts_with("[dependencies]\n"), "{install}");
    let example = blocks(&readme, "rust")[0];
    assert!(example.contains("use specter::prelude::*;"), "{example}");
    let runtime = root().join("specter").canonicalize().unwrap();
    build(
        "readme-install",
        &from_workspace(install, &runtime),
        example,
    );
}

#[test]
fn a_renamed_dependency_works_with_the_crate_option() {
    let runtime = root().join("specter").canonicalize().unwrap();
    let dependencies = format!(
        "[dependencies]\nsp = {{ package = \"specter-runtime\", path = {:?} }}\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
        runtime.display().to_string()
    );
    let main = r#"
use sp::Events;
use sp::prelude::*;

#[derive(Default)]
struct Echo;

#[sp::handler(name = "echo", crate = "sp")]
impl Echo {
    #[sp::on("echo", priority = 5)]
    fn echo(&self, Data(v): Data<u32>) -> u32 {
        v
    }
}

#[derive(Default, sp::Controller)]
#[controller(name = "panel", route = "/panel", crate = "sp")]
struct Panel;

impl sp::Controller for Panel {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on(sp::event!("ping"), |_: &Self| "pong");
    }
}

#[tokio::main]
async fn main() {
    let app = ServiceManager::builder().discover().build().unwrap();
    app.boot().await.unwrap();
    let events: Vec<String> = app.event_table().into_iter().map(|row| row.event).collect();
    assert_eq!(events, ["echo", "ping"]);
    app.shutdown().await;
}
"#;
    // It runs, too: its `main` checks that the renamed crate's handler and controller
    // were discovered.
    let program = build("renamed-dependency", &dependencies, main);
    let ran = Command::new(&program).output().unwrap();
    assert!(
        ran.status.success(),
        "renamed-dependency fails when it runs:\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
