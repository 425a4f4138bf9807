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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { clientConfig, DEMO_USERS, signIn } from "../support/oauth.ts";

const CONFORMANCE = new URL(
  "../../../node_modules/@modelcontextprotocol/conformance/dist/index.js",
  import.meta.url,
).pathname;
let gw: TestGateway;
let proxy: Server;
let proxyUrl: string;
const out = mkdtempSync(join(tmpdir(), "ncmcp-conformance-"));

beforeAll(async () => {
  gw = await startTestGateway();
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
  const target = new URL(gw.gateway.url);
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
  await gw.stop();
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
