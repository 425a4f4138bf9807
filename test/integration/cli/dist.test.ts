// The built gateway (`npm run build`: rolldown.config.ts bundles src/ and its libraries into dist/)
// as the image runs it, on both database backends: it migrates, becomes ready against the real
// Keycloak, lists and calls tools through the token exchange, and reaches the libraries it leaves
// outside the bundle (PGlite, and fast-xml-parser for WebDAV). Every other test runs src/; this one
// catches what only the bundle can break: paths read beside the package (sql/, package.json), lazy
// imports, names the minifier must keep.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeJwt } from "jose";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import config from "../../../rolldown.config.ts";
import { gatewayCli, runGatewayCli, waitForReady, type Child } from "../../harness/process.ts";
import { createTestDatabase } from "../../harness/postgres.ts";
import { createScenarioRealm, type ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort } from "../../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { describeAnswer, toolCall, toolOk, toolsList, toolText } from "../reliability/mcp-client.ts";

const REPO = new URL("../../../", import.meta.url);
// Inside the repository, as dist/ is: the bundle finds package.json and sql/ above itself.
const OUT = new URL(".data/dist-test/", REPO);
const ENTRY = new URL("main.js", OUT).pathname;
const NOTE = "# Built\nThe bundled gateway read this note.";

const stops: (() => Promise<unknown>)[] = [];
let realm: ScenarioRealm;
let standin: NextcloudStandin;
let token: string;
let base: Record<string, string>;
const publicPort = await freePort();

beforeAll(async () => {
  const output = Array.isArray(config.output) ? config.output[0] : config.output;
  await build({ ...config, output: { ...output, dir: OUT.pathname } });
  stops.push(() => rm(OUT, { recursive: true, force: true }));
  const publicUrl = `http://localhost:${String(publicPort)}`;
  realm = await createScenarioRealm({
    keycloak: inject("keycloak"),
    name: "dist-build",
    gatewayUrl: publicUrl,
    nextcloudUrl: "http://localhost:9",
  });
  stops.push(() => realm.delete());
  const [user] = await realm.addUsers("dist", 1);
  if (user === undefined) throw new Error("no user");
  token = await realm.token(user);
  standin = await startNextcloudStandin({ issuer: realm.issuer, audience: "nextcloud" });
  stops.push(() => standin.stop());
  await standin.seed(String(decodeJwt(token).sub), { "Notes/Built.md": NOTE, "Documents/a.txt": "a" });
  base = {
    GATEWAY_PUBLIC_URL: publicUrl,
    OIDC_ISSUER: realm.issuer,
    OIDC_CLIENT_SECRET: realm.gatewayClientSecret,
    NEXTCLOUD_URL: standin.url,
    LOG_LEVEL: "warn",
  };
}, 120_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function serve(env: Record<string, string>): Promise<{ gw: Child; url: string }> {
  const gw = gatewayCli(["serve"], { ...base, ...env, HOST: "127.0.0.1", PORT: String(publicPort) }, ENTRY);
  try {
    await waitForReady(gw, publicPort, 60_000);
  } catch (err) {
    gw.kill("SIGKILL");
    throw err;
  }
  return { gw, url: `http://127.0.0.1:${String(publicPort)}` };
}

describe("the built dist/", () => {
  it("is one bundle that leaves PGlite, pdf.js, ical.js and fast-xml-parser to node_modules", async () => {
    expect(existsSync(ENTRY)).toBe(true);
    const code_ = readdirSync(OUT)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(new URL(f, OUT), "utf8"))
      .join("\n");
    const imported = new Set(
      [...code_.matchAll(/\b(?:from|import\()\s*["'`]([^"'`./][^"'`]*)["'`]/g)].map((m) => m[1] ?? ""),
    );
    // The left-out libraries are imported from node_modules at run time, not bundled.
    for (const name of ["@electric-sql/pglite", "unpdf"]) expect(imported.has(name), name).toBe(true);
    // ...and the bundled ones are not: zod, the MCP SDK, hono are in the bundle, not imported.
    for (const name of ["zod", "@modelcontextprotocol/server", "hono"])
      expect(imported.has(name), name).toBe(false);
    const { stdout, code } = await runGatewayCli(["--version"], {}, ENTRY);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  for (const backend of ["postgres", "pglite"] as const) {
    it(`migrates, becomes ready and serves tools on ${backend}`, async () => {
      let env: Record<string, string>;
      if (backend === "postgres") {
        const db = await createTestDatabase(inject("pgAdminUrl"), "dist");
        stops.push(() => db.drop());
        env = { DATABASE_URL: db.url };
      } else {
        const dir = await mkdtemp(path.join(tmpdir(), "ncmcp-dist-"));
        stops.push(() => rm(dir, { recursive: true, force: true }));
        env = { DATA_DIR: dir };
      }
      const migrated = await runGatewayCli(["migrate"], { ...base, ...env }, ENTRY);
      expect(migrated.code, migrated.stderr).toBe(0);
      const { gw, url } = await serve(env);
      try {
        const list = await toolsList(url, token);
        expect(list.status, describeAnswer(list)).toBe(200);
        const names = ((list.result?.tools ?? []) as { name: string }[]).map((t) => t.name);
        expect(names).toEqual(
          expect.arrayContaining(["notes_list", "notes_get", "files_list", "server_info"]),
        );

        const notes = await toolCall(url, token, "notes_list");
        expect(toolOk(notes), describeAnswer(notes)).toBe(true);
        const id = (notes.result?.structuredContent as { notes: { id: number; title: string }[] }).notes.find(
          (n) => n.title === "Built",
        )?.id;
        const note = await toolCall(url, token, "notes_get", { id });
        expect(toolOk(note), describeAnswer(note)).toBe(true);
        expect((note.result?.structuredContent as { content: string }).content).toBe(NOTE);

        // WebDAV answers are parsed by fast-xml-parser, loaded from node_modules on first use.
        const files = await toolCall(url, token, "files_list", { path: "/Documents" });
        expect(toolOk(files), describeAnswer(files)).toBe(true);
        expect(toolText(files)).toContain("a.txt");

        // A path outside the user's root is refused by the bundled guard as by the source.
        const escape = await toolCall(url, token, "files_read", { path: "/../x/a.txt" });
        expect(escape.result?.isError, describeAnswer(escape)).toBe(true);
        expect(toolText(escape)).toContain("..");
      } finally {
        gw.kill("SIGTERM");
      }
      expect(await gw.exited).toBe(0);
      expect(gw.stderr()).toBe("");
    }, 120_000);
  }
});
