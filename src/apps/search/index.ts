// Search across Nextcloud: the `search` tool over Nextcloud's unified search (live), which every
// Nextcloud has, so the group needs no app. The content index of issue 10 §2 will answer through
// the same tool for users who granted offline access.
import { defineGroup } from "../../mcp/index.ts";
import { search } from "./search.ts";

export const searchGroup = defineGroup({
  id: "search",
  title: "Search",
  description:
    "Find items across the user's Nextcloud apps with Nextcloud's unified search, each hit with the tool call that opens it.",
  tools: [search],
});
