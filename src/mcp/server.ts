import { randomUUID } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  McpServer,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  UrlElicitationRequiredError,
  type CallToolResult,
  type InputRequiredResult,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import type { z } from "zod";
import { withEitherSignal } from "../abort.ts";
import { describeError, GatewayError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { OfflineAccessContext, ToolContext } from "./context.ts";
import type { AnyToolDefinition, ToolRegistry } from "./registry.ts";

const INSTRUCTIONS = [
  "This server works in the user's Nextcloud as the signed-in user, with that user's permissions.",
  "Tool names are <app>_<action>, e.g. notes_list. Only the tools this sign-in and this Nextcloud allow are listed.",
  "Tools annotated read-only never change anything; ask the user before calling a destructive tool.",
  "When a tool fails, its text says what went wrong and what to try instead.",
  "server_info tells who is signed in and with which scopes.",
].join(" ");

// Each Server would otherwise build its own Ajv instance (a fifth of the CPU of a tools/list). The
// validator holds only compiled schemas, no request data, so one serves every per-request server.
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();

/**
 * How long a client may reuse a tools/list answer (2026-07-28 `ttlMs`): the listing depends on the
 * token's scopes and on the user's Nextcloud apps, which the gateway itself caches for 5 minutes.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/utilities/caching
 */
const TOOLS_LIST_TTL_MS = 5 * 60_000;

/** The key of the /connect URL elicitation in a 2026-07-28 `input_required` result. */
const CONNECT_INPUT = "connect";

/** How the gateway introduces itself in `initialize` and `server/discover` (and in `server_info`). */
export const serverIdentity = { name: "nextcloud-mcp-gateway", version: VERSION } as const;

/** Options of `createMcpServer`. */
export interface McpServerOptions {
  /** The Nextcloud apps/capabilities enabled on the instance; tools needing others are hidden. */
  readonly capabilities?: ReadonlySet<string> | "all";
  /** The toolset: the group ids to show (the gateway's own tools always show); all when absent. */
  readonly apps?: ReadonlySet<string> | "all";
}

/**
 * A fresh MCP server for one request, offering only the tools the token's scopes and the instance's
 * capabilities allow. Never share one between requests: responses would leak across clients
 * (CVE-2026-25536).
 */
export function createMcpServer(
  registry: ToolRegistry,
  ctx: ToolContext,
  options: McpServerOptions = {},
): McpServer {
  const { listing, callable } = registry.select({
    scopes: ctx.scopes,
    capabilities: options.capabilities ?? "all",
    apps: options.apps ?? "all",
  });
  // The server answers tools/list and tools/call itself (declaring the capability lets it install
  // them): McpServer would convert every zod schema to JSON Schema on each tools/list (a few ms for
  // 30 tools) and answer an unknown tool with an isError result instead of a protocol error.
  const server = new McpServer(
    { ...serverIdentity },
    {
      instructions: INSTRUCTIONS,
      // No list-changed notifications: the endpoint is stateless and opens no subscription streams.
      capabilities: { tools: { listChanged: false } },
      jsonSchemaValidator: SHARED_VALIDATOR,
      // Only the 2026-07-28 answers carry these; the listing is the caller's own (private).
      cacheHints: {
        "tools/list": { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: "private" },
        "server/discover": { ttlMs: TOOLS_LIST_TTL_MS, cacheScope: "private" },
      },
    },
  );
  server.server.setRequestHandler("tools/list", () => ({ tools: [...listing] }));
  server.server.setRequestHandler("tools/call", async (request, extra) => {
    const tool = callable.get(request.params.name);
    // MCP 2025-11-25 (server/tools, error handling): an unknown tool is a protocol error. The
    // message goes on the wire as written (SDK 1.x prefixed "MCP error -32602: " to it, and the
    // client prefixed it once more).
    if (tool === undefined) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, unknownTool(request.params.name));
    }
    const args = await tool.input.safeParseAsync(request.params.arguments ?? {});
    if (!args.success) {
      // Bad input is the model's to correct: an isError result naming the field, as the SDK words it.
      return failure(
        `Input validation error: Invalid arguments for tool ${tool.name}: ${issues(args.error)}`,
      );
    }
    return withEitherSignal([ctx.signal, extra.mcpReq.signal], (signal) =>
      callTool(tool, args.data, { ...ctx, signal }, extra),
    );
  });
  return server;
}

function unknownTool(name: string): string {
  return (
    `Unknown tool: ${JSON.stringify(name.slice(0, 100))}. tools/list names the tools this sign-in can call; ` +
    "a tool is missing when its Nextcloud app is not available to you, the server URL's toolset (?apps=) " +
    "leaves it out, or the operator turned it off."
  );
}

// Each issue as "<message> at <path>", one per line (the wording the SDK's McpServer used).
function issues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length === 0 ? i.message : `${i.message} at ${i.path.map(String).join(".")}`))
    .join("\n");
}

// `args` has been validated against the input schema before this runs. Everything thrown here
// becomes an isError result, never a protocol error, so the model can read it and recover.
async function callTool(
  tool: AnyToolDefinition,
  args: Record<string, unknown>,
  ctx: ToolContext,
  request: ServerContext,
): Promise<CallToolResult | InputRequiredResult> {
  try {
    if (tool.requiresOfflineAccess === true) {
      const missing = await missingOfflineAccess(ctx.offline, request);
      if (missing !== undefined) return missing;
    }
    const result = tool.output.safeParse(await tool.handler(args, ctx));
    if (!result.success) throw new Error(`output does not match the schema: ${result.error.message}`);
    const output = result.data;
    const text = tool.text ? tool.text(output) : JSON.stringify(output, null, 2);
    return {
      structuredContent: output,
      content: [{ type: "text", text }, ...(tool.content?.(output) ?? [])],
    };
  } catch (err) {
    // A protocol-level answer the SDK passes to the client as a JSON-RPC error.
    if (err instanceof UrlElicitationRequiredError) throw err;
    if (err instanceof GatewayError) {
      ctx.log.warn({ tool: tool.name, err: describeError(err) }, "tool call failed");
      return failure(err.description);
    }
    ctx.log.error({ tool: tool.name, err: describeError(err) }, "tool call failed unexpectedly");
    return failure(
      `The tool failed unexpectedly; the gateway log has details (request id ${ctx.requestId}).`,
    );
  }
}

/**
 * Undefined when the user's offline access is active; else the answer to give instead of running
 * the tool, pointing at /connect: on 2026-07-28 an `input_required` result with a URL-mode
 * elicitation (the client opens the URL, then retries the call); on the 2025 revisions a URL-mode
 * elicitation error (-32042); a tool error naming the URL for clients that declared neither.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/mrtr
 * @see https://modelcontextprotocol.io/specification/2025-11-25/client/elicitation#url-elicitation-required-error
 */
async function missingOfflineAccess(
  offline: OfflineAccessContext | undefined,
  request: ServerContext,
): Promise<CallToolResult | InputRequiredResult | undefined> {
  if (offline === undefined || !offline.enabled) {
    return failure(
      "This tool works in the background for you, which needs offline access, and this gateway does not store offline access (its operator has not set SEALING_KEYS).",
    );
  }
  const { state } = await offline.state();
  if (state === "active") return undefined;
  const open = `Open ${offline.connectUrl} in your browser`;
  const message =
    state === "revoked"
      ? `This tool needs offline access, and yours was revoked. ${open} to reconnect, then try again.`
      : `This tool works in the background for you and needs offline access. ${open} to grant it once, then try again.`;
  // The envelope type names no keys; the SDK lifted exactly the reserved ones into it.
  const envelope = request.mcpReq.envelope as Record<string, unknown> | undefined;
  if (envelope?.[PROTOCOL_VERSION_META_KEY] !== undefined) {
    // A retry that answers the elicitation and still finds no grant gets the text, not a loop.
    const answer = request.mcpReq.inputResponses?.[CONNECT_INPUT] as { action?: unknown } | undefined;
    if (answer !== undefined) {
      return failure(
        answer.action === "accept"
          ? `Offline access is still not granted. ${open}, finish the sign-in there, then call this tool again.`
          : message,
      );
    }
    if (!declaresUrlElicitation(envelope[CLIENT_CAPABILITIES_META_KEY])) return failure(message);
    return inputRequired({
      inputRequests: { [CONNECT_INPUT]: inputRequired.elicitUrl({ message, url: offline.connectUrl }) },
    });
  }
  if (offline.urlElicitation) {
    throw new UrlElicitationRequiredError(
      [{ mode: "url", message, url: offline.connectUrl, elicitationId: randomUUID() }],
      message,
    );
  }
  return failure(message);
}

function declaresUrlElicitation(capabilities: unknown): boolean {
  const elicitation = (capabilities as { elicitation?: unknown } | null | undefined)?.elicitation;
  return typeof elicitation === "object" && elicitation !== null && "url" in elicitation;
}

function failure(text: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text }] };
}
