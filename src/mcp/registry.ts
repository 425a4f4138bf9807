import type { ContentBlock, Tool } from "@modelcontextprotocol/server";
import { z } from "zod";
import { BoundedCache } from "../cache.ts";
import type { ToolContext } from "./context.ts";
import type { ToolGroup } from "./group.ts";

const NAME = /^[a-z]+(_[a-z]+)*$/;
/** The one casing rule for argument names, checked when a tool is defined: lowerCamelCase. */
const ARGUMENT = /^[a-z][a-zA-Z0-9]*$/;
const TOOLS_SCOPE = "mcp:tools";
const WRITE_SCOPE = "mcp:write";

/** The MCP tool annotations, all four stated explicitly so no tool relies on the spec's defaults. */
export interface ToolHints {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

/** A tool as declared once in `tools/<app>.ts`; `handler` and `text` are typed from the two schemas. */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  /** `<app>_<action>`, e.g. `notes_list`. */
  readonly name: string;
  /** A short human-readable name, shown by clients. */
  readonly title: string;
  /** Written for a model: what the tool does, when to use it, what it returns. */
  readonly description: string;
  /** The arguments; field descriptions end up in the JSON Schema the model sees and in docs/tools.md. */
  readonly input: I;
  /** The structured result (`structuredContent`). */
  readonly output: O;
  readonly annotations: ToolHints;
  /** OAuth scopes the caller's token must carry: always `mcp:tools`, plus `mcp:write` if it changes data. */
  readonly scopes: readonly string[];
  /** The Nextcloud app or capability the tool needs (e.g. `notes`); absent if it works everywhere. */
  readonly capability?: string;
  /**
   * The tool works for the user in the background and needs their offline access: without it the
   * call is answered with the /connect URL (as a URL-mode elicitation where the client supports it).
   */
  readonly requiresOfflineAccess?: boolean;
  /** Does the work; throw a `GatewayError` with an actionable description for expected failures. */
  handler(args: z.output<I>, ctx: ToolContext): Promise<z.output<O>>;
  /** The text rendering of a result for clients that ignore `structuredContent`; JSON by default. */
  text?(output: z.output<O>): string;
  /** Content blocks to add after the text, e.g. a `resource_link` to a file not shown inline. */
  content?(output: z.output<O>): ContentBlock[];
}

/** Any tool, with its schema types erased; what the registry and the server work with. */
export type AnyToolDefinition = ToolDefinition;

/**
 * What decides which tools a request sees: the token's scopes, the Nextcloud apps usable for the
 * user, and the toolset the client or operator chose.
 */
export interface ToolVisibility {
  readonly scopes: readonly string[];
  /** Nextcloud apps/capabilities usable for this user, or `"all"` when they are not known. */
  readonly capabilities: ReadonlySet<string> | "all";
  /** The toolset: group ids to show (the gateway's own tools always show); all when absent. */
  readonly apps?: ReadonlySet<string> | "all";
}

/**
 * Declares a tool, checking at startup what the types cannot: the name's shape, the scope rules and
 * that the annotations do not contradict each other.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  definition: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  const { name, annotations: a, scopes } = definition;
  const problems: string[] = [];
  if (!NAME.test(name)) problems.push("the name must look like <app>_<action> (lowercase letters and _)");
  if (definition.title.trim() === "") problems.push("the title is empty");
  if (definition.description.trim() === "") problems.push("the description is empty");
  if (!scopes.includes(TOOLS_SCOPE)) problems.push(`scopes must include ${TOOLS_SCOPE}`);
  if (!a.readOnlyHint && !scopes.includes(WRITE_SCOPE))
    problems.push(`a tool that changes data (readOnlyHint: false) must require ${WRITE_SCOPE}`);
  if (a.readOnlyHint && a.destructiveHint) problems.push("a read-only tool cannot be destructive");
  const badArgs = Object.keys(definition.input.shape).filter((k) => !ARGUMENT.test(k));
  if (badArgs.length > 0) problems.push(`argument names must be lowerCamelCase: ${badArgs.join(", ")}`);
  if (problems.length > 0) throw new Error(`Tool "${name}": ${problems.join("; ")}.`);
  return Object.freeze({ ...definition, scopes: Object.freeze([...scopes]) });
}

/** The tools one request sees, with what its server needs of them; shared by all such requests. */
export interface ToolSelection {
  readonly tools: readonly AnyToolDefinition[];
  /** Their `tools/list` entries, in the same order. */
  readonly listing: readonly Tool[];
  /** The same tools by name. */
  readonly callable: ReadonlyMap<string, AnyToolDefinition>;
}

/**
 * Distinct selections kept: one per combination of scopes, usable apps and toolset in use, which is
 * a handful per deployment; the bound only stops tokens with made-up scopes from growing it.
 */
const SELECTIONS_KEPT = 256;

interface Entry {
  readonly tool: AnyToolDefinition;
  readonly listing: Tool;
  /** The group the tool belongs to (its id), and whether that group shows in every toolset. */
  readonly group: string;
  readonly always: boolean;
}

/**
 * The tools the gateway offers, built once at startup. It also computes each tool's `tools/list`
 * entry (JSON Schemas included) up front, so a request only filters and copies references.
 */
export class ToolRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #groups: readonly ToolGroup[];
  readonly #selections = new BoundedCache<string, ToolSelection>({ maxEntries: SELECTIONS_KEPT });

  /**
   * From tool groups (the gateway), or from bare tools (tests), which then belong to the group
   * named by their capability, or by their name's first word.
   */
  constructor(source: readonly ToolGroup[] | readonly AnyToolDefinition[]) {
    const groups = source.filter((s): s is ToolGroup => "tools" in s);
    this.#groups = Object.freeze(groups);
    const loose = source.filter((s): s is AnyToolDefinition => !("tools" in s));
    const add = (tool: AnyToolDefinition, group: string, always: boolean) => {
      if (this.#entries.has(tool.name)) throw new Error(`Tool "${tool.name}" is defined twice.`);
      this.#entries.set(tool.name, { tool, listing: listingOf(tool), group, always });
    };
    for (const g of groups) for (const t of g.tools) add(t, g.id, g.always === true);
    for (const t of loose) add(t, t.capability ?? t.name.split("_")[0] ?? t.name, false);
  }

  /** The groups the registry was built from, in order (none when built from bare tools). */
  groups(): readonly ToolGroup[] {
    return this.#groups;
  }

  /** The id of the group a tool belongs to. */
  groupOf(name: string): string | undefined {
    return this.#entries.get(name)?.group;
  }

  /** The tool with this name, if there is one. */
  get(name: string): AnyToolDefinition | undefined {
    return this.#entries.get(name)?.tool;
  }

  /** Every tool, in declaration order. */
  all(): AnyToolDefinition[] {
    return [...this.#entries.values()].map((e) => e.tool);
  }

  /** The tools a caller with these scopes may use on an instance with these capabilities. */
  visible(by: ToolVisibility): AnyToolDefinition[] {
    const granted = new Set(by.scopes);
    const apps = by.apps ?? "all";
    return [...this.#entries.values()]
      .filter(
        ({ tool: t, group, always }) =>
          t.scopes.every((s) => granted.has(s)) &&
          (t.capability === undefined || by.capabilities === "all" || by.capabilities.has(t.capability)) &&
          (always || apps === "all" || apps.has(group)),
      )
      .map((e) => e.tool);
  }

  /**
   * `visible(by)` with its listing and lookup map, computed once per distinct `by` (the registry
   * never changes, so the answer is the same each time): what every request's server is built from.
   */
  select(by: ToolVisibility): ToolSelection {
    const key = JSON.stringify([
      by.scopes,
      by.capabilities === "all" ? "all" : [...by.capabilities],
      by.apps === undefined || by.apps === "all" ? "all" : [...by.apps],
    ]);
    const known = this.#selections.get(key);
    if (known !== undefined) return known;
    const tools = Object.freeze(this.visible(by));
    const selection: ToolSelection = Object.freeze({
      tools,
      listing: Object.freeze(tools.flatMap((t) => this.#entries.get(t.name)?.listing ?? [])),
      callable: new Map(tools.map((t) => [t.name, t])),
    });
    this.#selections.set(key, selection);
    return selection;
  }

  /** The precomputed `tools/list` entry of a tool. */
  listing(name: string): Tool | undefined {
    return this.#entries.get(name)?.listing;
  }
}

// The same conversion as McpServer's own tools/list handler in SDK 1.32.2 (draft-07, input side
// for arguments, output side for results), then trimmed of what costs a model's context and tells
// it nothing (see compactSchema); a test checks that the SDK still validates with the result.
function listingOf(tool: AnyToolDefinition): Tool {
  const input = z.toJSONSchema(tool.input, { target: "draft-7", io: "input" });
  const output = z.toJSONSchema(tool.output, { target: "draft-7", io: "output" });
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: compactSchema(input, { descriptions: true }) as Tool["inputSchema"],
    annotations: { ...tool.annotations },
    outputSchema: shallowOutput(compactSchema(output, { descriptions: false })) as Tool["outputSchema"],
  };
}

/**
 * An output schema one level deep: the result's fields with their JSON types, and nested objects and
 * arrays as bare `object` / `array`. It still validates every result the tool returns (only less
 * strictly inside); the full shapes are in docs/tools/<app>.md and the text result. Nested output
 * shapes were a third of tools/list and tell a model little before it has called the tool.
 */
export function shallowOutput(schema: unknown): unknown {
  if (schema === null || typeof schema !== "object") return schema;
  const s = schema as Record<string, unknown>;
  const properties = s.properties as Record<string, unknown> | undefined;
  if (properties === undefined) return schema;
  return {
    ...s,
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeOnly(v)])),
  };
}

// The JSON type(s) of a schema, keeping nullability and alternatives, without nested detail.
function typeOnly(schema: unknown): unknown {
  if (schema === null || typeof schema !== "object") return schema;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) return { anyOf: s.anyOf.map(typeOnly) };
  if (s.type === undefined) return {};
  return { type: s.type, ...(s.enum === undefined ? {} : { enum: s.enum }) };
}

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A JSON Schema without the noise zod adds: the `$schema` URL, integer bounds that only restate
 * JavaScript's safe-integer range, and (for output schemas) per-field descriptions, which stay in
 * docs/tools.md, and `additionalProperties: false`. Argument descriptions stay: they are what the
 * model needs to call the tool. (`execution` is left out too: absent means no task support.)
 */
export function compactSchema(schema: unknown, o: { descriptions: boolean }, depth = 0): unknown {
  if (Array.isArray(schema)) return schema.map((s) => compactSchema(s, o, depth + 1));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema") continue;
    // Output objects are closed by construction (the gateway builds them); saying so costs tokens.
    if (key === "additionalProperties" && value === false && !o.descriptions) continue;
    if ((key === "minimum" && value === -SAFE) || (key === "maximum" && value === SAFE)) continue;
    if (key === "description" && !o.descriptions && depth > 0) continue;
    // Property maps and definitions are keyed by name: their keys are data, not schema keywords.
    out[key] =
      key === "properties" || key === "definitions" || key === "$defs"
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([k, v]) => [
              k,
              compactSchema(v, o, depth + 1),
            ]),
          )
        : compactSchema(value, o, depth + 1);
  }
  return out;
}
