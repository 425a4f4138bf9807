import { SERVED_REVISIONS } from "../revisions.ts";
import { z } from "zod";
import { defineTool } from "../registry.ts";
import { serverIdentity } from "../server.ts";

/** Who the gateway thinks the caller is and what it offers; the tool to try first when something is off. */
export const serverInfo = defineTool({
  name: "server_info",
  title: "Gateway information",
  description:
    "Shows which gateway this is (name and version), which user it acts for (the subject of the access " +
    "token), the OAuth scopes the token carries, and the MCP protocol revisions the gateway speaks. " +
    "Use it to check who is signed in, or to find out why a tool is missing: tools that change data " +
    "need the mcp:write scope. Takes no arguments and changes nothing.",
  input: z.object({}),
  output: z.object({
    gateway: z
      .object({
        name: z.string().describe("The server's name."),
        version: z.string().describe("The gateway release."),
      })
      .describe("Which gateway this is: its `name` and `version`."),
    subject: z.string().describe("The user the gateway acts for: the `sub` of the access token."),
    scopes: z.array(z.string()).describe("The OAuth scopes the access token carries."),
    protocolVersions: z
      .array(z.string())
      .describe("The MCP protocol revisions the gateway negotiates, newest first."),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scopes: ["mcp:tools"],
  handler(_args, ctx) {
    return Promise.resolve({
      gateway: { ...serverIdentity },
      subject: ctx.subject,
      scopes: [...ctx.scopes],
      protocolVersions: [...SERVED_REVISIONS],
    });
  },
  text: (o) =>
    [
      `${o.gateway.name} ${o.gateway.version}`,
      `Signed in as: ${o.subject}`,
      `Scopes: ${o.scopes.length > 0 ? o.scopes.join(" ") : "(none)"}`,
      `MCP protocol revisions: ${o.protocolVersions.join(", ")}`,
    ].join("\n"),
});
