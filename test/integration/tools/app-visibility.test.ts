// Which tools a user sees: only the apps installed and usable for that user (asked per user, not
// per instance), only the toolset the MCP URL asks for, and never an app the operator denied.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listToolNames } from "../support/mcp-call.ts";
import { startNextcloudScene, type NextcloudScene } from "../support/nextcloud-scene.ts";
import { claims } from "../support/oauth.ts";

let scene: NextcloudScene;
let alice: string;
let bob: string;

beforeAll(async () => {
  scene = await startNextcloudScene();
  alice = await scene.signIn("alice");
  bob = await scene.signIn("bob");
  // The Notes app is not enabled for bob (Nextcloud then leaves `notes` out of his capabilities).
  scene.standin.setNotesEnabled(claims(bob).sub ?? "", false);
});
afterAll(async () => {
  await scene.stop();
});

const apps = (names: string[]) => [...new Set(names.map((n) => n.split("_")[0]))].sort();

describe("tools per user and toolset", () => {
  it("shows each user only the apps enabled for them, whoever asked first", async () => {
    const forBob = await scene.listTools(bob);
    const forAlice = await scene.listTools(alice);
    expect(forAlice).toContain("notes_list");
    expect(forBob).not.toContain("notes_list");
    expect(forBob).toContain("files_list");
    expect(forBob).toContain("server_info");
    // A call to a tool of an app the user lacks is refused as unknown (JSON-RPC -32602), not sent to Nextcloud.
    await expect(scene.call(bob, "notes_list", {})).rejects.toThrow(
      /"code":-32602,"message":"Unknown tool: \\"notes_list\\"/,
    );
  });

  it("narrows tools/list to the toolset of the URL, keeping the gateway's own tools", async () => {
    const names = await listToolNames(scene.gatewayUrl, alice, "?apps=notes");
    expect(apps(names)).toEqual(["notes", "offline", "server", "whoami"]);
    await expect(listToolNames(scene.gatewayUrl, alice, "?apps=nope")).rejects.toThrow(
      /400: .*names unknown apps: nope\. Use .*all.* or comma-separated ids of: notes, files/,
    );
  });
});
