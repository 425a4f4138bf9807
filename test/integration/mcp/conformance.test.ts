// The official MCP conformance suite (@modelcontextprotocol/conformance) against the real gateway.
// Its server runner cannot send credentials, so a test-only proxy in front adds a real Keycloak
// token to each request and passes every other header (Host, Origin) through unchanged.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startGateway, type RunningGateway } from "../../../src/cli/serve.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { createLogger } from "../../../src/log.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { freePort } from "../../harness/wait.ts";
import { clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const CONFORMANCE = new URL(
  "../../../node_modules/@modelcontextprotocol/conformance/dist/index.js",
  import.meta.url,
).pathname;
const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
let gateway: RunningGateway;
let proxy: Server;
let proxyUrl: string;
let db: { url: string; drop(): Promise<void> };
const out = mkdtempSync(join(tmpdir(), "ncmcp-conformance-"));

beforeAll(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "conformance");
  gateway = await startGateway(
    loadConfig({
      GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
      PORT: String(await freePort()),
      OIDC_ISSUER: kc.issuer,
      OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
      DATABASE_URL: db.url,
    }),
    createLogger("silent"),
    { migrate: true },
  );
  const browser: Browser = await launchBrowser();
  let token: string;
  try {
    token = (
      await signIn(browser, {
        config: await clientConfig("mcp-client"),
        redirectUri: "http://127.0.0.1:38130/callback",
        scope: "openid mcp:tools",
        user: DEMO_USERS.alice,
      })
    ).access_token;
  } finally {
    await browser.close();
  }
  const target = new URL(gateway.url);
  proxy = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://localhost:${(proxy.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await gateway.shutdown("test end");
  await db.drop();
  rmSync(out, { recursive: true, force: true });
});

function runScenario(scenario: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CONFORMANCE, "server", "--url", proxyUrl, "--scenario", scenario, "-o", out],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (code) => {
      resolve({ code, output });
    });
  });
}

describe("MCP conformance suite (server scenarios that apply to the gateway)", () => {
  it.each(["server-initialize", "tools-list", "ping", "dns-rebinding-protection"])(
    "passes %s",
    async (scenario) => {
      const r = await runScenario(scenario);
      expect(r.code, r.output).toBe(0);
      expect(r.output).not.toMatch(/\bFAIL(ED)?\b/);
    },
  );
});
