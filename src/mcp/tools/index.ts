// The tools the gateway offers, one file per Nextcloud app (plus the gateway's own server_info).
// Adding a tool here adds it to tools/list (subject to scopes and capabilities) and to docs/tools.md.
import type { AnyToolDefinition } from "../registry.ts";
import { filesTools } from "./files.ts";
import { notesTools } from "./notes.ts";
import { offlineAccessStatus } from "./offline-access.ts";
import { serverInfo } from "./server-info.ts";
import { whoami } from "./whoami.ts";

/** Every tool, in the order tools/list and docs/tools.md show them. */
export const allTools: readonly AnyToolDefinition[] = [
  serverInfo,
  whoami,
  offlineAccessStatus,
  ...notesTools,
  ...filesTools,
];
