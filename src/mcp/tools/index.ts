// The tools the gateway offers, one group per Nextcloud app plus the gateway's own.
// Adding a group here adds it to tools/list (subject to scopes, apps and toolsets) and to docs/tools.
import { defineGroup, type ToolGroup } from "../group.ts";
import type { AnyToolDefinition } from "../registry.ts";
import { filesGroup } from "./files.ts";
import { notesGroup } from "./notes.ts";
import { offlineAccessStatus } from "./offline-access.ts";
import { serverInfo } from "./server-info.ts";
import { whoami } from "./whoami.ts";

/** The gateway's own tools: shown in every toolset. */
export const gatewayGroup = defineGroup({
  id: "gateway",
  title: "Gateway",
  description: "Who is signed in, with which scopes, and whether background (offline) access is granted.",
  always: true,
  tools: [serverInfo, whoami, offlineAccessStatus],
});

/** Every group, in the order tools/list and the docs show them. */
export const allGroups: readonly ToolGroup[] = [gatewayGroup, notesGroup, filesGroup];

/** Every tool, in the order tools/list and docs/tools.md show them. */
export const allTools: readonly AnyToolDefinition[] = allGroups.flatMap((g) => g.tools);
