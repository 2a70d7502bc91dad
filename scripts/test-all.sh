#!/usr/bin/env bash
# Runs every test of Specter on a fresh machine that has the Rust toolchain: installs
# what the tests need when it is missing, then runs the whole workspace's tests
# (unit, integration against real clients, compile-fail UI tests, doctests).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# npm packages, from the committed lockfiles: the test clients, the chat page's bundle,
# typescript and the AsyncAPI parser for the contract tests
# (again when the lockfile is newer than what npm installed, which it keeps a copy of)
for dir in tests/node tests/ts examples/chat; do
  if [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done

# python-socketio in a venv under target/, from the pinned requirements
if ! target/py-venv/bin/python -c "import socketio, websocket, requests" >/dev/null 2>&1; then
  python3 -m venv target/py-venv
  target/py-venv/bin/pip install -q -r tests/python/requirements.txt
fi

cargo test --workspace --features specter-runtime/testing,specter-runtime/validate,specter-runtime/contract,specter-runtime/metrics,specter-runtime/admin,specter-runtime/msgpack,specter-runtime/eio3
# The published crates package and build on their own (examples and top-level tests stay
# out of them, as their manifests say). Cargo verifies them through a registry it makes
# under the target dir, and treats what comes from a registry as never changing: it
# reuses a copy unpacked into its cache (named after that registry's path) and a build
# from an earlier run at the same path, though our crates changed since. So the check
# builds in a target dir of its own, new each run, and drops the unpacked copies: our
# crates are not on crates.io, every copy of them there is a leftover of this check.
rm -rf target/package-check
rm -rf -- "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/specter-macros-[0-9]* \
  "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/specter-runtime-[0-9]*
cargo package --workspace --exclude specter-bench --allow-dirty --target-dir target/package-check
