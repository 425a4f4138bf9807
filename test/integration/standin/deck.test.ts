// The stand-in's Deck on the wire, as Deck's docs/API.md and controllers answer: the capability, ETags
// (quoted, 304 on If-None-Match, a child's change changing its board's), If-Modified-Since, the
// `{status, message}` errors (403 "Permission denied" also for ids that do not exist), and #[CORS] on
// every REST route but not on the OCS comments.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { deckApp, type DeckStandin } from "../../standin/apps/deck.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "./support.ts";

const { issuer } = inject("keycloak");
let alice: UserTokens;
let nc: NextcloudStandin;
const API = "/index.php/apps/deck/api/v1.1";

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer, audience: "nextcloud", apps: [deckApp] });
});
afterAll(async () => {
  await nc.stop();
});

async function call(
  method: string,
  path: string,
  o: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; etag: string | null; body: unknown }> {
  const res = await fetch(`${nc.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${alice.nextcloud}`,
      "OCS-APIRequest": "true",
      Accept: "application/json",
      ...(o.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...o.headers,
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get("etag"),
    body: text === "" ? null : (JSON.parse(text) as unknown),
  };
}

describe("the stand-in's Deck", () => {
  it("advertises Deck's capability to users who have it", async () => {
    const caps = await call("GET", "/ocs/v2.php/cloud/capabilities?format=json");
    expect(
      (caps.body as { ocs: { data: { capabilities: { deck: unknown } } } }).ocs.data.capabilities.deck,
    ).toEqual({
      version: expect.any(String) as string,
      canCreateBoards: true,
      apiVersions: ["1.0", "1.1"],
    });
  });

  it("sends ETags, answers 304 while they match, and changes a board's when a card below it changes", async () => {
    const board = (await call("POST", `${API}/boards`, { body: { title: "Wire", color: "ff0000" } }))
      .body as { id: number };
    const stack = (
      await call("POST", `${API}/boards/${String(board.id)}/stacks`, { body: { title: "To do", order: 0 } })
    ).body as { id: number };
    const cardPath = `${API}/boards/${String(board.id)}/stacks/${String(stack.id)}/cards`;
    const card = (await call("POST", cardPath, { body: { title: "One" } })).body as {
      id: number;
      ETag: string;
    };
    const got = await call("GET", `${API}/boards/${String(board.id)}`);
    expect(got.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(
      (
        await call("GET", `${API}/boards/${String(board.id)}`, {
          headers: { "If-None-Match": got.etag ?? "" },
        })
      ).status,
    ).toBe(304);
    const list = await call("GET", `${API}/boards`);
    expect(
      (await call("GET", `${API}/boards`, { headers: { "If-None-Match": list.etag ?? "" } })).status,
    ).toBe(304);
    const c = await call("GET", `${cardPath}/${String(card.id)}`);
    expect(c.etag).toBe(`"${card.ETag}"`);

    await call("PUT", `${cardPath}/${String(card.id)}`, {
      body: { title: "Two", type: "plain", owner: claims(alice.nextcloud).sub },
    });
    expect(
      (
        await call("GET", `${API}/boards/${String(board.id)}`, {
          headers: { "If-None-Match": got.etag ?? "" },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call("GET", `${API}/boards`, { headers: { "If-None-Match": list.etag ?? "" } })).status,
    ).toBe(200);
    expect((await call("GET", `${cardPath}/${String(card.id)}`)).etag).not.toBe(c.etag);
  });

  it("filters by If-Modified-Since and refuses one it cannot parse", async () => {
    const future = new Date(Date.now() + 3_600_000).toUTCString();
    expect((await call("GET", `${API}/boards`, { headers: { "If-Modified-Since": future } })).body).toEqual(
      [],
    );
    expect(
      await call("GET", `${API}/boards`, { headers: { "If-Modified-Since": "yesterday-ish" } }),
    ).toMatchObject({
      status: 400,
      body: { status: 400, message: "Invalid If-Modified-Since header provided." },
    });
  });

  it("answers 403 Permission denied for an id that does not exist, 400 with the rule for a bad title", async () => {
    expect(await call("GET", `${API}/boards/999999`)).toMatchObject({
      status: 403,
      body: { status: 403, message: "Permission denied" },
    });
    expect(await call("POST", `${API}/boards`, { body: { title: "", color: "ff0000" } })).toMatchObject({
      status: 400,
      body: { status: 400, message: "title must be provided and must be not empty" },
    });
  });

  it("marks every REST route #[CORS] (strict mode refuses them all) but not the OCS comments", async () => {
    const routes = nc.app<DeckStandin>("deck").appRoutes ?? [];
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.every((r) => r.cors)).toBe(true);
    const board = (await call("POST", `${API}/boards`, { body: { title: "Strict", color: "ff0000" } }))
      .body as { id: number };
    const stack = (
      await call("POST", `${API}/boards/${String(board.id)}/stacks`, { body: { title: "A", order: 0 } })
    ).body as {
      id: number;
    };
    const card = (
      await call("POST", `${API}/boards/${String(board.id)}/stacks/${String(stack.id)}/cards`, {
        body: { title: "C" },
      })
    ).body as { id: number };
    nc.setCorsMode("strict");
    try {
      expect(await call("GET", `${API}/boards`)).toMatchObject({
        status: 401,
        body: { message: "CORS requires basic auth" },
      });
      const comments = await call(
        "GET",
        `/ocs/v2.php/apps/deck/api/v1.0/cards/${String(card.id)}/comments?format=json`,
      );
      expect(comments).toMatchObject({ status: 200, body: { ocs: { data: [] } } });
    } finally {
      nc.setCorsMode("honour-header");
    }
  });
});
