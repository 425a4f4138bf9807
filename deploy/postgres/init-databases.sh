#!/bin/bash
# PostgreSQL init script for compose.yaml: one role and one database each for the gateway, Keycloak
# and Nextcloud, each role owning its database. The official postgres image runs (or sources) this
# file once, when the data directory is first created; later changes to the passwords in .env do
# not reach an existing volume (see docs/deployment.md, "Secrets").
#
# Reads GATEWAY_DB_PASSWORD, KEYCLOAK_DB_PASSWORD and NEXTCLOUD_DB_PASSWORD from the environment.
# The image executes this file when it is executable and sources it into its entrypoint otherwise
# (a Kubernetes ConfigMap mount): so `set -e` (the entrypoint has it too), but no `set -u` or `exit`.
set -e

create_owned_database() {
  # $1 = role and database name, $2 = password. psql quotes both (%I, %L): no SQL injection from .env.
  if [ -z "$2" ]; then
    echo "init-databases: the password for role $1 is empty; set it in .env" >&2
    return 1
  fi
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v name="$1" -v password="$2" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SQL
  echo "init-databases: database $1 owned by role $1"
}

create_owned_database gateway "${GATEWAY_DB_PASSWORD:-}"
create_owned_database keycloak "${KEYCLOAK_DB_PASSWORD:-}"
create_owned_database nextcloud "${NEXTCLOUD_DB_PASSWORD:-}"
