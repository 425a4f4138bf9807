/**
 * Checks of a JSON-RPC body run by the HTTP layer before the SDK, on every revision: a batch on a
 * revision that removed batches (the SDK's 2025 transport still accepts them), a `tools/call`
 * without a tool name (answered with a message that says what to send, not a schema dump), and a
 * 2026-07-28 `subscriptions/listen` (no notifications to send, so no stream to keep open).
 */

import { PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/server";

/** A JSON-RPC error to answer instead of handing the body to the MCP server. */
export interface Refusal {
  /** HTTP status of the answer. */
  status: 200 | 400;
  id: string | number | null;
  code: number;
  message: string;
}

/** The first revision without JSON-RPC batching. @see https://modelcontextprotocol.io/specification/2025-06-18/changelog */
const NO_BATCHES_FROM = "2025-06-18";

/**
 * The refusal for `body`, or undefined when the MCP server should answer it. `protocolVersion` is
 * the `MCP-Protocol-Version` header; without it the revision an `initialize` in the body asks for
 * counts (revisions are dates, so they compare as strings).
 * @see https://www.jsonrpc.org/specification#error_object
 */
export function refuseMessage(body: unknown, protocolVersion: string | undefined): Refusal | undefined {
  if (Array.isArray(body)) {
    const header = protocolVersion?.trim() === "" ? undefined : protocolVersion?.trim();
    const revision = header ?? body.map(initializeRevision).find((v) => v !== undefined);
    if (revision !== undefined && revision >= NO_BATCHES_FROM) {
      return {
        status: 400,
        id: null,
        code: -32600,
        message: `Invalid Request: MCP ${revision} has no JSON-RPC batches; send each message in its own POST.`,
      };
    }
    return undefined;
  }
  if (isRecord(body) && body.method === "subscriptions/listen") {
    // 2026-07-28's notification stream: the gateway has nothing to send on it (tools declare
    // listChanged false), so it holds no long-lived stream open for it.
    return {
      status: 200,
      id: typeof body.id === "string" || typeof body.id === "number" ? body.id : null,
      code: -32601,
      message:
        "Method not found: this gateway sends no notifications, so it opens no subscriptions/listen stream; call tools/list again when you need the list.",
    };
  }
  if (isRecord(body) && body.method === "tools/call") {
    const params = body.params;
    if (!isRecord(params) || typeof params.name !== "string" || params.name === "") {
      return {
        status: 200,
        id: typeof body.id === "string" || typeof body.id === "number" ? body.id : null,
        code: -32602,
        message:
          "Invalid params: tools/call needs params.name, the name of a tool as tools/list gives it, and params.arguments with its input.",
      };
    }
  }
  return undefined;
}

/**
 * Whether `body` is, beyond doubt, a 2025-era request: a single well-formed JSON-RPC request (not a
 * notification, response or batch) without the 2026-07-28 envelope claim (`_meta` naming a protocol
 * version), under no `MCP-Protocol-Version` header or one naming a revision before 2026-07-28. The
 * SDK's own classification (`isLegacyRequest`) reaches the same answer for these through zod
 * checks of the whole body, a twentieth of a tools/call's CPU; every other body still goes to it.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */
export function plainlyLegacyRequest(
  body: unknown,
  protocolVersion: string | undefined,
  legacyRevisions: readonly string[],
): boolean {
  if (!isRecord(body) || body.jsonrpc !== "2.0" || typeof body.method !== "string") return false;
  if ("result" in body || "error" in body) return false;
  const { id, params } = body;
  if (typeof id !== "string" && !Number.isSafeInteger(id)) return false;
  if (params !== undefined) {
    if (!isRecord(params)) return false;
    const meta = params._meta;
    if (meta !== undefined && (!isRecord(meta) || PROTOCOL_VERSION_META_KEY in meta)) return false;
  }
  return protocolVersion === undefined || legacyRevisions.includes(protocolVersion);
}

function initializeRevision(message: unknown): string | undefined {
  if (!isRecord(message) || message.method !== "initialize" || !isRecord(message.params)) return undefined;
  const v = message.params.protocolVersion;
  return typeof v === "string" ? v : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
