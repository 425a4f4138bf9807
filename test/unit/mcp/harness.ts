// Test helpers: a ToolContext with a recording logger, and an SDK client wired to a fresh server.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport, type McpServer } from "@modelcontextprotocol/server";
import type { ToolContext, ToolLogger } from "../../../src/mcp/index.ts";

/** One recorded log call. */
export interface LogLine {
  level: "info" | "warn" | "error";
  fields: object;
  message: string | undefined;
}

/** A token value that must never show up in a result or a log line. */
export const TOKEN = "eyJhbGciOiJSUzI1NiJ9.do-not-leak-this-token.signature";

/** A ToolContext for `subject` with `scopes`, whose log calls land in `lines`. */
export function testContext(
  scopes: readonly string[] = ["mcp:tools"],
  overrides: Partial<ToolContext> = {},
): ToolContext & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log: ToolLogger = {
    info: (fields, message) => lines.push({ level: "info", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
    error: (fields, message) => lines.push({ level: "error", fields, message }),
  };
  return {
    auth: { token: TOKEN, clientId: "test-client", scopes: [...scopes], expiresAt: 4_102_444_800 },
    subject: "3f1c5a0e-alice",
    scopes,
    signal: new AbortController().signal,
    requestId: "req-7d2f",
    log,
    lines,
    ...overrides,
  };
}

/**
 * An SDK 1.x client connected in memory to `server` (SDK 2.x): it has run the 2025-11-25
 * initialize handshake.
 */
export async function connect(server: McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "unit-test", version: "0.0.0" });
  await server.connect(serverSide);
  await client.connect(clientSide);
  return client;
}
