import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.ts";
import type { ToolLogger } from "../../../src/mcp/index.ts";

describe("ToolLogger", () => {
  it("is satisfied by the gateway's pino logger, which redacts a token passed by mistake", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log: ToolLogger = createLogger("info", sink);
    log.warn({ tool: "server_info", token: "secret-token" }, "tool call failed");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      level: "warn",
      tool: "server_info",
      msg: "tool call failed",
    });
    expect(lines[0]).not.toContain("secret-token");
  });
});
