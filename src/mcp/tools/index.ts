// The gateway's own tools (not tied to a Nextcloud app): who is signed in, what the gateway is, and
// whether offline access is granted. The apps' tools live in src/apps/<app>/; app.ts lists the groups.
import { defineGroup } from "../group.ts";
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
