// The gateway under load, in its own process (so that the load generator does not share its event
// loop): the real app from createApp with a config from loadConfig, a silent logger, stub readiness,
// and a token verifier over a local JWKS holding the public key the parent passes in BENCH_PUBLIC_JWK.
// Nothing reaches a database or an IdP. Listens on 127.0.0.1, an ephemeral port.
//
// Protocol with the parent (bench/child.ts), one JSON object per line:
//   stdout, once:     {"type":"listening","port":…,"resourceUrl":…}
//   stdin "stats" ->  {"type":"stats","atMs":…,"cpuUserUs":…,"cpuSystemUs":…,"hits":…,"misses":…,"rssMiB":…}
// The process exits when its stdin closes (the parent went away) or on SIGTERM.
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { serve } from "@hono/node-server";
import { createLocalJWKSet, type JWK } from "jose";
import { allTools, createApp } from "../src/app.ts";
import { createTokenVerifier, type TokenVerifier } from "../src/auth/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { createLogger } from "../src/log.ts";
import { ToolRegistry } from "../src/mcp/index.ts";
import { BENCH_ISSUER } from "./idp.ts";

function fail(message: string): never {
  process.stderr.write(`bench server: ${message}\n`);
  process.exit(2);
}

function send(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const jwkText = process.env.BENCH_PUBLIC_JWK;
if (jwkText === undefined || jwkText === "") fail("BENCH_PUBLIC_JWK is not set");
const publicJwk = JSON.parse(jwkText) as JWK;
if (publicJwk.kty !== "RSA" || "d" in publicJwk) fail("BENCH_PUBLIC_JWK must be a public RSA JWK");

let app: ReturnType<typeof createApp> | undefined;
let verifier: TokenVerifier | undefined;

// The port is only known once listening, and the config (public URL, hence the token audience)
// depends on it: the app is built in the listening callback; until then requests get 503.
const server = serve(
  {
    fetch: (request, env) =>
      app === undefined ? new Response(null, { status: 503 }) : app.fetch(request, env),
    hostname: "127.0.0.1",
    port: 0,
  },
  (info: AddressInfo) => {
    const config = loadConfig({
      GATEWAY_PUBLIC_URL: `http://localhost:${info.port}`,
      HOST: "127.0.0.1",
      PORT: String(info.port),
      OIDC_ISSUER: BENCH_ISSUER,
      OIDC_CLIENT_SECRET: "bench",
      DATABASE_URL: "postgres://bench:bench@127.0.0.1:9/bench",
      LOG_LEVEL: "silent",
      // The registry below is made of bare tools (no groups): only the toolset "all" lists them.
      MCP_DEFAULT_APPS: "all",
      // One bench user sends every request; the per-user limit would measure itself.
      RATE_LIMITS_ENABLED: "false",
    });
    verifier = createTokenVerifier({
      issuer: config.oidc.issuer,
      audience: config.resourceUrl,
      getKey: createLocalJWKSet({ keys: [publicJwk] }),
    });
    app = createApp({
      config,
      log: createLogger("silent"),
      readiness: {
        shuttingDown: () => false,
        idp: () => ({ discovery: "loaded", jwks: "loaded" }),
        database: () => Promise.resolve({ ok: true }),
      },
      verifier,
      registry: new ToolRegistry(allTools),
    });
    send({ type: "listening", port: info.port, resourceUrl: config.resourceUrl });
  },
);
server.once("error", (err: Error) => {
  fail(`cannot listen: ${err.message}`);
});

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line.trim() !== "stats") return;
  const cpu = process.cpuUsage();
  send({
    type: "stats",
    atMs: performance.now(),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    hits: verifier?.stats.hits ?? 0,
    misses: verifier?.stats.misses ?? 0,
    rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
  });
});
commands.on("close", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
