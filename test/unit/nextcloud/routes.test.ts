// The route probe (src/nextcloud/routes.ts) and how send() and the client use it: a refusal of a
// `#[CORS]` app route is remembered per instance for the recheck interval (clock injected), requests
// marked with that route class are then not sent, the version says "refused" for Nextcloud 30 and
// older before the first request, and an instance that starts accepting is noticed after the interval.
import { describe, expect, it } from "vitest";
import {
  CapabilitiesCache,
  createNextcloudClient,
  expectedByVersion,
  ROUTE_RECHECK_MS,
  RouteProbe,
  send,
  type NextcloudClientOptions,
} from "../../../src/nextcloud/index.ts";
import { failure } from "./fixtures.ts";

const BASE = "https://cloud.example.com";
const CORS_ROUTE = "/index.php/apps/deck/api/v1.0/boards";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A Nextcloud whose `#[CORS]` routes refuse or accept bearer tokens, counting what reaches it. */
function fakeNextcloud(o: { refuse: boolean; major?: number }) {
  const seen: string[] = [];
  const fetch = ((input: string | URL) => {
    const path = new URL(String(input)).pathname;
    seen.push(path);
    if (path.endsWith("/cloud/capabilities")) {
      const major = o.major ?? 31;
      return Promise.resolve(
        Response.json({
          ocs: {
            meta: { status: "ok", statuscode: 200, message: "OK" },
            data: {
              version: { major, minor: 0, micro: 1, string: `${String(major)}.0.1` },
              capabilities: {},
            },
          },
        }),
      );
    }
    return Promise.resolve(
      o.refuse ? Response.json({ message: "CORS requires basic auth" }, { status: 401 }) : Response.json([]),
    );
  }) as typeof globalThis.fetch;
  return { seen, fetch, state: o };
}

describe("RouteProbe", () => {
  it("knows nothing at first, then a refusal until the interval has passed", () => {
    const c = clock();
    const probe = new RouteProbe({ now: c.now });
    expect(probe.verdict(BASE, "cors-app-route")).toEqual({ state: "unknown" });
    expect(probe.known(BASE, "cors-app-route")).toBe(false);
    probe.record(`${BASE}/`, "cors-app-route", "refused", "refused by Nextcloud");
    expect(probe.verdict(BASE, "cors-app-route")).toEqual({
      state: "refused",
      reason: "refused by Nextcloud",
      recheckAt: 1_000_000 + ROUTE_RECHECK_MS,
    });
    expect(probe.shouldTry(BASE, "cors-app-route")).toBe(false);
    c.advance(ROUTE_RECHECK_MS - 1);
    expect(probe.shouldTry(BASE, "cors-app-route")).toBe(false);
    c.advance(1);
    expect(probe.verdict(BASE, "cors-app-route")).toMatchObject({ state: "unknown" });
    expect(probe.shouldTry(BASE, "cors-app-route")).toBe(true);
    expect(probe.known(BASE, "cors-app-route")).toBe(true);
  });

  it("keeps instances apart and remembers acceptance without expiry", () => {
    const c = clock();
    const probe = new RouteProbe({ now: c.now, recheckMs: 1000 });
    probe.record(BASE, "cors-app-route", "refused", "x");
    probe.record("https://other.example.com", "cors-app-route", "accepted", "served");
    expect(probe.shouldTry("https://other.example.com", "cors-app-route")).toBe(true);
    expect(probe.shouldTry(BASE, "cors-app-route")).toBe(false);
    c.advance(10 * 365 * 24 * 3600_000);
    expect(probe.verdict("https://other.example.com", "cors-app-route").state).toBe("accepted");
  });

  it("says by version: Nextcloud 30 and older refuse bearer tokens on #[CORS] routes, 31 and later accept them", () => {
    expect(expectedByVersion("cors-app-route", 29)).toBe("refused");
    expect(expectedByVersion("cors-app-route", 30)).toBe("refused");
    expect(expectedByVersion("cors-app-route", 31)).toBe("accepted");
    expect(expectedByVersion("cors-app-route", 32)).toBe("accepted");
  });
});

describe("send() with the probe", () => {
  const options = (probe: RouteProbe, nc: ReturnType<typeof fakeNextcloud>): NextcloudClientOptions => ({
    baseUrl: BASE,
    token: () => "t",
    timeoutMs: 1000,
    fetch: nc.fetch,
    routes: probe,
  });

  it("remembers a refusal, fails marked requests at once with the fix named, and tries again after the interval", async () => {
    const c = clock();
    const probe = new RouteProbe({ now: c.now });
    const nc = fakeNextcloud({ refuse: true });
    const req = {
      method: "GET",
      path: CORS_ROUTE,
      what: "your boards",
      routeClass: "cors-app-route",
    } as const;

    const first = await failure(send(options(probe, nc), req));
    expect(first.kind).toBe("bearer_refused");
    expect(nc.seen).toEqual([CORS_ROUTE]);

    const second = await failure(send(options(probe, nc), req));
    expect(second.kind).toBe("bearer_refused");
    expect(second.description).toBe(first.description);
    expect(second.description).toContain("OCS-APIRequest");
    expect(second.description).toContain("user_oidc PR 1221 or server PR 55878");
    expect(nc.seen).toHaveLength(1);

    // Nextcloud was fixed meanwhile: noticed once the interval has passed.
    nc.state.refuse = false;
    c.advance(ROUTE_RECHECK_MS);
    await send(options(probe, nc), req);
    expect(nc.seen).toHaveLength(2);
    expect(probe.verdict(BASE, "cors-app-route").state).toBe("accepted");
  });

  it("records the refusal of an unmarked request too, but still sends unmarked requests", async () => {
    const probe = new RouteProbe();
    const nc = fakeNextcloud({ refuse: true });
    const req = { method: "GET", path: CORS_ROUTE, what: "your boards" };
    expect((await failure(send(options(probe, nc), req))).kind).toBe("bearer_refused");
    expect(probe.verdict(BASE, "cors-app-route").state).toBe("refused");
    expect((await failure(send(options(probe, nc), req))).kind).toBe("bearer_refused");
    expect(nc.seen).toHaveLength(2);
  });

  it("does not take another 401 for a refusal of the route", async () => {
    const probe = new RouteProbe();
    const fetch = (() =>
      Promise.resolve(
        Response.json({ message: "Current user is not logged in" }, { status: 401 }),
      )) as typeof globalThis.fetch;
    const err = await failure(
      send(
        { baseUrl: BASE, token: () => "t", timeoutMs: 1000, fetch, routes: probe },
        { method: "GET", path: CORS_ROUTE, what: "x" },
      ),
    );
    expect(err.kind).toBe("unauthorized");
    expect(probe.known(BASE, "cors-app-route")).toBe(false);
  });
});

describe("NextcloudClient.routeUsable", () => {
  const client = (probe: RouteProbe, nc: ReturnType<typeof fakeNextcloud>) =>
    createNextcloudClient(
      {
        baseUrl: BASE,
        token: () => "t",
        timeoutMs: 1000,
        fetch: nc.fetch,
        routes: probe,
        userKey: "sub:a",
      },
      // Each test's own cache: the shared one keeps an instance's version for ten minutes.
      { capabilities: new CapabilitiesCache() },
    );

  it("on Nextcloud 30, says no before any request to the route, then lets one request try per interval", async () => {
    const c = clock();
    const probe = new RouteProbe({ now: c.now });
    const nc = fakeNextcloud({ refuse: true, major: 30 });
    expect(await client(probe, nc).routeUsable("cors-app-route")).toBe(false);
    expect(probe.verdict(BASE, "cors-app-route").reason).toBe("Nextcloud 30 refuses it");
    expect(await client(probe, nc).routeUsable("cors-app-route")).toBe(false);
    expect(nc.seen.filter((p) => p === CORS_ROUTE)).toEqual([]);
    c.advance(ROUTE_RECHECK_MS);
    // A patched Nextcloud 30 gets its chance: the version is not asked again.
    expect(await client(probe, nc).routeUsable("cors-app-route")).toBe(true);
  });

  it("on Nextcloud 31, says yes until a request is refused", async () => {
    const probe = new RouteProbe();
    const nc = fakeNextcloud({ refuse: true, major: 31 });
    const c = client(probe, nc);
    expect(await c.routeUsable("cors-app-route")).toBe(true);
    await failure(send(c.options, { method: "GET", path: CORS_ROUTE, what: "x" }));
    expect(await c.routeUsable("cors-app-route")).toBe(false);
  });

  it("tries the route when the version cannot be read", async () => {
    const probe = new RouteProbe();
    const fetch = (() => Promise.resolve(new Response("nope", { status: 500 }))) as typeof globalThis.fetch;
    const c = createNextcloudClient({
      baseUrl: BASE,
      token: () => "t",
      timeoutMs: 1000,
      fetch,
      routes: probe,
      userKey: "k",
      retries: 0,
    });
    expect(await c.routeUsable("cors-app-route")).toBe(true);
  });
});
