// The MCP clients people use, unmodified, against the real gateway, the real Keycloak with the
// shipped realm and the Nextcloud stand-in: each registers itself dynamically, opens the sign-in
// page in "the browser" (a BROWSER script that hands the URL to headless Chromium, which signs a
// demo user in on Keycloak's real login page and follows the redirect back to the client's own
// callback listener), then lists and calls tools.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser, signInInBrowser } from "../../harness/browser.ts";
import { createBrowserHandoff, type BrowserHandoff } from "../../harness/browser-handoff.ts";
import { freePort } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { DEMO_USERS } from "../support/oauth.ts";

const kc = inject("keycloak");
const mcpUrl = `${inject("realmEnv").MCP_GATEWAY_URL}/mcp`;
const require = createRequire(import.meta.url);
/** The installed packages' own entry points, run by this Node as a user's `npx` would. */
const MCP_REMOTE = join(dirname(require.resolve("mcp-remote/package.json")), "dist", "proxy.js");
const INSPECTOR = join(
  dirname(require.resolve("@modelcontextprotocol/inspector/package.json")),
  "clients",
  "launcher",
  "build",
  "index.js",
);

let browser: Browser;
let gw: TestGateway;
let standin: NextcloudStandin;
let home: string;

beforeAll(async () => {
  standin = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  // The clients compare the metadata's resource with the URL they were given: the realm's URL.
  gw = await startTestGateway({ port: inject("gatewayPort"), env: { NEXTCLOUD_URL: standin.url } });
  browser = await launchBrowser();
  home = mkdtempSync(join(tmpdir(), "ncmcp-clients-"));
});
afterAll(async () => {
  await browser.close();
  await gw.stop();
  await standin.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A fresh home directory per client: no stored registration or token from an earlier run. */
function clientHome(name: string): { dir: string; handoff: BrowserHandoff; env: Record<string, string> } {
  const dir = mkdtempSync(join(home, `${name}-`));
  const handoff = createBrowserHandoff(dir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // vitest's markers make some clients behave as under their own tests (no browser at all).
    if (v !== undefined && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") env[k] = v;
  }
  return { dir, handoff, env: { ...env, ...handoff.env, HOME: dir, XDG_CONFIG_HOME: join(dir, ".config") } };
}

/** The user signs in on the page the client opened; the browser then reaches the client's callback. */
async function signInAt(url: string, user: keyof typeof DEMO_USERS): Promise<URL> {
  const redirectUri = new URL(url).searchParams.get("redirect_uri") ?? "";
  expect(redirectUri).not.toBe("");
  return signInInBrowser(browser, url, {
    ...DEMO_USERS[user],
    redirectPrefix: redirectUri,
    answerRedirect: false,
  });
}

interface WhoAmI {
  userId?: string;
  email?: string | null;
}

describe("mcp-remote (stdio bridge), as Claude Desktop or Cursor run it", () => {
  it("registers, signs in through the browser, lists and calls tools", async () => {
    const { dir, handoff, env } = clientHome("mcp-remote");
    const callbackPort = await freePort();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, mcpUrl, String(callbackPort)],
      env: { ...env, MCP_REMOTE_CONFIG_DIR: join(dir, ".mcp-auth") },
      stderr: "pipe",
    });
    let log = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const client = new Client({ name: "desktop-app", version: "1.0.0" });
    const connected = client.connect(transport, { timeout: 120_000 });
    try {
      const url = new URL(await handoff.nextUrl(1));
      // It registered itself (the realm's client, not the pre-registered one) and asks for the
      // gateway's scopes for the gateway's resource, with PKCE.
      expect(`${url.origin}${url.pathname}`).toBe(`${kc.issuer}/protocol/openid-connect/auth`);
      expect(url.searchParams.get("client_id")).not.toBe("mcp-client");
      expect(url.searchParams.get("redirect_uri")).toBe(
        `http://localhost:${String(callbackPort)}/oauth/callback`,
      );
      // The 401 challenge's scopes, plus offline_access (Keycloak offers it) for its refresh token.
      expect(url.searchParams.get("scope")?.split(" ").sort()).toEqual([
        "mcp:tools",
        "mcp:write",
        "offline_access",
      ]);
      expect(url.searchParams.get("resource")).toBe(mcpUrl);
      expect(url.searchParams.get("code_challenge_method")).toBe("S256");
      const back = await signInAt(url.href, "alice");
      expect(back.searchParams.get("code")).toEqual(expect.any(String));
      await connected;

      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["whoami", "notes_list"]));
      const who = await client.callTool({ name: "whoami", arguments: {} });
      expect(who.isError).toBeFalsy();
      expect((who.structuredContent as WhoAmI).email).toBe("alice@example.test");
      const notes = await client.callTool({ name: "notes_list", arguments: {} });
      expect(notes.isError).toBeFalsy();
      // One sign-in for all of it.
      expect(handoff.opened()).toHaveLength(1);
    } catch (err) {
      throw new Error(`${String(err)}\n--- mcp-remote stderr ---\n${log}`, { cause: err });
    } finally {
      await client.close();
    }
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Inspector processes still running; a failed test ends them. */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill();
  running.clear();
});

/** Runs the Inspector's CLI mode to its end (`npx @modelcontextprotocol/inspector --cli …`). */
function inspectorCli(args: string[], env: Record<string, string>): { done: Promise<CliRun> } {
  const child = spawn(process.execPath, [INSPECTOR, "--cli", mcpUrl, "--transport", "http", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return {
    done: new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => {
        running.delete(child);
        resolve({ code, stdout, stderr });
      });
    }),
  };
}

describe("the MCP Inspector's CLI mode", () => {
  it("registers, signs in through the browser, lists tools, and calls one in a second run", async () => {
    const { handoff, env } = clientHome("inspector");
    const callback = `http://127.0.0.1:${String(await freePort())}/oauth/callback`;
    // Without a terminal the CLI signs in only when told it may open the browser.
    const cliEnv = { ...env, MCP_AUTO_OPEN_ENABLED: "true" };
    const list = inspectorCli(
      ["--method", "tools/list", "--callback-url", callback, "--format", "json"],
      cliEnv,
    );
    const url = new URL(
      await Promise.race([
        handoff.nextUrl(1),
        list.done.then((r) => {
          throw new Error(`the Inspector ended before opening the browser (${String(r.code)}):\n${r.stderr}`);
        }),
      ]),
    );
    expect(url.searchParams.get("client_id")).not.toBe("mcp-client");
    expect(url.searchParams.get("redirect_uri")).toBe(callback);
    await signInAt(url.href, "bob");
    const listed = await list.done;
    expect(listed.code, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { result: { tools: { name: string }[] } }).result.tools.map(
      (t) => t.name,
    );
    expect(names).toEqual(expect.arrayContaining(["whoami", "notes_list"]));

    const second = inspectorCli(
      ["--method", "tools/call", "--tool-name", "whoami", "--callback-url", callback, "--format", "json"],
      cliEnv,
    );
    // Each CLI run is its own sign-in (it keeps the registration, not the tokens, between runs).
    const again = new URL(await handoff.nextUrl(2));
    expect(again.searchParams.get("client_id")).toBe(url.searchParams.get("client_id"));
    await signInAt(again.href, "bob");
    const call = await second.done;
    expect(call.code, call.stderr).toBe(0);
    const { result } = JSON.parse(call.stdout) as {
      result: { isError?: boolean; structuredContent?: WhoAmI };
    };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent?.email).toBe("bob@example.test");
  });
});
