// The sharing tools that change nothing: the shares (of a path, of a folder's items, received, or
// one by id) and the search for recipients by name.
import { z } from "zod";
import {
  badArguments,
  nextcloudOf,
  pageInput,
  pageOf,
  pageOutput,
  pageText,
  toolMaker,
} from "../../mcp/index.ts";
import { findSharees, getShare, listShares, sharePath, sharingPolicy } from "./client.ts";
import { shareeSchema, shareLine, shareSchema } from "./model.ts";

const tool = toolMaker("sharing");

/** sharing_list: shares by the user, of a path, received, or one by id; paged by the gateway. */
export const sharingList = tool.read({
  name: "sharing_list",
  title: "List shares",
  description:
    "The user's shares (all, or of `path`), the shares of a folder's items (subfiles), the ones " +
    "others made with the user (sharedWithMe), or one share by `id`.",
  input: z.object({
    id: z.string().max(64).optional().describe("One share by id; no other argument."),
    path: z
      .string()
      .max(4096)
      .optional()
      .describe('A file or folder in the user\'s files, e.g. "/Documents".'),
    sharedWithMe: z.boolean().default(false).describe("Shares others made with the user."),
    reshares: z.boolean().default(false).describe("Also shares others made of the user's files."),
    subfiles: z.boolean().default(false).describe("The shares of the items inside the folder `path`."),
    ...pageInput("shares", 50, 200),
  }),
  output: z.object({ shares: z.array(shareSchema), ...pageOutput }),
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    if (args.id !== undefined) {
      if (args.path !== undefined || args.sharedWithMe || args.reshares || args.subfiles) {
        throw badArguments("id names one share; give it alone, or leave it out to list shares.");
      }
      return { shares: [await getShare(nc, args.id, ctx.signal)], offset: 0, total: 1, nextOffset: null };
    }
    if (args.subfiles && args.path === undefined) {
      throw badArguments("subfiles lists the shares inside a folder: give the folder as path.");
    }
    const shares = await listShares(
      nc,
      {
        ...(args.path === undefined ? {} : { path: sharePath(args.path) }),
        sharedWithMe: args.sharedWithMe,
        reshares: args.reshares,
        subfiles: args.subfiles,
      },
      ctx.signal,
    );
    const page = pageOf(shares, args.offset, args.limit);
    return { shares: page.items, offset: page.offset, total: page.total, nextOffset: page.nextOffset };
  },
  text: (o) => pageText(o, o.shares, "share", "No shares.", shareLine),
});

/** sharing_find_sharees: users, groups and email addresses to share with, by name. */
export const sharingFindSharees = tool.read({
  name: "sharing_find_sharees",
  title: "Find people to share with",
  description:
    'Finds users, groups (and email addresses) by name, e.g. "Bob"; pass a result\'s type and ' +
    "shareWith to sharing_create.",
  input: z.object({
    search: z.string().trim().min(1, "Give a name to search for.").max(200).describe("A name, id or email."),
    itemType: z.enum(["file", "folder"]).default("file").describe("What will be shared."),
    limit: z.number().int().min(1).max(50).default(10).describe("At most this many (1-50, default 10)."),
  }),
  output: z.object({ sharees: z.array(shareeSchema) }),
  async handler(args, ctx) {
    const nc = nextcloudOf(ctx);
    const policy = await sharingPolicy(nc);
    const sharees = await findSharees(
      nc,
      { search: args.search, itemType: args.itemType, limit: args.limit, lookup: policy.lookupDefault },
      ctx.signal,
    );
    return { sharees };
  },
  text: (o) =>
    o.sharees.length === 0
      ? "Nobody found; try another spelling, or an email address to share by email."
      : o.sharees
          .map(
            (s) =>
              `- ${s.label}${s.detail === null || s.detail === s.label ? "" : ` <${s.detail}>`}: type ${s.type}, shareWith ${s.shareWith}${s.exact ? " (exact)" : ""}`,
          )
          .join("\n"),
});
