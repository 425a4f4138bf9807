import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { allTools } from "../../../../src/app.ts";
import { createMcpServer, ToolRegistry } from "../../../../src/mcp/index.ts";
import { serverInfo } from "../../../../src/mcp/tools/server-info.ts";
import { VERSION } from "../../../../src/version.ts";
import { connect, testContext, TOKEN } from "../harness.ts";

describe("server_info", () => {
  it("returns the gateway, the subject and the scopes as structuredContent valid against its schema", async () => {
    const client = await connect(
      createMcpServer(new ToolRegistry(allTools), testContext(["mcp:tools", "mcp:write"])),
    );
    const listed = (await client.listTools()).tools.find((t) => t.name === "server_info");
    expect(listed).toMatchObject({
      title: "Gateway information",
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    });

    const result = await client.callTool({ name: "server_info", arguments: {} });
    expect(result.isError).toBeFalsy();
    const output = serverInfo.output.parse(result.structuredContent);
    expect(output).toEqual({
      gateway: { name: "nextcloud-mcp-gateway", version: VERSION },
      subject: "3f1c5a0e-alice",
      scopes: ["mcp:tools", "mcp:write"],
      protocolVersions: ["2026-07-28", ...SUPPORTED_PROTOCOL_VERSIONS],
    });
    expect(output.protocolVersions).toContain("2025-06-18");
    expect(output.protocolVersions).toEqual(
      expect.arrayContaining(["2026-07-28", "2025-11-25", "2025-06-18"]),
    );
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("has a text rendering for clients that ignore structuredContent", async () => {
    const client = await connect(createMcpServer(new ToolRegistry(allTools), testContext()));
    const result = await client.callTool({ name: "server_info", arguments: {} });
    const content = result.content as { type: string; text: string }[];
    expect(content).toEqual([{ type: "text", text: expect.any(String) as unknown }]);
    expect(content[0]?.text).toBe(
      [
        `nextcloud-mcp-gateway ${VERSION}`,
        "Signed in as: 3f1c5a0e-alice",
        "Scopes: mcp:tools",
        `MCP protocol revisions: 2026-07-28, ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`,
      ].join("\n"),
    );
  });

  it("needs only mcp:tools and works on every Nextcloud", () => {
    expect(serverInfo.scopes).toEqual(["mcp:tools"]);
    expect(serverInfo.capability).toBeUndefined();
  });
});
