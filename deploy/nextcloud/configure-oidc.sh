#!/bin/sh
# Nextcloud hook for compose.yaml: installs user_oidc and the apps the gateway's tools use, and
# registers the Keycloak realm as an OpenID Connect provider that also checks bearer tokens.
#
# Mounted into /docker-entrypoint-hooks.d/before-starting/ of the official nextcloud image, which
# runs it as www-data before every start of the web server, after installation and upgrades. Every
# step is idempotent, so a failed first attempt (say, the app store was unreachable) is repeated by
# restarting the container, and a changed client secret or Keycloak URL in .env is applied the same
# way. docs/nextcloud-setup.md explains each command.
#
# Environment (set by compose.yaml):
#   NEXTCLOUD_CLIENT_SECRET   secret of the realm's `nextcloud` client (read by occ itself, never
#                             put on a command line)
#   OIDC_DISCOVERY_URI        the realm's discovery document as Nextcloud reaches it
#   OIDC_PROVIDER_ID          user_oidc provider identifier (default: keycloak)
#   OIDC_CLIENT_ID            the realm's client for Nextcloud (default: nextcloud)
#   NEXTCLOUD_APPS            apps to install besides user_oidc (default: notes deck calendar contacts tables)
#   NEXTCLOUD_URL             the URL browsers use (overwrite.cli.url)
set -eu

occ() { php /var/www/html/occ --no-interaction "$@"; }
say() { echo "configure-oidc: $*"; }

# Installs (when missing) and enables an app. Returns non-zero when it could not.
ensure_app() {
  if ! occ app:getpath "$1" >/dev/null 2>&1; then
    say "installing app $1"
    occ app:install --keep-disabled "$1" || return 1
  fi
  occ app:enable "$1" >/dev/null || return 1
}

: "${NEXTCLOUD_CLIENT_SECRET:?is not set; compose.yaml passes it from .env}"
: "${OIDC_DISCOVERY_URI:?is not set; compose.yaml sets it}"
provider="${OIDC_PROVIDER_ID:-keycloak}"

if ! ensure_app user_oidc; then
  say "could not install user_oidc (is the Nextcloud app store reachable?); restart the container to try again" >&2
  exit 1
fi

# Keycloak runs on a private address of the compose network; Nextcloud's HTTP client refuses local
# and private addresses unless this is on ("violates local access rules"). Keep it off when the IdP
# has a public address.
occ config:system:set allow_local_remote_servers --type=boolean --value="${NEXTCLOUD_ALLOW_LOCAL_REMOTE_SERVERS:-true}" >/dev/null
if [ -n "${NEXTCLOUD_URL:-}" ]; then
  occ config:system:set overwrite.cli.url --value="$NEXTCLOUD_URL" >/dev/null
fi

# The provider (created, or updated when it exists). --check-bearer=1: accept the IdP's access tokens
# on OCS and WebDAV; --bearer-provisioning=1: a user's first bearer request creates the account with
# name and email. --unique-uid=0 + --mapping-uid=preferred_username: the Nextcloud user id is the
# Keycloak user name (alice, not a hash); see docs/nextcloud-setup.md before changing it on a live
# instance, because it changes which account a sign-in maps to.
occ user_oidc:provider "$provider" \
  --clientid="${OIDC_CLIENT_ID:-nextcloud}" \
  --clientsecret-env=NEXTCLOUD_CLIENT_SECRET \
  --discoveryuri="$OIDC_DISCOVERY_URI" \
  --scope="openid email profile" \
  --unique-uid=0 \
  --mapping-uid=preferred_username \
  --mapping-display-name=name \
  --mapping-email=email \
  --check-bearer=1 \
  --bearer-provisioning=1
say "provider $provider -> $OIDC_DISCOVERY_URI (bearer checking on)"

failed=""
for app in ${NEXTCLOUD_APPS-notes deck calendar contacts tables}; do
  ensure_app "$app" || failed="$failed $app"
done
if [ -n "$failed" ]; then
  # Not fatal: Nextcloud works without them; only the gateway's tools for those apps cannot work.
  say "could not install:$failed; restart the container to try again" >&2
fi
say "done"
