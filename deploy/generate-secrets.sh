#!/bin/sh
# Writes the secret files that compose.gateway.yaml (and compose.postgres.yaml) read, for
# `kompose convert --secrets-as-files`: each becomes a Kubernetes Secret mounted under /run/secrets.
#
#   OIDC_CLIENT_SECRET=<the mcp-gateway client's secret from Keycloak> sh deploy/generate-secrets.sh [dir]
#
# dir defaults to ./secrets (GATEWAY_SECRETS_DIR in compose.gateway.yaml). Written:
#   oidc-client-secret   OIDC_CLIENT_SECRET from the environment (required)
#   sealing-keys         a random AES-256 key ring "k1:<base64>" (docs/operations.md, key rotation)
#   postgres-password    a random password for compose.postgres.yaml's PostgreSQL
#   database-url         DATABASE_URL from the environment (your PostgreSQL), else the URL of
#                        compose.postgres.yaml's PostgreSQL with that password
# Existing files are kept (a new sealing key would make stored grants unreadable; a new database
# password would no longer match the database's volume). Files are mode 600.
set -eu
cd "$(dirname "$0")/.."
dir="${1:-./secrets}"
umask 077
mkdir -p "$dir"

write() {
  # $1 = file name, $2 = value; never overwrites.
  if [ -e "$dir/$1" ]; then
    echo "generate-secrets: $dir/$1 exists; kept"
    return 0
  fi
  printf '%s' "$2" >"$dir/$1"
  echo "generate-secrets: wrote $dir/$1"
}

if [ ! -e "$dir/oidc-client-secret" ]; then
  if [ -z "${OIDC_CLIENT_SECRET:-}" ]; then
    echo "generate-secrets: set OIDC_CLIENT_SECRET to the secret of the mcp-gateway client (Keycloak admin console: Clients, mcp-gateway, Credentials)" >&2
    exit 1
  fi
  write oidc-client-secret "$OIDC_CLIENT_SECRET"
fi
write sealing-keys "k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
write postgres-password "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
if [ -n "${DATABASE_URL:-}" ]; then
  write database-url "$DATABASE_URL"
else
  write database-url "postgres://gateway:$(cat "$dir/postgres-password")@postgres:5432/gateway"
fi
echo "generate-secrets: keep $dir out of version control; the Secret manifests kompose writes from it are secret too"
