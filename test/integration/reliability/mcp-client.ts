// A minimal MCP client for the reliability scenarios: one JSON-RPC request per HTTP POST to /mcp, as
// a Streamable HTTP client with a bearer token sends it, returning what a user's client would see
// (the HTTP status, the JSON-RPC result or error, the tool result) instead of throwing.
import { performance } from "node:perf_hooks";

export interface McpAnswer {
  /** The HTTP status; 0 when no answer arrived (connection refused or reset). */
  readonly status: number;
  readonly ms: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
  /** The body when it is not a JSON-RPC answer, or why the request failed. */
  readonly text?: string;
  readonly retryAfter?: string | null;
}

let nextId = 1;

export async function mcpRequest(
  gatewayUrl: string,
  token: string,
  method: string,
  params?: unknown,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<McpAnswer> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(`${gatewayUrl}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        ...options.headers,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: nextId++,
        method,
        ...(params === undefined ? {} : { params }),
      }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return {
      status: 0,
      ms: performance.now() - started,
      text: `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message ?? ""})` : ""}`,
    };
  }
  const raw = await res.text().catch((err: unknown) => `body lost: ${(err as Error).message}`);
  const ms = performance.now() - started;
  const retryAfter = res.headers.get("retry-after");
  try {
    const body = JSON.parse(raw) as {
      result?: Record<string, unknown>;
      error?: { code: number; message: string };
    };
    return {
      status: res.status,
      ms,
      retryAfter,
      ...(body.result === undefined ? {} : { result: body.result }),
      ...(body.error === undefined ? {} : { error: body.error }),
      ...(body.result === undefined && body.error === undefined ? { text: raw.slice(0, 300) } : {}),
    };
  } catch {
    return { status: res.status, ms, retryAfter, text: raw.slice(0, 300) };
  }
}

export const toolsList = (url: string, token: string) => mcpRequest(url, token, "tools/list");

export const toolCall = (url: string, token: string, name: string, args: Record<string, unknown> = {}) =>
  mcpRequest(url, token, "tools/call", { name, arguments: args });

/** The text of a tool result's content. */
export function toolText(answer: McpAnswer): string {
  const content = (answer.result?.content ?? []) as { text?: string }[];
  return content.map((c) => c.text ?? "").join("\n");
}

/** A tools/call that came back as a successful tool result. */
export const toolOk = (a: McpAnswer): boolean =>
  a.status === 200 && a.result !== undefined && a.result.isError !== true;

/** A one-line account of an answer, for failure messages. */
export const describeAnswer = (a: McpAnswer): string =>
  `HTTP ${String(a.status)} ${a.error ? JSON.stringify(a.error) : ""}${a.text ?? ""}${a.result?.isError === true ? ` tool error: ${toolText(a)}` : ""}`;
