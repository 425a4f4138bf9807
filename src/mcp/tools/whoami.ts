import { z } from "zod";
import { nextcloudOf } from "../context.ts";
import { defineTool } from "../registry.ts";

/** The signed-in user as Nextcloud knows them: proves the whole chain (sign-in, exchange, user_oidc). */
export const whoami = defineTool({
  name: "whoami",
  title: "Who am I in Nextcloud",
  description:
    "Shows the Nextcloud account the tools act as: its user id (which Nextcloud may have derived from " +
    "the sign-in), display name and email, and the Nextcloud version. Use it to confirm that the " +
    "connection to Nextcloud works before other tools, or when a tool says access was refused. " +
    "Takes no arguments and changes nothing.",
  input: z.object({}),
  output: z.object({
    userId: z.string().describe("The Nextcloud user id; file paths of this user live under it."),
    displayName: z.string().describe("The name Nextcloud shows for the user."),
    email: z.string().nullable().describe("The user's email address in Nextcloud, if any."),
    nextcloudVersion: z.string().describe("The Nextcloud server version."),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  capability: "nextcloud",
  async handler(_args, ctx) {
    const nextcloud = nextcloudOf(ctx);
    const [user, caps] = await Promise.all([nextcloud.user(), nextcloud.capabilities()]);
    return {
      userId: user.id,
      displayName: user.displayName,
      email: user.email,
      nextcloudVersion: caps.version.string,
    };
  },
  text: (o) =>
    `Nextcloud user ${o.userId} (${o.displayName}${o.email ? `, ${o.email}` : ""}) on Nextcloud ${o.nextcloudVersion}`,
});
