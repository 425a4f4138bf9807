import { variables, type VariableDoc } from "./schema.ts";

function defaultOf(name: keyof typeof variables): string | undefined {
  const r = variables[name].schema.safeParse(undefined);
  return r.success ? String(r.data) : undefined;
}

/** Renders docs/configuration.md from the schema, so the reference cannot drift from the code. */
export function renderConfigurationDoc(): string {
  const groups = new Map<VariableDoc["group"], string[]>();
  for (const name of Object.keys(variables) as (keyof typeof variables)[]) {
    const doc: VariableDoc = variables[name].doc;
    const def = defaultOf(name);
    const row = [
      `\`${name}\``,
      def === undefined ? "**required**" : def === "" ? "*(none)*" : `\`${def}\``,
      `\`${doc.example}\``,
      doc.description + (doc.secret === true ? " *Secret: never logged or echoed in errors.*" : ""),
    ];
    const rows = groups.get(doc.group) ?? [];
    rows.push(`| ${row.join(" | ")} |`);
    groups.set(doc.group, rows);
  }
  const out = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run docs:gen`. Do not edit by hand: a test fails when this file and the schema differ. -->",
    "",
    "The gateway reads its configuration from environment variables only, validates all of them at start,",
    "and refuses to start with one message that lists every problem and how to fix it. An empty value counts",
    "as unset. `nextcloud-mcp-gateway check` runs the same validation and then tests that the IdP and the",
    "database are reachable.",
    "",
    "Every variable marked *Secret* may instead be read from a file: set `<NAME>_FILE` to its path (for",
    "example `OIDC_CLIENT_SECRET_FILE=/run/secrets/oidc_client_secret`, a Kubernetes or Docker secret",
    "mounted as a file; one trailing newline is dropped). Setting both `<NAME>` and `<NAME>_FILE` is an error.",
    "",
  ];
  for (const [group, rows] of groups) {
    out.push(
      `## ${group}`,
      "",
      "| variable | default | example | meaning |",
      "| --- | --- | --- | --- |",
      ...rows,
      "",
    );
  }
  return out.join("\n");
}
