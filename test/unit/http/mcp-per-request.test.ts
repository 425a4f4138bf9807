// How /mcp reads its body over a real node HTTP server, and that the per-request MCP server leaves
// nothing behind: /mcp no longer closes it after an answer (the
// close cost an error object with a stack per request), so these requests prove that the server,
// its transport and the handlers' closures become garbage once the response is out, on both the
// 2025 (stateless transport) and the 2026-07-28 (SDK handler) paths.
import { once } from "node:events";
import { connect, type AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { allTools } from "../../../src/app.ts";
import { defineTool, ToolRegistry } from "../../../src/mcp/index.ts";
import { claims, createIdp, type TestIdp } from "../auth/fixtures.ts";
import { waitFor } from "../../harness/wait.ts";
import { testApp, testConfig } from "./support.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** How many request contexts a tool saw, and how many of them were collected since. */
const seen = { count: 0, collected: 0 };
const collected = new FinalizationRegistry<undefined>(() => {
  seen.collected++;
});

/**
 * A tool that registers its request's AuthInfo: the per-request server holds it (the context its
 * handlers close over), so it is collected only when that server is.
 */
const probe = defineTool({
  name: "test_probe",
  title: "Probe (test)",
  description: "Registers the request context for collection.",
  input: z.object({}),
  output: z.object({ ok: z.boolean().describe("Always true.") }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  handler: (_args, ctx) => {
    seen.count++;
    collected.register(ctx.auth, undefined);
    return Promise.resolve({ ok: true });
  },
});

let idp: TestIdp;
let app: ReturnType<typeof testApp>;
let token: string;

beforeAll(async () => {
  idp = await createIdp();
  token = await idp.sign(claims());
  app = testApp(idp, {
    config: testConfig({ MCP_DEFAULT_APPS: "all", RATE_LIMIT_MCP_PER_USER: "0" }),
    registry: new ToolRegistry([...allTools, probe]),
  });
});

const CALLS = 200;

const legacy = (id: number) => ({
  body: { jsonrpc: "2.0", id, method: "tools/call", params: { name: "test_probe", arguments: {} } },
  headers: { "mcp-protocol-version": "2025-11-25" },
});

const modern = (id: number) => ({
  body: {
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name: "test_probe",
      arguments: {},
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  },
  headers: { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "test_probe" },
});

describe("the per-request MCP server after its answer", () => {
  it.each([
    ["2025-11-25", legacy],
    ["2026-07-28", modern],
  ])("is collected after tools/call on %s", async (_revision, message) => {
    const before = { ...seen };
    for (let i = 1; i <= CALLS; i++) {
      const { body, headers } = message(i);
      const res = await app.request("/mcp", {
        method: "POST",
        headers: {
          host: "127.0.0.1:8080",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
          ...headers,
        },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { result?: { structuredContent?: unknown } };
      expect(answer.result?.structuredContent).toEqual({ ok: true });
    }
    expect(seen.count - before.count).toBe(CALLS);
    // Finalizers run after a collection, on a later turn of the event loop: collect until all ran.
    await waitFor(
      `all ${String(CALLS)} request contexts collected (${String(seen.collected - before.collected)} so far)`,
      () => {
        gc();
        return seen.collected - before.collected >= CALLS ? true : undefined;
      },
      { timeoutMs: 4_000, intervalMs: 20 },
    );
  });
});

describe("the body of POST /mcp over node's HTTP server", () => {
  let server: ServerType;
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => {
        resolve();
      });
    });
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/mcp`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (body: RequestInit["body"], extra: RequestInit = {}) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        authorization: `Bearer ${token}`,
      },
      body,
      ...extra,
    });
  const call = JSON.stringify(legacy(5).body);

  it("is read with a declared length, with a byte-order mark, and chunked", async () => {
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(call);
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    for (const res of [
      await send(call),
      await send(`\uFEFF${call}`),
      await send(chunked, { duplex: "half" }),
    ]) {
      expect(res.status).toBe(200);
      expect(
        ((await res.json()) as { result: { structuredContent: unknown } }).result.structuredContent,
      ).toEqual({
        ok: true,
      });
    }
  });

  it("refuses a body over 4 MiB, declared or chunked", async () => {
    const big = JSON.stringify({ ...legacy(6).body, pad: "x".repeat(4 * 1024 * 1024) });
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    for (const res of [await send(big), await send(chunked, { duplex: "half" })]) {
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: -32600 } });
    }
  });

  it("drops a body the client cut short, calling no tool, and goes on serving", async () => {
    const before = seen.count;
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, "connect");
    socket.write(
      [
        "POST /mcp HTTP/1.1",
        `Host: ${hostname}:${port}`,
        "Content-Type: application/json",
        "Accept: application/json, text/event-stream",
        "MCP-Protocol-Version: 2025-11-25",
        `Authorization: Bearer ${token}`,
        `Content-Length: ${String(call.length + 100)}`,
        "",
        call,
      ].join("\r\n"),
    );
    socket.destroy();
    await once(socket, "close");
    const res = await send(call);
    expect(res.status).toBe(200);
    expect(seen.count).toBe(before + 1);
  });

  it("answers a body that is not JSON with a parse error", async () => {
    const res = await send('{"jsonrpc": "2.0",');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32700 } });
  });
});
