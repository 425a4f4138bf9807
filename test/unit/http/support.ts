// The gateway app the HTTP unit tests drive: the real createApp on a config from the least
// environment loadConfig accepts, tokens verified with a local test IdP's key at the pinned clock,
// every readiness check passing, nothing logged.
import { allTools, createApp, type AppDeps } from "../../../src/app.ts";
import { createTokenVerifier, type TokenVerifier } from "../../../src/auth/index.ts";
import { loadConfig, type Config } from "../../../src/config/index.ts";
import type { ReadinessProbes } from "../../../src/http/health.ts";
import { createLogger } from "../../../src/log.ts";
import { ToolRegistry } from "../../../src/mcp/index.ts";
import { ISSUER, NOW_MS, RESOURCE, type TestIdp } from "../auth/fixtures.ts";

/** The environment every test app starts from; a test adds what it is about. */
export const BASE_APP_ENV: Readonly<Record<string, string>> = {
  GATEWAY_PUBLIC_URL: "https://mcp.example.com",
  OIDC_ISSUER: ISSUER,
  OIDC_CLIENT_SECRET: "x",
  DATABASE_URL: "postgres://u:p@localhost/db",
};

/** Readiness with every check passing. */
export const READY: ReadinessProbes = {
  shuttingDown: () => false,
  idp: () => ({ discovery: "loaded", jwks: "loaded" }),
  database: () => Promise.resolve({ ok: true }),
};

/** BASE_APP_ENV and `env`, as the gateway loads it. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ...BASE_APP_ENV, ...env });
}

/** A verifier of `idp`'s tokens for the gateway's resource, at the pinned clock (NOW_MS). */
export function testVerifier(idp: TestIdp): TokenVerifier {
  return createTokenVerifier({
    issuer: ISSUER,
    audience: RESOURCE,
    getKey: (h, t) => idp.getKey(h, t),
    now: () => NOW_MS,
  });
}

/**
 * The app under test: `config` (testConfig() by default), tokens of `idp`, READY, every shipped
 * tool (or `registry`), and any dependency in `over` instead.
 */
export function testApp(
  idp: TestIdp,
  options: { config?: Config; registry?: ToolRegistry; over?: Partial<AppDeps> } = {},
): ReturnType<typeof createApp> {
  return createApp({
    config: options.config ?? testConfig(),
    log: createLogger("silent"),
    readiness: READY,
    verifier: testVerifier(idp),
    registry: options.registry ?? new ToolRegistry(allTools),
    ...options.over,
  });
}

/**
 * A POST to /mcp as a 2025-11-25 client on loopback sends it: JSON `body` (a string as it is), and
 * `headers` added to (or replacing) the usual ones.
 */
export function mcpPost(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: {
      host: "127.0.0.1:8080",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}
