// Tool groups: the tools of one Nextcloud app (or of the gateway itself) with what they share. A
// group's factory fills in what every tool repeats (name prefix, scopes from read or write, the
// annotations, the app the tool needs), so that a tool is its name, input, output and handler.
import type { z } from "zod";
import type { NextcloudClient } from "../nextcloud/index.ts";
import { defineTool, type AnyToolDefinition, type ToolDefinition } from "./registry.ts";

/** The scopes of a tool that changes nothing, and of one that changes data. */
export const READ_SCOPES: readonly string[] = ["mcp:tools"];
export const WRITE_SCOPES: readonly string[] = ["mcp:tools", "mcp:write"];

/** What an app group says about itself; the registry and the HTTP layer need nothing else. */
export interface ToolGroup {
  /** The app id: the tools' name prefix, the toolset name (`/mcp?apps=<id>`) and docs/tools/<id>.md. */
  readonly id: string;
  /** A short human-readable name, e.g. "Calendar and tasks". */
  readonly title: string;
  /** One or two sentences for docs and the toolset list: what the group lets an assistant do. */
  readonly description: string;
  /**
   * Whether the app is installed and usable for this user (capabilities, a route probe). Absent for
   * groups that work wherever the gateway works (its own tools). Throwing means "unknown": the
   * tools stay listed and fail with their own message rather than vanishing.
   */
  readonly available?: (nextcloud: NextcloudClient, signal: AbortSignal) => Promise<boolean>;
  /** Shown in every toolset, whatever the client or operator selects (the gateway's own tools). */
  readonly always?: boolean;
  readonly tools: readonly AnyToolDefinition[];
}

/** A tool as an app writes it: the group supplies scopes, annotations and the app it needs. */
export type ToolSpec<I extends z.ZodObject, O extends z.ZodObject> = Omit<
  ToolDefinition<I, O>,
  "annotations" | "scopes" | "capability"
> & {
  /** The tool reaches beyond the user's Nextcloud (default false). */
  readonly openWorld?: boolean;
};

/** A tool that changes data: say whether it can destroy data and whether repeating it is harmless. */
export type WriteToolSpec<I extends z.ZodObject, O extends z.ZodObject> = ToolSpec<I, O> & {
  readonly destructive: boolean;
  readonly idempotent: boolean;
};

/** The makers of one group's tools. */
export interface ToolMaker {
  /** A tool that changes nothing: `mcp:tools`, read-only, idempotent. */
  read<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): ToolDefinition<I, O>;
  /** A tool that changes data: `mcp:tools mcp:write`. */
  write<I extends z.ZodObject, O extends z.ZodObject>(spec: WriteToolSpec<I, O>): ToolDefinition<I, O>;
}

/**
 * The tool makers of the group `id`: every tool's name must be the id itself or start with
 * `<prefix>_` (the id unless given), and it needs the app `id` unless `capability` is null (tools that work everywhere).
 */
export function toolMaker(id: string, o: { prefix?: string; capability?: string | null } = {}): ToolMaker {
  const prefix = `${o.prefix ?? id}_`;
  const capability = o.capability === undefined ? id : o.capability;
  const check = (name: string) => {
    if (name !== id && !name.startsWith(prefix))
      throw new Error(`Tool "${name}": tools of the ${id} group are named ${id} or start with ${prefix}.`);
  };
  const base = <I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>) => {
    check(spec.name);
    const { openWorld, ...rest } = spec;
    return { rest, openWorldHint: openWorld ?? false, cap: capability === null ? {} : { capability } };
  };
  return {
    read(spec) {
      const { rest, openWorldHint, cap } = base(spec);
      return defineTool({
        ...rest,
        ...cap,
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint },
        scopes: READ_SCOPES,
      });
    },
    write(spec) {
      const { destructive, idempotent, ...tool } = spec;
      const { rest, openWorldHint, cap } = base(tool);
      return defineTool({
        ...rest,
        ...cap,
        annotations: {
          readOnlyHint: false,
          destructiveHint: destructive,
          idempotentHint: idempotent,
          openWorldHint,
        },
        scopes: WRITE_SCOPES,
      });
    },
  };
}

const GROUP_ID = /^[a-z]+$/;

/** Declares a group, checking that its id has the shape toolsets and file names rely on. */
export function defineGroup(group: ToolGroup): ToolGroup {
  if (!GROUP_ID.test(group.id))
    throw new Error(`Tool group "${group.id}": the id must be lowercase letters.`);
  if (group.tools.length === 0) throw new Error(`Tool group "${group.id}" has no tools.`);
  return Object.freeze({ ...group, tools: Object.freeze([...group.tools]) });
}
