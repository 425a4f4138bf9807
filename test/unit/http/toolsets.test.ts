// Toolsets on the wire: `/mcp?apps=…` narrows tools/list, an unknown app is a clear 400, the IdP
// claim limits a user's apps, the metadata advertises the toolsets; and the per-user app check.
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildRegistry } from "../../../src/app.ts";
import { appAvailability } from "../../../src/http/nextcloud-access.ts";
import { defineGroup, toolMaker, type ToolGroup } from "../../../src/mcp/index.ts";
import type { NextcloudClient } from "../../../src/nextcloud/index.ts";
import { claims, createIdp, type TestIdp } from "../auth/fixtures.ts";
import { mcpPost, testApp, testConfig } from "./support.ts";

const group = (id: string, available?: ToolGroup["available"]): ToolGroup => {
  const t = toolMaker(id, { capability: null });
  return defineGroup({
    id,
    title: id,
    description: `The ${id} app (test).`,
    ...(available ? { available } : {}),
    tools: [
      t.read({
        name: `${id}_list`,
        title: "List",
        description: "Lists (test).",
        input: z.object({}),
        output: z.object({}),
        handler: () => Promise.resolve({}),
      }),
    ],
  });
};
const own = toolMaker("gateway", { prefix: "server", capability: null });
const groups: ToolGroup[] = [
  defineGroup({
    id: "gateway",
    title: "Gateway",
    description: "d",
    always: true,
    tools: [
      own.read({
        name: "server_ping",
        title: "Ping",
        description: "Pings (test).",
        input: z.object({}),
        output: z.object({}),
        handler: () => Promise.resolve({}),
      }),
    ],
  }),
  group("notes"),
  group("files"),
  group("calendar"),
];

let idp: TestIdp;

function appWith(extra: Record<string, string> = {}) {
  const config = testConfig({
    // The test's own groups: the shipped default also names `search`, which they do not have.
    MCP_DEFAULT_APPS: "notes,files,calendar",
    ...extra,
  });
  return testApp(idp, { config, registry: buildRegistry(config, groups) });
}

async function listTools(app: ReturnType<typeof appWith>, query = "", claimOverrides = {}) {
  const res = await app.request(
    `/mcp${query}`,
    mcpPost(
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { host: "mcp.example.com", authorization: `Bearer ${await idp.sign(claims(claimOverrides))}` },
    ),
  );
  const body = (await res.json()) as { result?: { tools: { name: string }[] }; error?: { message: string } };
  return { status: res.status, names: body.result?.tools.map((t) => t.name), error: body.error?.message };
}

beforeAll(async () => {
  idp = await createIdp();
});

describe("/mcp?apps=", () => {
  const app = () => appWith();

  it("lists every app without a toolset, and only the named ones with one", async () => {
    expect((await listTools(app())).names).toEqual([
      "server_ping",
      "notes_list",
      "files_list",
      "calendar_list",
    ]);
    expect((await listTools(app(), "?apps=calendar,notes")).names).toEqual([
      "server_ping",
      "notes_list",
      "calendar_list",
    ]);
  });

  it("answers an unknown app with 400 naming the known ones", async () => {
    expect(await listTools(app(), "?apps=calender")).toEqual({
      status: 400,
      names: undefined,
      error:
        'The toolset in the MCP URL (?apps=calender) names unknown apps: calender. Use "all" or comma-separated ids of: notes, files, calendar.',
    });
  });

  it("uses MCP_DEFAULT_APPS when the URL names none", async () => {
    const narrow = appWith({ MCP_DEFAULT_APPS: "files" });
    expect((await listTools(narrow)).names).toEqual(["server_ping", "files_list"]);
    expect((await listTools(narrow, "?apps=all")).names).toHaveLength(4);
  });

  it("stops at start-up on unknown names in the operator's lists", () => {
    expect(() => appWith({ MCP_DEFAULT_APPS: "notes,tasks" })).toThrow(
      "MCP_DEFAULT_APPS: The toolset in the MCP URL (?apps=notes,tasks) names unknown apps: tasks.",
    );
    expect(() => appWith({ TOOLS_DENY: "files_remove" })).toThrow("unknown tools or apps: files_remove");
  });

  it("removes what TOOLS_DENY names from every toolset", async () => {
    expect((await listTools(appWith({ TOOLS_DENY: "notes" }), "?apps=all")).names).toEqual([
      "server_ping",
      "files_list",
      "calendar_list",
    ]);
  });
});

describe("APPS_CLAIM", () => {
  const app = () => appWith({ APPS_CLAIM: "groups", APPS_CLAIM_PREFIX: "/mcp-" });

  it("limits a user to the apps their claim grants, within the toolset", async () => {
    const groupsClaim = { groups: ["/mcp-notes", "/mcp-calendar", "/staff"] };
    expect((await listTools(app(), "", groupsClaim)).names).toEqual([
      "server_ping",
      "notes_list",
      "calendar_list",
    ]);
    expect((await listTools(app(), "?apps=notes,files", groupsClaim)).names).toEqual([
      "server_ping",
      "notes_list",
    ]);
  });

  it("gives a token without the claim only the gateway's own tools", async () => {
    expect((await listTools(app())).names).toEqual(["server_ping"]);
  });
});

describe("protected resource metadata", () => {
  it("advertises the toolsets with their URLs", async () => {
    const res = await appWith().request("/.well-known/oauth-protected-resource/mcp");
    const body = (await res.json()) as { toolsets: unknown[]; toolsets_parameter: string };
    expect(body.toolsets_parameter).toBe("apps");
    expect(body.toolsets).toEqual([
      {
        id: "notes",
        title: "notes",
        description: "The notes app (test).",
        url: "https://mcp.example.com/mcp?apps=notes",
      },
      {
        id: "files",
        title: "files",
        description: "The files app (test).",
        url: "https://mcp.example.com/mcp?apps=files",
      },
      {
        id: "calendar",
        title: "calendar",
        description: "The calendar app (test).",
        url: "https://mcp.example.com/mcp?apps=calendar",
      },
    ]);
  });
});

describe("appAvailability", () => {
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const client = {} as NextcloudClient; // the test groups below do not use it
  const signal = new AbortController().signal;

  it("asks each app once per user, and keeps an app whose answer cannot be had (uncached)", async () => {
    const asked: string[] = [];
    let calendarFails = true;
    const check = (id: string, answer: () => boolean) => () => {
      asked.push(id);
      return Promise.resolve().then(answer);
    };
    const available = appAvailability([
      group(
        "notes",
        check("notes", () => false),
      ),
      group(
        "files",
        check("files", () => true),
      ),
      group("calendar", () => {
        asked.push("calendar");
        return calendarFails ? Promise.reject(new Error("PROPFIND 500")) : Promise.resolve(false);
      }),
      group("gateway"),
    ]);
    expect(await available(client, "alice", signal, log)).toEqual(
      new Set(["nextcloud", "files", "calendar"]),
    );
    calendarFails = false;
    expect(await available(client, "alice", signal, log)).toEqual(new Set(["nextcloud", "files"]));
    expect(await available(client, "alice", signal, log)).toEqual(new Set(["nextcloud", "files"]));
    expect(asked.filter((a) => a === "notes")).toHaveLength(2);
    await available(client, "bob", signal, log);
    expect(asked.filter((a) => a === "notes")).toHaveLength(3);
  });
});
