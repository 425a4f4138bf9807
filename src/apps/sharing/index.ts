// Sharing (files_sharing's OCS Share API v1): list, create, change and delete shares of the user's
// files with users, groups, email addresses and public links, and find recipients by name. The
// administrator's policy comes from the files_sharing capabilities (policy.ts).
import { defineGroup } from "../../mcp/index.ts";
import { sharingPolicy } from "./client.ts";
import { sharingFindSharees, sharingList } from "./read.ts";
import { sharingCreate, sharingDelete, sharingUpdate } from "./write.ts";

/** The sharing tools: there when the user's capabilities say the Share API is enabled. */
export const sharingGroup = defineGroup({
  id: "sharing",
  title: "Sharing",
  description:
    "Share the user's files and folders with people, groups, email addresses and public links; list, change and delete shares.",
  available: async (nextcloud) => (await sharingPolicy(nextcloud)).apiEnabled,
  tools: [sharingList, sharingFindSharees, sharingCreate, sharingUpdate, sharingDelete],
});
