// Which tools exist (the operator's allow and deny lists, applied once at start-up) and which a
// request sees (the toolset its URL asks for, the apps an IdP claim grants the user).
import type { ToolGroup } from "./group.ts";

/** The operator's lists: tool names or group ids. */
export interface ToolPolicy {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/**
 * The groups less what the operator did not allow (TOOLS_ALLOW; the gateway's own tools are always
 * allowed) and less what they denied (TOOLS_DENY). Groups left without tools are dropped.
 * @throws Error naming every unknown name and the known ones, so a typo cannot silently allow all.
 */
export function applyToolPolicy(groups: readonly ToolGroup[], policy: ToolPolicy): ToolGroup[] {
  const known = new Set(groups.flatMap((g) => [g.id, ...g.tools.map((t) => t.name)]));
  const unknown = [...policy.allow, ...policy.deny].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `TOOLS_ALLOW / TOOLS_DENY name unknown tools or apps: ${unknown.join(", ")}. ` +
        `Known apps: ${groups.map((g) => g.id).join(", ")}; tool names are listed in docs/tools.md.`,
    );
  }
  const allow = new Set(policy.allow);
  const deny = new Set(policy.deny);
  return groups.flatMap((g) => {
    const tools = g.tools.filter(
      (t) =>
        (allow.size === 0 || g.always === true || allow.has(g.id) || allow.has(t.name)) &&
        !deny.has(g.id) &&
        !deny.has(t.name),
    );
    return tools.length === 0 ? [] : [{ ...g, tools }];
  });
}

/**
 * The app ids a toolset names: `all`, or comma-separated ids of the given groups.
 * @returns the selection, or a message naming what was wrong and what would be right.
 */
export function parseToolset(
  value: string,
  groups: readonly ToolGroup[],
): { apps: ReadonlySet<string> | "all" } | { error: string } {
  const ids = [
    ...new Set(
      value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.includes("all")) return { apps: "all" };
  const selectable = groups.filter((g) => g.always !== true).map((g) => g.id);
  const unknown = ids.filter((id) => !selectable.includes(id));
  if (ids.length === 0 || unknown.length > 0) {
    const what = ids.length === 0 ? "names no app" : `names unknown apps: ${unknown.join(", ")}`;
    return {
      error: `The toolset in the MCP URL (?apps=${value}) ${what}. Use "all" or comma-separated ids of: ${selectable.join(", ")}.`,
    };
  }
  return { apps: new Set(ids) };
}

/**
 * The app ids an access-token claim grants: its values (an array, or a space- or comma-separated
 * string) that start with `prefix`, with the prefix removed. A missing claim grants none.
 */
export function appsFromClaim(value: unknown, prefix: string): ReadonlySet<string> {
  const values = Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string")
    : typeof value === "string"
      ? value.split(/[\s,]+/)
      : [];
  return new Set(values.filter((v) => v !== "" && v.startsWith(prefix)).map((v) => v.slice(prefix.length)));
}

/** Both selections at once: what the client asked for, within what the claim allows. */
export function intersectApps(
  a: ReadonlySet<string> | "all",
  b: ReadonlySet<string> | "all",
): ReadonlySet<string> | "all" {
  if (a === "all") return b;
  if (b === "all") return a;
  return new Set([...a].filter((x) => b.has(x)));
}
