// Small tools for the registry and server tests: one per shape of behaviour the server must handle.
import { z } from "zod";
import { GatewayError } from "../../../src/errors.ts";
import { defineTool, type AnyToolDefinition } from "../../../src/mcp/index.ts";

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** A read-only tool with a typed argument and a custom text rendering. */
export const notesGet = defineTool({
  name: "notes_get",
  title: "Get a note",
  description: "Returns one note by its id.",
  input: z.object({
    id: z.number().int().describe("The note's numeric id, from notes_list."),
    format: z.enum(["markdown", "plain"]).optional().describe("How to render the content."),
  }),
  output: z.object({ id: z.number(), title: z.string() }),
  annotations: readOnly,
  scopes: ["mcp:tools"],
  capability: "notes",
  handler: (args) => Promise.resolve({ id: args.id, title: `Note ${args.id}` }),
  text: (o) => `#${o.id} ${o.title}`,
});

/** A tool that changes data, so it needs mcp:write. */
export const notesCreate = defineTool({
  name: "notes_create",
  title: "Create a note",
  description: "Creates a note.",
  input: z.object({ title: z.string().min(1).describe("The title.") }),
  output: z.object({ id: z.number() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  scopes: ["mcp:tools", "mcp:write"],
  capability: "notes",
  handler: () => Promise.resolve({ id: 42 }),
});

/** Fails the way a Nextcloud call fails: with a GatewayError whose description says what to do. */
export const filesRefused = defineTool({
  name: "files_refused",
  title: "Always refused",
  description: "Fails with a GatewayError.",
  input: z.object({}),
  output: z.object({}),
  annotations: readOnly,
  scopes: ["mcp:tools"],
  handler: () =>
    Promise.reject(
      new GatewayError("access_denied", "Nextcloud refused access to /Private; ask the owner to share it.", {
        detail: "PROPFIND 403",
      }),
    ),
});

/** Fails with a bug: the message holds internals that must not reach the client. */
export const filesBroken = defineTool({
  name: "files_broken",
  title: "Always broken",
  description: "Throws a plain error.",
  input: z.object({}),
  output: z.object({}),
  annotations: readOnly,
  scopes: ["mcp:tools"],
  handler: () =>
    Promise.reject(new TypeError("Cannot read properties of undefined (reading 'ocs') at x.ts:12")),
});

/** Returns something its output schema does not allow. */
export const filesMisshaped = defineTool({
  name: "files_misshaped",
  title: "Wrong output",
  description: "Returns a result that does not match its schema.",
  input: z.object({}),
  output: z.object({ count: z.number() }),
  annotations: readOnly,
  scopes: ["mcp:tools"],
  // @ts-expect-error -- deliberately the wrong type, as a buggy handler might return at runtime.
  handler: () => Promise.resolve({ count: "three" }),
});

/** Sees the signal it was given. */
export const calendarSignal = defineTool({
  name: "calendar_signal",
  title: "Report the signal",
  description: "Says whether its abort signal has fired.",
  input: z.object({}),
  output: z.object({ aborted: z.boolean() }),
  annotations: readOnly,
  scopes: ["mcp:tools"],
  capability: "calendar",
  handler: (_args, ctx) => Promise.resolve({ aborted: ctx.signal.aborted }),
});

/** All of the above. */
export const fixtureTools: readonly AnyToolDefinition[] = [
  notesGet,
  notesCreate,
  filesRefused,
  filesBroken,
  filesMisshaped,
  calendarSignal,
];
