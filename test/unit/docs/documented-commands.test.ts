// What the docs tell operators to type must exist: every `npm run <script>`, every CLI command
// (`nextcloud-mcp-gateway <cmd>`, `node src/main.ts <cmd>`, `node dist/main.js <cmd>`,
// `npm run gateway -- <cmd>`) with its options, and every environment variable named in code. A
// renamed script, command or variable fails here until the docs follow (issue 12: `npx
// nextcloud-mcp-gateway` in a clone, a `check` sample without Nextcloud).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { JOB_NAMES } from "../../../src/cli/jobs.ts";
import { variables } from "../../../src/config/index.ts";
import { FAULT_HOLD_AFTER_REFRESH } from "../../../src/cli/fault-injection.ts";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

/** The documents operators read. */
const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  "keycloak/README.md",
  ...readdirSync(new URL("docs/", root))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The code in a Markdown text: fenced blocks and inline code spans, one string each. */
function codeOf(markdown: string): string[] {
  const out: string[] = [];
  const fence = /^```[^\n]*\n([\s\S]*?)^```/gm;
  for (const m of markdown.matchAll(fence)) out.push(m[1] ?? "");
  const prose = markdown.replace(fence, "");
  for (const m of prose.matchAll(/`([^`\n]+)`/g)) out.push(m[1] ?? "");
  return out;
}

const code = new Map(DOCS.map((path) => [path, codeOf(read(path))]));

function each<T>(find: (snippet: string) => T[]): { doc: string; found: T }[] {
  return [...code].flatMap(([doc, snippets]) =>
    snippets.flatMap((s) => find(s).map((found) => ({ doc, found }))),
  );
}

const scripts = Object.keys(
  (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts,
);

const help = spawnSync(process.execPath, [fileURLToPath(new URL("src/main.ts", root)), "--help"], {
  encoding: "utf8",
});
const commandLines = help.stdout.slice(help.stdout.indexOf("Commands:"), help.stdout.indexOf("Options:"));
/** "serve", "keys status", "jobs run": the first words of each command line of the CLI's help. */
const commands = new Set(
  [...commandLines.matchAll(/^ {2}([a-z]+)((?: [a-z]+)*)/gm)].flatMap((m) => {
    const first = m[1] ?? "";
    const second = (m[2] ?? "").trim().split(" ")[0];
    return second ? [first, `${first} ${second}`] : [first];
  }),
);
const CLI =
  /(?:^|[\s(])(?:nextcloud-mcp-gateway|node (?:src\/main\.ts|dist\/main\.js)|npm run gateway --)((?:[ \t]+[a-z][\w-]*|[ \t]+--?[a-z][\w-]*(?:=\S*)?)*)/gm;

describe("documented commands", () => {
  it("finds the CLI's commands in its --help", () => {
    expect(help.status, help.stderr).toBe(0);
    for (const c of ["serve", "migrate", "check", "jobs run", "keys status", "keys reencrypt"]) {
      expect(commands, c).toContain(c);
    }
  });

  it("every `npm run <script>` is a script of package.json", () => {
    const used = each((s) => [...s.matchAll(/\bnpm run ([a-z][\w:-]*)/g)].map((m) => m[1] ?? ""));
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((u) => !scripts.includes(u.found))).toEqual([]);
  });

  it("every CLI command and option in the docs exists", () => {
    const used = each((s) =>
      [...s.matchAll(CLI)].map((m) =>
        (m[1] ?? "")
          .trim()
          .split(/[ \t]+/)
          .filter(Boolean),
      ),
    ).filter((u) => u.found.length > 0);
    expect(used.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const { doc, found } of used) {
      const words = found.filter((w) => !w.startsWith("-"));
      const [first, second, third] = words;
      const options = found.filter((w) => w.startsWith("-")).map((w) => w.split("=")[0] ?? "");
      const bad = (why: string) => wrong.push(`${doc}: \`${found.join(" ")}\`: ${why}`);
      for (const o of options) if (!help.stdout.includes(o)) bad(`no option ${o}`);
      if (first === undefined) continue;
      if (!commands.has(first)) bad(`no command ${first}`);
      else if (first === "keys" && !commands.has(`keys ${second ?? ""}`))
        bad(`no command keys ${second ?? ""}`);
      else if (
        first === "jobs" &&
        (second !== "run" || (third !== undefined && !(JOB_NAMES as readonly string[]).includes(third)))
      )
        bad(`jobs run takes one of ${JOB_NAMES.join(", ")}`);
    }
    expect(wrong).toEqual([]);
  });

  it("nowhere tells operators to run the unpublished package with npx", () => {
    expect(each((s) => (/\bnpx nextcloud-mcp-gateway\b/.test(s) ? [s] : []))).toEqual([]);
  });
});

// --- environment variables ------------------------------------------------------------------------

const secretNames = Object.entries(variables)
  .filter(([, v]) => (v.doc as { secret?: boolean }).secret === true)
  .map(([name]) => name);
/** The gateway's own variables: the configuration schema, and `<NAME>_FILE` of its secrets. */
const gatewayVariables = new Set([...Object.keys(variables), ...secretNames.map((n) => `${n}_FILE`)]);

const names = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1] ?? "");
/** Variables of the deployment files: compose interpolations and environment keys, env templates, the realm's placeholders, the deploy scripts. */
const deploymentVariables = new Set([
  ...["compose.yaml", "compose.gateway.yaml", "compose.postgres.yaml"].flatMap((f) => [
    ...names(read(f), /\$\{([A-Z][A-Z0-9_]*)/g),
    ...names(read(f), /^ {6}([A-Z][A-Z0-9_]*):/gm),
  ]),
  ...[".env.example", "deploy/gateway.env.example"].flatMap((f) => names(read(f), /^([A-Z][A-Z0-9_]*)=/gm)),
  ...names(read("keycloak/realm-export.json"), /\$\{([A-Z][A-Z0-9_]*)\}/g),
  ...[
    "deploy/nextcloud/configure-oidc.sh",
    "deploy/postgres/init-databases.sh",
    "deploy/generate-secrets.sh",
  ].flatMap((f) => names(read(f), /\$\{?([A-Z][A-Z0-9_]*)/g)),
]);
/** What the test harness, the reliability scenarios and scripts read (CONTRIBUTING and docs/reliability.md
 * document them), and the test-only fault hook (src/cli/fault-injection.ts refuses it outside tests). */
const harnessVariables = new Set(
  [
    "test/harness/keycloak.ts",
    "test/harness/postgres.ts",
    "test/harness/browser.ts",
    "test/harness/cache.ts",
    "test/harness/global-setup.ts",
    "test/standin/radicale.ts",
    "test/integration/support/gateway.ts",
    "reliability/run.ts",
    ...readdirSync(new URL("test/integration/reliability/", root))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `test/integration/reliability/${f}`),
    "scripts/sandbox.ts",
    "scripts/check-deploy.sh",
    "scripts/setup.sh",
    ".ci/run",
  ]
    .flatMap((f) =>
      names(read(f), /(?:process\.env\.|process\.env\[")([A-Z][A-Z0-9_]*)|\$\{?([A-Z][A-Z0-9_]*)/g),
    )
    .filter(Boolean)
    .concat(FAULT_HOLD_AFTER_REFRESH),
);
/**
 * Variables of other programs the docs rightly name: Keycloak (KC_*), PostgreSQL and its image
 * (PG*, POSTGRES_*), Nextcloud's image, Node, the shell.
 */
const OTHER_PROGRAMS = [
  /^KC_/,
  /^PG[A-Z]*$/,
  /^POSTGRES_/,
  /^NEXTCLOUD_(ADMIN|TRUSTED)_/,
  /^OVERWRITE/,
  /^NODE_/,
  /^XDG_/,
  /^JAVA_/,
  /^COMPOSE_/,
  // The MCP Inspector's settings (docs/auth-flows.md).
  /^MCP_AUTO_OPEN_/,
  // PHP's name of a request header, quoted from Nextcloud's sources.
  /^HTTP_[A-Z_]+$/,
];
const OTHER_NAMES = new Set(["HOME", "PATH", "CI", "ADMIN_TOKEN", "OIDC_DISCOVERY_URI"]);
/** Not variables: error codes (Node's TLS and system errors) quoted in the troubleshooting tables. */
const ERROR_CODES = [/^ERR_/, /^UNABLE_TO_/, /^CERT_/, /^E[A-Z]+$/];

/** Constants of the source code (`const USER_TREE = …`), which docs may name as such. */
function sourceConstants(dir: URL): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceConstants(new URL(`${e.name}/`, dir))
      : e.name.endsWith(".ts")
        ? names(readFileSync(new URL(e.name, dir), "utf8"), /\bconst ([A-Z][A-Z0-9_]*) =/g)
        : [],
  );
}
const constants = new Set(sourceConstants(new URL("src/", root)));

describe("documented environment variables", () => {
  it("every variable a doc names in code is the gateway's, a deployment file's, the harness's or another program's", () => {
    const candidates = each((s) => [
      // `NAME=value` anywhere in code (export lines, env files, docker -e), and a bare `NAME` span.
      ...names(s, /(?:^|[\s"'(-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=/gm),
      ...(/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(s) ? [s] : []),
    ]);
    expect(candidates.length).toBeGreaterThan(50);
    const unknown = candidates.filter(
      ({ found }) =>
        !gatewayVariables.has(found) &&
        !deploymentVariables.has(found) &&
        !harnessVariables.has(found) &&
        !OTHER_NAMES.has(found) &&
        !constants.has(found) &&
        !ERROR_CODES.some((p) => p.test(found)) &&
        !OTHER_PROGRAMS.some((p) => p.test(found)),
    );
    expect(unknown.map(({ doc, found }) => `${doc}: ${found}`)).toEqual([]);
  });

  it("documents every variable of the configuration schema (docs/configuration.md is generated from it)", () => {
    const reference = read("docs/configuration.md");
    for (const name of Object.keys(variables)) expect(reference, name).toContain(`\`${name}\``);
  });
});
