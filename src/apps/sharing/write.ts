// The sharing tools that change data: share a file or folder (with a user, a group, by email or as
// a public link), change a share's permissions, expiry, password or note, and delete a share.
// Passwords go to Nextcloud only: no output, text or error repeats them.
import { z } from "zod";
import { badArguments, nextcloudOf, toolMaker } from "../../mcp/index.ts";
import {
  createShare,
  deleteShare,
  getShare,
  sharePath,
  sharingPolicy,
  updateShare,
  type ShareChange,
} from "./client.ts";
import {
  PERMISSION_NAMES,
  permissionMask,
  PERMISSIONS,
  SHARE_TYPES,
  shareLine,
  shareSchema,
  type PermissionName,
  type ShareKind,
} from "./model.ts";
import { createProblem, expiryRuleProblem, passwordRemovalProblem } from "./policy.ts";

const tool = toolMaker("sharing");

const permissionsField = z
  .array(z.enum(PERMISSION_NAMES as [PermissionName, ...PermissionName[]]))
  .min(1, 'Give at least one permission, e.g. ["read"].')
  .max(5)
  .describe("read, update, create, delete, share (create and delete apply to folders).");
const passwordField = z.string().min(1, "The password cannot be empty.").max(200);
const dateField = z.string().max(32);

/** Refuses a policy problem before any request. */
function refuse(problem: string | undefined): void {
  if (problem !== undefined) throw badArguments(problem);
}

/** sharing_create: share a file or folder. */
export const sharingCreate = tool.write({
  name: "sharing_create",
  title: "Share a file or folder",
  description:
    "Shares `path` with a user or group (shareWith from sharing_find_sharees), by email, or as a " +
    "public link (optionally with password and expiry). Returns the share, with the link's url.",
  input: z.object({
    path: z.string().max(4096).describe('A file or folder in the user\'s files, e.g. "/Documents/Plans".'),
    type: z
      .enum(["user", "group", "link", "email"])
      .describe("Who gets it: a user, a group, an email address, or anyone with the link."),
    shareWith: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .describe("uid, group id or email (not for links)."),
    permissions: permissionsField.optional().describe("Default: all for users and groups, read for links."),
    password: passwordField.optional().describe("For links and email shares; never shown again."),
    expireDate: dateField.optional().describe("YYYY-MM-DD, after today."),
    note: z.string().max(4000).optional().describe("A note for the recipient."),
    label: z.string().max(255).optional().describe("A name for a link."),
  }),
  output: z.object({ share: shareSchema }),
  destructive: false,
  idempotent: false,
  async handler(args, ctx) {
    const type: ShareKind = args.type;
    if (type === "link" && args.shareWith !== undefined) {
      throw badArguments(
        "A public link has no recipient: leave shareWith out, or use type user, group or email.",
      );
    }
    if (type !== "link" && args.shareWith === undefined) {
      throw badArguments(`A ${type} share needs shareWith: find it with sharing_find_sharees.`);
    }
    if (args.password !== undefined && type !== "link" && type !== "email") {
      throw badArguments(
        "Only links and email shares take a password; leave it out for user and group shares.",
      );
    }
    const path = sharePath(args.path);
    if (path === "/")
      throw badArguments("Nobody can share the root of their files; give a file or folder in it.");
    const nc = nextcloudOf(ctx);
    const mask = args.permissions === undefined ? undefined : permissionMask(args.permissions);
    const upload = mask !== undefined && (mask & ~(PERMISSIONS.read | PERMISSIONS.share)) !== 0;
    refuse(
      createProblem(
        await sharingPolicy(nc),
        { type, password: args.password, expireDate: args.expireDate, upload },
        new Date(),
      ),
    );
    const share = await createShare(
      nc,
      {
        path,
        shareType: SHARE_TYPES[type],
        ...(args.shareWith === undefined ? {} : { shareWith: args.shareWith }),
        ...(mask === undefined ? {} : { permissions: mask }),
        ...(args.password === undefined ? {} : { password: args.password }),
        ...(args.expireDate === undefined ? {} : { expireDate: args.expireDate }),
        ...(args.note === undefined ? {} : { note: args.note }),
        ...(args.label === undefined ? {} : { label: args.label }),
      },
      ctx.signal,
    );
    return { share };
  },
  text: (o) => `Shared:\n${shareLine(o.share)}`,
});

/** sharing_update: change a share's permissions, expiry, password or note. */
export const sharingUpdate = tool.write({
  name: "sharing_update",
  title: "Change a share",
  description:
    "Changes a share you made: permissions, expireDate or password (null removes them), note. " +
    "Returns the share as it is now.",
  input: z.object({
    id: z.string().min(1).max(64).describe("The share id (sharing_list)."),
    permissions: permissionsField.optional().describe("The new permissions, all of them."),
    password: passwordField.nullable().optional().describe("Links and email shares; null removes it."),
    expireDate: dateField.nullable().optional().describe("YYYY-MM-DD after today; null removes it."),
    note: z.string().max(4000).optional().describe("A new note for the recipient."),
  }),
  output: z.object({ share: shareSchema }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    const { id, permissions, password, expireDate, note } = args;
    if (
      permissions === undefined &&
      password === undefined &&
      expireDate === undefined &&
      note === undefined
    ) {
      throw badArguments("Nothing to change: give permissions, expireDate, password or note.");
    }
    const nc = nextcloudOf(ctx);
    const [current, policy] = await Promise.all([getShare(nc, id, ctx.signal), sharingPolicy(nc)]);
    const linkish = current.type === "link" || current.type === "email";
    if (password !== undefined && !linkish) {
      throw badArguments(
        `Share ${id} is a ${current.type} share; only links and email shares have a password.`,
      );
    }
    if (password === null) refuse(passwordRemovalProblem(policy, current.type));
    if (typeof expireDate === "string")
      refuse(expiryRuleProblem(policy, current.type, expireDate, new Date()));
    const change: ShareChange = {
      ...(permissions === undefined ? {} : { permissions: permissionMask(permissions) }),
      ...(password === undefined ? {} : { password: password ?? "" }),
      ...(expireDate === undefined ? {} : { expireDate: expireDate ?? "" }),
      ...(note === undefined ? {} : { note }),
    };
    return { share: await updateShare(nc, id, change, ctx.signal) };
  },
  text: (o) => `Changed:\n${shareLine(o.share)}`,
});

/** sharing_delete: delete a share (or leave a share received through a group). */
export const sharingDelete = tool.write({
  name: "sharing_delete",
  title: "Delete a share",
  description:
    "Deletes a share: the recipients lose access (the files stay with their owner). On a share " +
    "you received, removes it from your files.",
  input: z.object({ id: z.string().min(1).max(64).describe("The share id (sharing_list).") }),
  output: z.object({ id: z.string() }),
  destructive: true,
  idempotent: true,
  async handler(args, ctx) {
    await deleteShare(nextcloudOf(ctx), args.id, ctx.signal);
    return { id: args.id };
  },
  text: (o) => `Deleted share #${o.id}.`,
});
