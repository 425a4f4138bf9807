// Issue 14 §3 "Per-user state in a shared cache": Nextcloud's capabilities document is per user
// (`notes.notes_path` is each user's own Notes setting). When the Notes API refuses bearer tokens the
// notes tools work on that folder over WebDAV, so a capabilities cache filled by the first caller
// would send the next user's notes into the wrong folder. Alice and bob have different folders here.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NextcloudStandin } from "../../standin/index.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let standin: NextcloudStandin;
let alice: string;
let bob: string;
let aliceUid: string;
let bobUid: string;

beforeAll(async () => {
  scene = await startNextcloudScene({ appRoutesRefuseBearer: true });
  standin = scene.standin;
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  aliceUid = claims(alice).sub ?? "";
  bobUid = claims(bob).sub ?? "";
  standin.setNotesPath(bobUid, "Bob's notes/Private");
});
afterAll(async () => {
  await scene.stop();
});

const files = (uid: string, dir: string) => readdir(join(standin.filesRoot(uid), dir)).catch(() => []);

describe("per-user capabilities", () => {
  it("each user's notes go to their own notes folder, whoever asked first", async () => {
    const a = await scene.call(alice, "notes_create", { title: "From alice", content: "a" });
    expect(a.isError, a.content[0]?.text).toBeFalsy();
    const b = await scene.call(bob, "notes_create", { title: "From bob", content: "b" });
    expect(b.isError, b.content[0]?.text).toBeFalsy();
    const again = await scene.call(alice, "notes_create", { title: "Alice again", content: "a2" });
    expect(again.isError, again.content[0]?.text).toBeFalsy();

    expect((await files(aliceUid, "Notes")).sort()).toEqual(["Alice again.md", "From alice.md"]);
    expect(await files(bobUid, "Bob's notes/Private")).toEqual(["From bob.md"]);
    expect(await files(bobUid, "Notes")).toEqual([]);
    expect(await readFile(join(standin.filesRoot(bobUid), "Bob's notes/Private/From bob.md"), "utf8")).toBe(
      "b",
    );
  });

  it("each user lists only the notes of their own folder", async () => {
    const listed = async (token: string) =>
      ((await scene.call(token, "notes_list", {})).structuredContent as { notes: { title: string }[] }).notes
        .map((n) => n.title)
        .sort();
    expect(await listed(bob)).toEqual(["From bob"]);
    expect(await listed(alice)).toEqual(["Alice again", "From alice"]);
  });
});
