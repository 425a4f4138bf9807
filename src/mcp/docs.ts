import { z } from "zod";
import type { AnyToolDefinition, ToolHints, ToolRegistry } from "./registry.ts";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** One generated page: its path from the repository root, and its Markdown. */
export interface DocPage {
  path: string;
  content: string;
}

/**
 * Renders docs/tools.md (the index: apps, toolsets, every tool) and one page per app under
 * docs/tools/, from the registry, so the reference cannot drift from the code. The output is
 * already in Prettier's form (aligned tables), so formatting the docs folder does not change it.
 */
export function renderToolDocs(registry: ToolRegistry): DocPage[] {
  const apps = appsOf(registry);
  const index = [
    "# Tool reference",
    "",
    GENERATED,
    "",
    "The MCP tools the gateway offers, one group per Nextcloud app. `tools/list` shows a client only the tools",
    "its access token's scopes allow (every tool needs `mcp:tools`; tools that change data also need",
    "`mcp:write`), only the apps that are installed and usable for the user, and only the apps of the",
    "toolset the client asked for: `<gateway>/mcp?apps=notes,files` (see [auth flows](auth-flows.md#toolsets));",
    "the gateway's own tools are always listed. The annotations are hints for the client: read-only tools",
    "change nothing, destructive ones may delete or overwrite data, idempotent ones can be repeated safely,",
    "and open-world ones reach beyond the user's Nextcloud.",
    "",
    "## Apps",
    "",
    ...table(
      ["app", "toolset", "tools", "what it does"],
      apps.map((a) => [
        `[${escape(a.title)}](tools/${a.id}.md)`,
        a.always ? "always" : `\`?apps=${a.id}\``,
        String(a.tools.length),
        escape(a.description),
      ]),
    ),
    "",
    "## Tools",
    "",
    ...table(
      ["tool", "title", "scopes", "app", "annotations"],
      apps.flatMap((a) =>
        a.tools.map((t) => [
          `[\`${t.name}\`](tools/${a.id}.md#${t.name})`,
          escape(t.title),
          t.scopes.map((sc) => `\`${sc}\``).join(" "),
          `\`${a.id}\``,
          hints(t.annotations),
        ]),
      ),
    ),
    "",
  ];
  const pages = apps.map((a) => {
    const out = [
      `# ${a.title} tools`,
      "",
      GENERATED,
      "",
      a.description,
      "",
      a.always
        ? "These tools are listed in every toolset."
        : `Toolset: \`<gateway>/mcp?apps=${a.id}\` lists only these tools (with the gateway's own). Back to the [tool reference](../tools.md).`,
    ];
    for (const t of a.tools) out.push("", ...section(t));
    out.push("");
    return { path: `docs/tools/${a.id}.md`, content: out.join("\n") };
  });
  return [{ path: "docs/tools.md", content: index.join("\n") }, ...pages];
}

const GENERATED =
  "<!-- Generated from the tool registry (src/apps/*/) by `npm run docs:gen`. Do not edit by hand: a test fails when this file and the registry differ. -->";

interface AppDoc {
  id: string;
  title: string;
  description: string;
  always: boolean;
  tools: readonly AnyToolDefinition[];
}

// The registry's groups; for a registry made of bare tools (tests), groups named after their tools.
function appsOf(registry: ToolRegistry): AppDoc[] {
  const groups = registry.groups();
  if (groups.length > 0) {
    return groups.map((g) => ({ ...g, always: g.always === true }));
  }
  const byId = new Map<string, AnyToolDefinition[]>();
  for (const t of registry.all()) {
    const id = registry.groupOf(t.name) ?? t.name;
    byId.set(id, [...(byId.get(id) ?? []), t]);
  }
  return [...byId].map(([id, tools]) => ({
    id,
    title: id,
    description: `The ${id} tools.`,
    always: false,
    tools,
  }));
}

function section(tool: AnyToolDefinition): string[] {
  // The full schemas, output field descriptions included (tools/list leaves those out).
  const input = z.toJSONSchema(tool.input, { target: "draft-7", io: "input" }) as JsonSchema;
  const output = z.toJSONSchema(tool.output, { target: "draft-7", io: "output" }) as JsonSchema;
  return [
    `## ${tool.name}`,
    "",
    `**${escape(tool.title)}**: ${hints(tool.annotations)}; needs ${tool.scopes.map((s) => `\`${s}\``).join(", ")}.`,
    "",
    tool.description,
    "",
    ...fields("Input", input),
    "",
    ...fields("Output", output),
  ];
}

function fields(label: string, schema: JsonSchema | undefined): string[] {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return [`${label}: none.`];
  const required = new Set(schema?.required ?? []);
  return [
    `${label}:`,
    "",
    ...table(
      ["field", "type", "required", "meaning"],
      properties.map(([name, p]) => [
        `\`${name}\``,
        escape(typeOf(p)),
        required.has(name) ? "yes" : "no",
        escape(p.description ?? ""),
      ]),
    ),
  ];
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `array of ${schema.items ? typeOf(schema.items) : "any"}`;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  return schema.type ?? "any";
}

function hints(a: ToolHints): string {
  return [
    a.readOnlyHint ? "read-only" : a.destructiveHint ? "destructive" : "additive",
    ...(a.idempotentHint ? ["idempotent"] : []),
    a.openWorldHint ? "open-world" : "closed-world",
  ].join(", ");
}

function escape(cell: string): string {
  return cell.replaceAll("|", "\\|");
}

// Prettier pads every cell to its column's width; doing the same keeps the file stable under it.
function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}
