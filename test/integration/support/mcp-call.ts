// Plain JSON-RPC over HTTP against a running gateway, as an MCP client with a token would send it.
/** The result of a tools/call, as tests read it. */
export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

let nextId = 1;

async function rpc(
  gatewayUrl: string,
  token: string,
  method: string,
  params?: unknown,
  query = "",
): Promise<unknown> {
  const res = await fetch(`${gatewayUrl}/mcp${query}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: nextId++,
      method,
      ...(params === undefined ? {} : { params }),
    }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (res.status !== 200 || body.error) {
    throw new Error(`${method} answered ${res.status}: ${JSON.stringify(body.error ?? body)}`);
  }
  return body.result;
}

/** The names of the tools the token may see (`query`, e.g. "?apps=notes", selects a toolset). */
export async function listToolNames(gatewayUrl: string, token: string, query = ""): Promise<string[]> {
  const r = (await rpc(gatewayUrl, token, "tools/list", undefined, query)) as { tools: { name: string }[] };
  return r.tools.map((t) => t.name).sort();
}

/** Calls one tool and returns its result (tool errors come back as `isError`, not as throws). */
export async function callTool(
  gatewayUrl: string,
  token: string,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolResult> {
  return (await rpc(gatewayUrl, token, "tools/call", { name, arguments: args })) as ToolResult;
}
