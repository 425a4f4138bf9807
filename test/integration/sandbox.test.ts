// `npm run sandbox`, the README's run command: it brings up a gateway that the official MCP client
// can sign in to (through the sandbox's own Keycloak) and call tools on, and Ctrl-C stops it all.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../harness/browser.ts";
import { freePort, waitFor } from "../harness/wait.ts";
import { DEMO_USERS } from "./support/oauth.ts";
import { BrowserOAuthProvider, connectWithSignIn } from "./support/sdk-client.ts";

const SANDBOX = new URL("../../scripts/sandbox.ts", import.meta.url).pathname;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), "ncmcp-sandbox-"));

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm run sandbox", () => {
  it("serves MCP with sign-in and Nextcloud tools, and stops everything on Ctrl-C", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [SANDBOX], {
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor(
        "the sandbox to print its banner",
        () => (out.includes("sandbox is running") ? true : undefined),
        {
          timeoutMs: 240_000,
          intervalMs: 250,
          abort: () => (child.exitCode === null ? undefined : `sandbox exited: ${out}`),
        },
      );
      const mcpUrl = /MCP endpoint\s+(\S+)/.exec(out)?.[1];
      expect(mcpUrl).toBe(`http://localhost:${port}/mcp`);
      const provider = new BrowserOAuthProvider("http://127.0.0.1:38150/callback");
      const client = await connectWithSignIn(browser, mcpUrl ?? "", provider, DEMO_USERS.alice);
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining(["server_info", "whoami"]));
        const me = await client.callTool({ name: "whoami", arguments: {} });
        expect(me.isError).toBeFalsy();
        expect((me.structuredContent as { userId?: string } | undefined)?.userId).toBe("alice");
        // Offline access is on in the sandbox: offline_access_status names /connect, a page whose one
        // link signs the user in and brings them back to grant (GET starts nothing by itself).
        const status = await client.callTool({ name: "offline_access_status", arguments: {} });
        expect(status.structuredContent).toMatchObject({ status: "not_granted" });
        const connect = await fetch(`http://localhost:${port}/connect`, { redirect: "manual" });
        expect(connect.status).toBe(200);
        expect(await connect.text()).toContain('href="/login?next=connect"');
      } finally {
        await client.close();
      }
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    expect(out).not.toContain("could not start");
  });
});
