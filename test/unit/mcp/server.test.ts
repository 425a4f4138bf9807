import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import {
  compactSchema,
  shallowOutput,
  createMcpServer,
  defineTool,
  ToolRegistry,
  type AnyToolDefinition,
} from "../../../src/mcp/index.ts";
import { VERSION } from "../../../src/version.ts";
import { fixtureTools } from "./fixtures.ts";
import { connect, testContext, TOKEN } from "./harness.ts";

const registry = new ToolRegistry(fixtureTools);

async function listNames(scopes: string[], capabilities?: ReadonlySet<string> | "all"): Promise<string[]> {
  const client = await connect(createMcpServer(registry, testContext(scopes), { capabilities }));
  return (await client.listTools()).tools.map((t) => t.name);
}

function textOf(result: object): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  expect(content).toHaveLength(1);
  expect(content[0]?.type).toBe("text");
  return content[0]?.text ?? "";
}

describe("createMcpServer", () => {
  it("introduces itself with the gateway's name, version and instructions", async () => {
    const client = await connect(createMcpServer(registry, testContext()));
    expect(client.getServerVersion()).toEqual({ name: "nextcloud-mcp-gateway", version: VERSION });
    expect(client.getInstructions()).toMatch(/Nextcloud/);
    expect(client.getServerCapabilities()?.tools).toBeDefined();
  });

  it("lists only the tools the token's scopes allow: no write tool without mcp:write", async () => {
    expect(await listNames(["mcp:tools"])).not.toContain("notes_create");
    expect(await listNames(["mcp:tools"])).toContain("notes_get");
    expect(await listNames(["mcp:tools", "mcp:write"])).toContain("notes_create");
  });

  it("lists nothing, rather than failing, for a token without mcp:tools", async () => {
    expect(await listNames(["openid"])).toEqual([]);
  });

  it("lists only the tools whose Nextcloud app the instance has", async () => {
    const names = await listNames(["mcp:tools", "mcp:write"], new Set(["calendar"]));
    expect(names).toContain("calendar_signal");
    expect(names).not.toContain("notes_get");
    expect(names).not.toContain("notes_create");
    expect(names).toContain("files_refused");
  });

  it("answers a call of a tool it does not offer with JSON-RPC -32602, not a tool result", async () => {
    const client = await connect(createMcpServer(registry, testContext(["mcp:tools"])));
    // notes_create exists but needs mcp:write; notes_nothing exists nowhere.
    for (const name of ["notes_create", "notes_nothing"]) {
      const call = client.callTool({ name, arguments: { title: "x" } });
      await expect(call, name).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining(`Unknown tool: "${name}". tools/list names the tools`) as string,
      });
    }
  });

  it("lists what the SDK's own tools/list would, compacted (the precomputed entries have not drifted)", async () => {
    const ours = await connect(createMcpServer(registry, testContext(["mcp:tools", "mcp:write"])));
    const plain = new McpServer({ name: "plain", version: "0" });
    for (const t of fixtureTools) {
      plain.registerTool(
        t.name,
        {
          title: t.title,
          description: t.description,
          inputSchema: t.input,
          outputSchema: t.output,
          annotations: t.annotations,
        },
        () => ({ content: [] }),
      );
    }
    const sdk = await connect(plain);
    const compacted = (await sdk.listTools()).tools.map(({ execution: _execution, ...t }) => ({
      ...t,
      inputSchema: compactSchema(t.inputSchema, { descriptions: true }),
      outputSchema: shallowOutput(compactSchema(t.outputSchema, { descriptions: false })),
    }));
    expect((await ours.listTools()).tools).toEqual(compacted);
  });

  it("returns the output as structuredContent plus its text rendering", async () => {
    const client = await connect(createMcpServer(registry, testContext()));
    await client.listTools(); // lets the client validate structuredContent against outputSchema
    const result = await client.callTool({ name: "notes_get", arguments: { id: 7 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ id: 7, title: "Note 7" });
    expect(textOf(result)).toBe("#7 Note 7");
  });

  it("renders JSON as text when the tool has no text rendering", async () => {
    const client = await connect(createMcpServer(registry, testContext(["mcp:tools", "mcp:write"])));
    const result = await client.callTool({ name: "notes_create", arguments: { title: "x" } });
    expect(JSON.parse(textOf(result))).toEqual({ id: 42 });
  });

  it("answers bad input with an isError result naming the field and what it expects", async () => {
    const client = await connect(createMcpServer(registry, testContext()));
    const wrongType = await client.callTool({ name: "notes_get", arguments: { id: "seven" } });
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/expected number, received string at id/);
    const missing = await client.callTool({ name: "notes_get", arguments: {} });
    expect(textOf(missing)).toMatch(/expected number, received undefined at id/);
    const badEnum = await client.callTool({ name: "notes_get", arguments: { id: 1, format: "html" } });
    expect(textOf(badEnum)).toMatch(/expected one of "markdown"\|"plain" at format/);
  });

  it("turns a GatewayError into an isError result with its description, and logs it as a warning", async () => {
    const ctx = testContext();
    const client = await connect(createMcpServer(registry, ctx));
    const result = await client.callTool({ name: "files_refused", arguments: {} });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(textOf(result)).toBe("Nextcloud refused access to /Private; ask the owner to share it.");
    expect(ctx.lines).toEqual([
      {
        level: "warn",
        fields: { tool: "files_refused", err: expect.stringContaining("PROPFIND 403") as unknown },
        message: "tool call failed",
      },
    ]);
  });

  it("turns any other error into a generic isError result with the request id, and logs the error", async () => {
    const ctx = testContext();
    const client = await connect(createMcpServer(registry, ctx));
    const result = await client.callTool({ name: "files_broken", arguments: {} });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toBe("The tool failed unexpectedly; the gateway log has details (request id req-7d2f).");
    expect(text).not.toMatch(/ocs|TypeError|x\.ts/);
    expect(ctx.lines).toHaveLength(1);
    expect(ctx.lines[0]).toMatchObject({ level: "error", fields: { tool: "files_broken" } });
    expect(JSON.stringify(ctx.lines[0])).toMatch(/reading 'ocs'/);
  });

  it("treats a result that does not match the output schema as an unexpected failure", async () => {
    const ctx = testContext();
    const client = await connect(createMcpServer(registry, ctx));
    const result = await client.callTool({ name: "files_misshaped", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^The tool failed unexpectedly/);
    expect(JSON.stringify(ctx.lines)).toMatch(/output does not match the schema/);
  });

  it("never puts the access token in a result or a log line", async () => {
    const ctx = testContext(["mcp:tools", "mcp:write"]);
    const client = await connect(createMcpServer(registry, ctx));
    const results = await Promise.all(
      fixtureTools.map((t) =>
        client.callTool({ name: t.name, arguments: t.name === "notes_get" ? { id: 1 } : {} }),
      ),
    );
    expect(JSON.stringify(results)).not.toContain(TOKEN);
    expect(JSON.stringify(ctx.lines)).not.toContain(TOKEN);
  });

  it("passes the request's abort signal to the handler", async () => {
    const aborted = new AbortController();
    aborted.abort();
    const client = await connect(
      createMcpServer(registry, testContext(["mcp:tools"], { signal: aborted.signal })),
    );
    const result = await client.callTool({ name: "calendar_signal", arguments: {} });
    expect(result.structuredContent).toEqual({ aborted: true });
  });

  it("builds a working server per request from a 30-tool registry, each listing the registry's precomputed entries", async () => {
    const many: AnyToolDefinition[] = Array.from({ length: 30 }, (_, i) =>
      defineTool({
        name: `bench_tool_${"abcdefghijklmnopqrstuvwxyz"[i % 26] ?? ""}${i < 26 ? "" : "_x"}`,
        title: `Tool ${i}`,
        description: "A dummy tool for the listing test.",
        input: z.object({
          id: z.number().int().describe("An id."),
          title: z.string().max(200).describe("A title."),
          tags: z.array(z.string()).optional().describe("Tags."),
          when: z.iso.datetime().optional().describe("A time."),
        }),
        output: z.object({ ok: z.boolean(), items: z.array(z.object({ a: z.string(), b: z.number() })) }),
        annotations: {
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: false,
        },
        scopes: ["mcp:tools"],
        handler: () => Promise.resolve({ ok: true, items: [] }),
      }),
    );
    const big = new ToolRegistry(many);
    const ctx = testContext();
    // What building costs is measured by `npm run bench` (server-build), not asserted here.
    const expected = many.map((t) => big.listing(t.name));
    for (let i = 0; i < 3; i++) {
      const client = await connect(createMcpServer(big, ctx));
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(many.map((t) => t.name));
      expect(tools).toEqual(expected);
      const called = await client.callTool({ name: many[i]?.name ?? "", arguments: { id: i, title: "t" } });
      expect(called.structuredContent).toEqual({ ok: true, items: [] });
    }
  });
});
