// The MCP side of the gateway: the tool registry, the per-request MCP server built from it, the
// scope check the HTTP layer runs before the transport, and the generated docs/tools.md.
export {
  compactSchema,
  shallowOutput,
  defineTool,
  ToolRegistry,
  type AnyToolDefinition,
  type ToolDefinition,
  type ToolHints,
  type ToolVisibility,
} from "./registry.ts";
export {
  defineGroup,
  toolMaker,
  READ_SCOPES,
  WRITE_SCOPES,
  type ToolGroup,
  type ToolMaker,
  type ToolSpec,
  type WriteToolSpec,
} from "./group.ts";
export {
  badArguments,
  explained,
  mapLimited,
  pageInput,
  pageOf,
  pageOutput,
  pageText,
  reword,
} from "./kit.ts";
export {
  nextcloudOf,
  type OfflineAccessContext,
  type SearchIndexContext,
  type ToolContext,
  type ToolLogger,
} from "./context.ts";
export { createMcpServer, serverIdentity, type McpServerOptions } from "./server.ts";
export { requiredScopesForCall } from "./required-scopes.ts";
export { plainlyLegacyRequest, refuseMessage, type Refusal } from "./message-checks.ts";
export { LEGACY_REVISIONS } from "./revisions.ts";
export { gatewayGroup } from "./tools/index.ts";
export { applyToolPolicy, appsFromClaim, intersectApps, parseToolset, type ToolPolicy } from "./toolset.ts";
export { renderToolDocs, type DocPage } from "./docs.ts";
