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

/**
 * Renders docs/tools.md from the registry, so the reference cannot drift from the code. The output is
 * already in Prettier's form (aligned tables), so formatting the docs folder does not change it.
 */
export function renderToolsDoc(registry: ToolRegistry): string {
  const tools = registry.all();
  const out = [
    "# Tool reference",
    "",
    "<!-- Generated from the tool registry (src/mcp/tools/) by `npm run docs:gen`. Do not edit by hand: a test fails when this file and the registry differ. -->",
    "",
    "The MCP tools the gateway offers. `tools/list` shows a client only the tools its access token's scopes",
    "allow (every tool needs `mcp:tools`; tools that change data also need `mcp:write`) and, for a tool tied",
    "to a Nextcloud app, only when that app is enabled on the instance. The annotations are hints for the",
    "client: read-only tools change nothing, destructive ones may delete or overwrite data, idempotent ones",
    "can be repeated safely, and open-world ones reach beyond the user's Nextcloud.",
    "",
    ...table(
      ["tool", "title", "scopes", "Nextcloud app", "annotations"],
      tools.map((t) => [
        `[\`${t.name}\`](#${t.name})`,
        escape(t.title),
        t.scopes.map((s) => `\`${s}\``).join(" "),
        t.capability === undefined ? "any" : `\`${t.capability}\``,
        hints(t.annotations),
      ]),
    ),
  ];
  for (const t of tools) out.push("", ...section(registry, t));
  out.push("");
  return out.join("\n");
}

function section(registry: ToolRegistry, tool: AnyToolDefinition): string[] {
  const listing = registry.listing(tool.name);
  return [
    `## ${tool.name}`,
    "",
    `**${escape(tool.title)}**: ${hints(tool.annotations)}; needs ${tool.scopes.map((s) => `\`${s}\``).join(", ")}.`,
    "",
    tool.description,
    "",
    ...fields("Input", listing?.inputSchema),
    "",
    ...fields("Output", listing?.outputSchema),
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
