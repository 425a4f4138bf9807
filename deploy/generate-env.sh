#!/bin/sh
# Writes .env for compose.yaml from .env.example, replacing every DEMO secret with a random one
# (32 hex characters from /dev/urandom), and the demo SEALING_KEYS with a random AES-256 key. Refuses to overwrite an existing .env: the database passwords
# are fixed when the volumes are first created, and a new .env would no longer match them.
# Usage: sh deploy/generate-env.sh [target, default .env]
set -eu
cd "$(dirname "$0")/.."
target="${1:-.env}"
if [ -e "$target" ]; then
  echo "generate-env: $target exists; remove it first (and the volumes: docker compose down -v) to start over" >&2
  exit 1
fi
umask 077
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    *=DEMO-change-me-*)
      secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
      printf '%s=%s\n' "${line%%=*}" "$secret"
      ;;
    SEALING_KEYS=*)
      # One AES-256 key: 32 random bytes, base64.
      printf 'SEALING_KEYS=k1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
      ;;
    *) printf '%s\n' "$line" ;;
  esac
done < .env.example > "$target"
echo "generate-env: wrote $target with random secrets (mode 600); keep it out of version control"
