// Issue 14 §1 from the attacker's side: every tool that takes a path or a destination (files_*, the
// sharing tools' path, and the notes tools over WebDAV) is thrown the strings that escaped the user's root through the old `webdav`
// library (its path-separator placeholders), percent-encoded dots and slashes, backslashes, Unicode
// look-alikes, empty segments, NUL and over-long names. The stand-in records every request it
// receives; none may leave alice's root, and nothing may appear on disk outside her files.
import { readdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NextcloudStandin, RecordedRequest } from "../../standin/index.ts";
import type { ToolResult } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let standin: NextcloudStandin;
let alice: string;
let aliceUid: string;
let bobUid: string;

// Every placeholder the `webdav` library (5.x, dist/node/tools/path.js) turned back into a separator.
const POSIX = "__PATH_SEPARATOR_POSIX__";
const WINDOWS = "__PATH_SEPARATOR_WINDOWS__";

beforeAll(async () => {
  scene = await startNextcloudScene();
  standin = scene.standin;
  alice = await scene.signIn("alice");
  const bob = await scene.signIn("bob");
  aliceUid = claims(alice).sub ?? "";
  bobUid = claims(bob).sub ?? "";
  await standin.seed(aliceUid, { "Documents/a.md": "alpha", "Notes/Work/plan.md": "# plan\n" });
  await standin.seed(bobUid, { "bob-secret.md": "bob's" });
  // Caches the user id and capabilities, so later calls send only what their path needs.
  expect((await scene.call(alice, "files_stat", { path: "/" })).isError).toBeFalsy();
});
afterAll(async () => {
  await scene.stop();
});

/** Strings that must be refused before any request: they mean "up" or "separator" to someone. */
const refused: string[] = [
  "%2e%2e/%2e%2e/escaped",
  "%2E%2E",
  "%252e%252e/%252e%252e/escaped",
  "a%2fb",
  "..%2f..%2fescaped",
  "..%5c..%5cescaped",
  "%25252e%25252e",
  "..\\..\\escaped",
  "Documents\\a.md",
  "．．/．．/escaped",
  "／..／escaped",
  "Documents/﹒﹒",
  "Documents/․․",
  "＼..＼escaped",
  "a\u0000b",
  "a\u0001b",
  "a\u007fb",
  "x".repeat(256),
  "/Documents/../../bob/files/bob-secret.md",
  "/../../../../ocs/v2.php/cloud/users/bob",
];

/** Strings that are plain (if odd) names: they must reach Nextcloud only as names under alice's root. */
const literal: string[] = [
  `x${POSIX}..${POSIX}..${POSIX}alice${POSIX}escaped`,
  `x${WINDOWS}..${WINDOWS}..${WINDOWS}escaped`,
  `${POSIX}..${POSIX}..${POSIX}..${POSIX}ocs${POSIX}v2.php`,
  "a\u2215..\u2215escaped",
  "a\u2044..\u2044escaped",
  "Documents//a.md",
  "Documents/./a.md",
  `${"deep/".repeat(60)}end`,
];

/** The calls that take a path, for one path string `p`. */
const pathCalls = (p: string): [string, Record<string, unknown>][] => [
  ["files_list", { path: p }],
  ["files_stat", { path: p }],
  ["files_read", { path: p }],
  ["files_write", { path: p, content: "escaped" }],
  ["files_mkdir", { path: p }],
  ["files_move", { from: "/Documents/a.md", to: p }],
  ["files_move", { from: p, to: "/moved.md" }],
  ["files_copy", { from: "/Documents/a.md", to: p }],
  ["files_copy", { from: p, to: "/copied.md" }],
  ["files_delete", { path: p }],
  ["files_search", { query: "a", folder: p }],
  ["sharing_list", { path: p }],
  ["sharing_list", { path: p, subfiles: true }],
  ["sharing_create", { path: p, type: "link" }],
  ["sharing_create", { path: p, type: "user", shareWith: bobUid }],
];

const SHARES = "/ocs/v2.php/apps/files_sharing/api/v1/shares";

const root = () => `/remote.php/dav/files/${encodeURIComponent(aliceUid)}`;

/** Why a recorded request left alice's root or used a name that is not a plain name, if it did. */
function escaped(r: RecordedRequest): string | undefined {
  const [path = "", query] = r.rawPath.split("?", 2);
  if (/^\/ocs\/v2\.php\/cloud\/(user|capabilities)$/.test(path)) return undefined;
  if (/^\/index\.php\/apps\/notes\/api\/v1\/(notes(\/\d+)?|settings)$/.test(path)) return undefined;
  if (r.method === "SEARCH" && path === "/remote.php/dav/" && query === undefined) return undefined;
  if (path === SHARES) {
    // The Share API takes a user path as a parameter (query or body), resolved in the user's files.
    const shared = new URLSearchParams(query).get("path");
    if (shared === null) return r.method === "POST" ? undefined : `GET ${SHARES} without a path`;
    const segs = shared.split("/").slice(1);
    return shared.startsWith("/") &&
      segs.every((s) => s !== "" && s !== "." && s !== ".." && !/[\\\0]/.test(s))
      ? undefined
      : `share path ${JSON.stringify(shared)} is not a plain path`;
  }
  const check = (p: string, what: string): string | undefined => {
    if (p !== root() && !p.startsWith(`${root()}/`)) return `${what} ${p} is outside ${root()}`;
    const segs = p.split("/").slice(1);
    if (segs.at(-1) === "") segs.pop(); // a collection's trailing slash
    for (const seg of segs) {
      const name = decodeURIComponent(seg);
      if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
        return `${what} ${p} has the segment ${JSON.stringify(name)}`;
      }
    }
    return undefined;
  };
  if (query !== undefined) return `unexpected query on ${path}`;
  const bad = check(path, r.method);
  if (bad !== undefined) return bad;
  if (r.destination !== undefined) {
    const dest = new URL(r.destination);
    if (dest.origin !== standin.url) return `Destination ${r.destination} is on another origin`;
    return check(dest.pathname, "Destination");
  }
  return undefined;
}

/** Every file or folder of the stand-in's data directory that is not inside some user's files. */
async function strays(): Promise<string[]> {
  const data = dirname(dirname(standin.filesRoot(aliceUid)));
  const all = await readdir(data, { recursive: true });
  return all
    .map((p) => relative(data, join(data, p)).split(sep))
    .filter((segs) => !(segs.length === 1 || (segs.length >= 2 && segs[1] === "files")))
    .map((segs) => segs.join("/"));
}

function text(r: ToolResult): string {
  return r.content[0]?.text ?? "";
}

describe("a path cannot leave the user's root", () => {
  it.each(refused)("refuses %j in every files tool before any request", async (p) => {
    for (const [tool, args] of pathCalls(p)) {
      standin.resetRequests();
      const r = await scene.call(alice, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(r), tool).toMatch(/nothing was done|at most 4096/);
      const dav = standin
        .requests()
        .filter((q) => q.rawPath.startsWith("/remote.php/") || q.rawPath.startsWith(SHARES));
      expect(dav, `${tool} ${JSON.stringify(args)}`).toEqual([]);
    }
  });

  it.each(literal)("sends %j only as names under the user's root", async (p) => {
    standin.resetRequests();
    for (const [tool, args] of pathCalls(p)) await scene.call(alice, tool, args);
    const seen = standin.requests();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.map(escaped).filter((e) => e !== undefined)).toEqual([]);
  });

  it("creates a folder named with the placeholder literally, inside the user's root (it escaped before)", async () => {
    const name = `x${POSIX}..${POSIX}..${POSIX}${aliceUid}${POSIX}escaped`;
    const r = await scene.call(alice, "files_mkdir", { path: `/${name}` });
    expect(r.isError, text(r)).toBeFalsy();
    const top = await readdir(standin.filesRoot(aliceUid));
    expect(top).toContain(name);
    expect(top).not.toContain("escaped");
  });

  it("counts the refusals on /metrics, by reason", async () => {
    const text = await (await fetch(`${scene.gatewayUrl}/metrics`)).text();
    const value = (reason: string) =>
      Number(
        new RegExp(`^gateway_nextcloud_requests_refused_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(
          text,
        )?.[1],
      );
    expect(text).toMatch(/^# TYPE gateway_nextcloud_requests_refused_total counter$/m);
    expect(value("bad_path")).toBeGreaterThanOrEqual(refused.length * pathCalls("x").length);
    // The tools refuse first; the guard behind them had nothing left to refuse.
    for (const reason of ["off_origin", "bad_segment", "outside_root", "no_root"])
      expect(value(reason)).toBe(0);
  });

  it("left nothing on disk outside the users' files, and bob's file untouched", async () => {
    expect(await strays()).toEqual([]);
    expect(await readdir(standin.filesRoot(bobUid))).toEqual(["bob-secret.md"]);
  });
});

describe("notes over WebDAV stay in the notes folder", () => {
  beforeAll(() => {
    standin.setAppRoutesRefuseBearer(true);
  });
  afterAll(() => {
    standin.setAppRoutesRefuseBearer(false);
  });

  const nasty = [
    `x${POSIX}..${POSIX}..${POSIX}escaped`,
    `${WINDOWS}..${WINDOWS}..`,
    "../../escaped",
    "%2e%2e/%2e%2e",
    "%252e%252e",
    "a%2fb",
    "．．/．．",
    "／..／escaped",
    "a\u2215..\u2215b",
    "..\\..\\escaped",
  ];

  it.each(nasty)("title or category %j never makes a request outside the notes folder", async (s) => {
    const notes = `${root()}/Notes`;
    standin.resetRequests();
    const created: number[] = [];
    for (const args of [
      { title: s, content: "c" },
      { title: "t", category: s, content: "c" },
      { title: s, category: s, content: "c" },
    ]) {
      const r = await scene.call(alice, "notes_create", args);
      const id = (r.structuredContent as { note?: { id?: number } } | undefined)?.note?.id;
      if (r.isError === true) expect(text(r)).toMatch(/nothing was done/);
      else if (id !== undefined) created.push(id);
    }
    const existing = await scene.call(alice, "notes_create", { title: "movable", content: "m" });
    const id = (existing.structuredContent as { note: { id: number } }).note.id;
    await scene.call(alice, "notes_update", { id, title: s });
    await scene.call(alice, "notes_update", { id, category: s });
    const seen = standin.requests();
    expect(seen.map(escaped).filter((e) => e !== undefined)).toEqual([]);
    // Writes (PUT, MKCOL, MOVE) only inside the notes folder; reads may list the root above it.
    for (const q of seen.filter((r) => /^(PUT|MKCOL|MOVE|COPY|DELETE)$/.test(r.method))) {
      const target = q.destination === undefined ? q.rawPath : new URL(q.destination).pathname;
      if (q.method === "MKCOL" && target === notes) continue;
      expect(target.startsWith(`${notes}/`), `${q.method} ${target}`).toBe(true);
    }
    for (const n of [...created, id]) await scene.call(alice, "notes_delete", { id: n });
    expect(await strays()).toEqual([]);
  });
});
