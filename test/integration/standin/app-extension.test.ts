// The stand-in's app extension point (test/standin/apps/types.ts) and the CORS rule it applies to
// `#[CORS]` app routes (test/standin/cors.ts), with a real Keycloak token exchanged for Nextcloud:
// what an app part gets (the user, the path parameters), what the front answers for it (capabilities
// merged only for users who have the app, 404 for users who do not), and the two CORS modes.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { sendOcs } from "../../standin/ocs.ts";
import { sendJson } from "../../standin/respond.ts";
import { startNextcloudStandin, type NextcloudStandin, type StandinApp } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "./support.ts";

const { issuer } = inject("keycloak");
let alice: UserTokens;
let nc: NextcloudStandin;

const toy = (): StandinApp => ({
  id: "toy",
  capabilities: () => ({ toy: { version: "1.2.3" } }),
  appRoutes: [
    {
      pattern: /^\/apps\/toy\/api\/items\/(\d+)$/,
      cors: true,
      handle: ({ res, match, user }) => {
        sendJson(res, 200, { id: Number(match[1]), owner: user.uid, via: "cors" });
      },
    },
    {
      pattern: /^\/apps\/toy\/plain$/,
      cors: false,
      handle: ({ res, user }) => {
        sendJson(res, 200, { owner: user.uid, via: "plain" });
      },
    },
  ],
  ocsRoutes: [
    {
      pattern: /^apps\/toy\/api\/v1\/hello$/,
      handle: ({ req, res, url, version, user }) => {
        sendOcs(req, res, url, version, 200, { hello: user.uid });
      },
    },
  ],
});

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer, audience: "nextcloud", apps: [toy] });
});
afterAll(async () => {
  await nc.stop();
});

async function call(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${nc.url}${path}`, {
    headers: { Authorization: `Bearer ${alice.nextcloud}`, ...headers },
  });
  return { status: res.status, body: await res.json() };
}
const uid = () => claims(alice.nextcloud).sub ?? "";

describe("an app of the extension point", () => {
  it("is served with the path parameters and the authenticated user, with or without /index.php", async () => {
    const ocsHeader = { "OCS-APIRequest": "true" };
    expect(await call("/index.php/apps/toy/api/items/42", ocsHeader)).toEqual({
      status: 200,
      body: { id: 42, owner: uid(), via: "cors" },
    });
    expect((await call("/apps/toy/plain")).body).toEqual({ owner: uid(), via: "plain" });
    expect((await call("/ocs/v2.php/apps/toy/api/v1/hello?format=json", ocsHeader)).body).toMatchObject({
      ocs: { data: { hello: uid() } },
    });
  });

  it("adds its capabilities, and is gone (capabilities and routes) for a user who has it turned off", async () => {
    const caps = async () =>
      (
        (await call("/ocs/v2.php/cloud/capabilities?format=json", { "OCS-APIRequest": "true" })).body as {
          ocs: { data: { capabilities: Record<string, unknown> } };
        }
      ).ocs.data.capabilities;
    expect((await caps()).toy).toEqual({ version: "1.2.3" });
    nc.setAppEnabled(uid(), "toy", false);
    try {
      expect((await caps()).toy).toBeUndefined();
      expect((await call("/apps/toy/plain")).status).toBe(404);
      expect(
        (await call("/ocs/v2.php/apps/toy/api/v1/hello?format=json", { "OCS-APIRequest": "true" })).status,
      ).toBe(404);
    } finally {
      nc.setAppEnabled(uid(), "toy", true);
    }
    expect((await call("/apps/toy/plain")).status).toBe(200);
  });

  it("refuses anonymous requests like Nextcloud", async () => {
    const res = await fetch(`${nc.url}/apps/toy/plain`);
    expect(res.status).toBe(401);
  });
});

describe("the CORS rule on #[CORS] app routes", () => {
  const refused = { status: 401, body: { message: "CORS requires basic auth" } };

  it("honours a non-empty OCS-APIRequest header by default (Nextcloud 31+), refuses bearer requests without it", async () => {
    expect((await call("/apps/toy/api/items/1", { "OCS-APIRequest": "true" })).status).toBe(200);
    expect(await call("/apps/toy/api/items/1")).toEqual(refused);
    expect(await call("/apps/toy/api/items/1", { "OCS-APIRequest": "" })).toEqual(refused);
    // The Notes API is such a route too.
    expect((await call("/index.php/apps/notes/api/v1/notes")).status).toBe(401);
    expect((await call("/index.php/apps/notes/api/v1/notes", { "OCS-APIRequest": "true" })).status).toBe(200);
  });

  it("refuses every bearer request in strict mode (Nextcloud 30 and older, or a proxy that strips the header), but not routes without #[CORS]", async () => {
    nc.setCorsMode("strict");
    try {
      expect(await call("/apps/toy/api/items/1", { "OCS-APIRequest": "true" })).toEqual(refused);
      expect((await call("/index.php/apps/notes/api/v1/notes", { "OCS-APIRequest": "true" })).status).toBe(
        401,
      );
      expect((await call("/apps/toy/plain")).status).toBe(200);
    } finally {
      nc.setCorsMode("honour-header");
    }
  });

  it("refuses bearer requests whatever the headers on Nextcloud 30, which status.php and the capabilities report", async () => {
    nc.setNextcloudVersion("30.0.12");
    try {
      const status = (await (await fetch(`${nc.url}/status.php`)).json()) as Record<string, unknown>;
      expect(status).toMatchObject({ version: "30.0.12.1", versionstring: "30.0.12" });
      const caps = await call("/ocs/v2.php/cloud/capabilities?format=json", { "OCS-APIRequest": "true" });
      expect(caps.body).toMatchObject({
        ocs: { data: { version: { major: 30, minor: 0, micro: 12, string: "30.0.12" } } },
      });
      expect(await call("/apps/toy/api/items/1", { "OCS-APIRequest": "true" })).toEqual(refused);
      expect(await call("/apps/toy/api/items/1")).toEqual(refused);
      expect((await call("/apps/toy/plain")).status).toBe(200);
      // user_oidc PR 1221 flags bearer sessions app_api, which CORSMiddleware lets through.
      nc.setUserOidcPatched(true);
      expect((await call("/apps/toy/api/items/1")).status).toBe(200);
    } finally {
      nc.setUserOidcPatched(false);
      nc.setNextcloudVersion("31.0.9");
    }
    expect((await call("/apps/toy/api/items/1", { "OCS-APIRequest": "true" })).status).toBe(200);
  });

  it("answers anonymous requests like Nextcloud: CORSMiddleware first, then 'not logged in'", async () => {
    const anonymous = async (headers: Record<string, string>) => {
      const res = await fetch(`${nc.url}/index.php/apps/toy/api/items/1`, { headers });
      return { status: res.status, body: await res.json() };
    };
    expect(await anonymous({})).toEqual(refused);
    expect(await anonymous({ "OCS-APIRequest": "true" })).toEqual({
      status: 401,
      body: { message: "Current user is not logged in" },
    });
    nc.setCorsMode("strict");
    try {
      expect(await anonymous({ "OCS-APIRequest": "true" })).toEqual(refused);
    } finally {
      nc.setCorsMode("honour-header");
    }
  });
});
