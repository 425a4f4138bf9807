// Deck's REST API and Tables API v1 are `#[CORS]` app routes: their requests carry the route class
// "cors-app-route", so once an instance has refused a bearer token there ("CORS requires basic auth"),
// the next calls fail at once with the fix named instead of reaching Nextcloud (and logging the
// session out) again; OCS calls (Deck comments, Tables v2) are not held back.
import { describe, expect, it } from "vitest";
import { DeckClient } from "../../../src/apps/deck/client.ts";
import { listRows, listTables } from "../../../src/apps/tables/client.ts";
import { createNextcloudClient, RouteProbe } from "../../../src/nextcloud/index.ts";
import { failure } from "../nextcloud/fixtures.ts";

const BASE = "https://cloud.example.com";
const ocs = (data: unknown) =>
  Response.json({ ocs: { meta: { status: "ok", statuscode: 200, message: "OK" }, data } });

/** A Nextcloud whose `#[CORS]` app routes refuse bearer tokens while `refuse` is set; OCS works. */
function instance() {
  const seen: string[] = [];
  const state = { refuse: true };
  const fetch = ((input: string | URL) => {
    const url = new URL(String(input));
    seen.push(url.pathname);
    if (url.pathname.startsWith("/ocs/")) return Promise.resolve(ocs([]));
    if (state.refuse)
      return Promise.resolve(Response.json({ message: "CORS requires basic auth" }, { status: 401 }));
    return Promise.resolve(Response.json([]));
  }) as typeof globalThis.fetch;
  const probe = new RouteProbe();
  const nc = createNextcloudClient({
    baseUrl: BASE,
    token: () => "t",
    timeoutMs: 1000,
    retries: 0,
    fetch,
    routes: probe,
    userId: "alice",
  });
  return { nc, seen, state, probe };
}

describe("Deck and Tables v1 requests are marked as #[CORS] app routes", () => {
  it("Deck: after a refusal the next call is not sent and names the fix; comments (OCS) still go", async () => {
    const { nc, seen, probe } = instance();
    const deck = new DeckClient(nc, AbortSignal.timeout(5000));
    const first = await failure(deck.listBoards({ details: false }));
    expect(first.kind).toBe("bearer_refused");
    expect(seen).toEqual(["/index.php/apps/deck/api/v1.1/boards"]);

    const second = await failure(deck.listBoards({ details: false }));
    expect(second.kind).toBe("bearer_refused");
    expect(second.description).toContain("OCS-APIRequest");
    expect(seen).toHaveLength(1);
    expect(probe.verdict(BASE, "cors-app-route").state).toBe("refused");

    await deck.listComments(7, 10, 0);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatch(/^\/ocs\/v2\.php\/apps\/deck\/api\/v1\.0\/cards\/7\/comments/);
  });

  it("Deck: a served call records that the instance accepts the route class", async () => {
    const { nc, state, probe } = instance();
    state.refuse = false;
    await new DeckClient(nc, AbortSignal.timeout(5000)).listBoards({ details: false });
    expect(probe.verdict(BASE, "cors-app-route").state).toBe("accepted");
  });

  it("Tables: after a refusal row reads (v1) are not sent; tables (OCS v2) still are", async () => {
    const { nc, seen } = instance();
    const page = { limit: 10, offset: 0 };
    expect((await failure(listRows(nc, 3, page))).kind).toBe("bearer_refused");
    expect(seen).toEqual(["/index.php/apps/tables/api/1/tables/3/rows"]);

    const second = await failure(listRows(nc, 3, page));
    expect(second.kind).toBe("bearer_refused");
    expect(seen).toHaveLength(1);

    expect(await listTables(nc)).toEqual([]);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe("/ocs/v2.php/apps/tables/api/2/tables");
  });
});
