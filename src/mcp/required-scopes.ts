import type { ToolRegistry } from "./registry.ts";

/**
 * The scopes a JSON-RPC body needs beyond reaching /mcp at all: the union of the required scopes of
 * every tool named by a `tools/call` in it (a single message or a batch). Other methods and unknown
 * tools add nothing; the MCP server answers those itself. The HTTP layer compares the result with
 * the token and answers 403 `insufficient_scope` naming all missing scopes in one challenge.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization (Scope Challenge Handling)
 */
export function requiredScopesForCall(registry: ToolRegistry, jsonRpcBody: unknown): string[] {
  const messages: unknown[] = Array.isArray(jsonRpcBody) ? jsonRpcBody : [jsonRpcBody];
  const scopes = new Set<string>();
  for (const message of messages) {
    const name = calledToolName(message);
    const tool = name === undefined ? undefined : registry.get(name);
    for (const scope of tool?.scopes ?? []) scopes.add(scope);
  }
  return [...scopes];
}

function calledToolName(message: unknown): string | undefined {
  if (!isRecord(message) || message.method !== "tools/call" || !isRecord(message.params)) return undefined;
  const name = message.params.name;
  return typeof name === "string" ? name : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
