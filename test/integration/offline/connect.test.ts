// End to end in headless Chromium against the real Keycloak and PostgreSQL: a user grants offline
// access at /connect, sees it on the account page, and revokes it; single-use state; a session
// revoked at Keycloak and a back-channel logout both turn into a revoked grant with its reason.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { generateKeyPair, SignJWT } from "jose";
import * as oidc from "openid-client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startGateway } from "../../../src/cli/serve.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { GatewayError } from "../../../src/errors.ts";
import { createLogger } from "../../../src/log.ts";
import { GrantStore, grantAad, openStore, Sealer, type Store } from "../../../src/store/index.ts";
import { BACKCHANNEL_REASON } from "../../../src/web/backchannel.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";
import { callTool } from "../support/mcp-call.ts";
import { clientConfig, DEMO_USERS, gatewayClient, signIn } from "../support/oauth.ts";
import { grantOfflineAccess, loginAtKeycloak } from "../support/offline-grant.ts";
import { admin, createUser, offlineSessionIds } from "./support.ts";

const realmEnv = inject("realmEnv");
const base = realmEnv.MCP_GATEWAY_URL;
const sealingKey = { kid: "e2e", key: new Uint8Array(randomBytes(32)) };
const sealer = new Sealer([sealingKey]);

let browser: Browser;
let gw: TestGateway;
let store: Store;
let grants: GrantStore;
let client: oidc.Configuration;

beforeAll(async () => {
  // The realm's redirect URI and back-channel logout URL point at this port.
  gw = await startTestGateway({
    port: inject("gatewayPort"),
    env: { SEALING_KEYS: `e2e:${Buffer.from(sealingKey.key).toString("base64")}` },
  });
  browser = await launchBrowser();
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  grants = new GrantStore(store.db, sealer);
  client = await gatewayClient();
});
afterAll(async () => {
  await browser.close();
  await store.close();
  await gw.stop();
});

async function userIdOf(username: string): Promise<string> {
  const row = await store.db
    .selectFrom("users")
    .select("id")
    .where("username", "=", username)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function userIdBySubject(subject: string): Promise<string> {
  const row = await store.db
    .selectFrom("users")
    .select("id")
    .where("subject", "=", subject)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The stored refresh token of the user's active grant, opened with the test's key. */
async function storedToken(userId: string): Promise<string> {
  const g = await store.db
    .selectFrom("offline_grants as g")
    .innerJoin("users as u", "u.id", "g.user_id")
    .select(["g.id", "g.refresh_token_sealed", "g.key_id", "u.subject"])
    .where("g.user_id", "=", userId)
    .where("g.status", "=", "active")
    .executeTakeFirstOrThrow();
  if (g.refresh_token_sealed === null || g.key_id === null) throw new Error("the active grant is blanked");
  return sealer.open(g.refresh_token_sealed, g.key_id, grantAad(g.id, g.subject));
}

/** Opens the account page in a fresh context and grants offline access through Keycloak's login page. */
async function connect(
  user: { username: string; password: string },
  options: { bypassCSP?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await grantOfflineAccess(page, user);
  return { context, page };
}

/** Waits for `url`, signing in at Keycloak on the way if it asks (its SSO session may be gone). */
async function arriveSigningInIfAsked(
  page: Page,
  user: { username: string; password: string },
  url: string,
): Promise<void> {
  const next = await Promise.race([
    page.waitForURL(url).then(
      () => "back" as const,
      () => "failed" as const,
    ),
    page
      .locator("#username")
      .waitFor()
      .then(
        () => "login" as const,
        () => "failed" as const,
      ),
  ]);
  expect(next).not.toBe("failed");
  if (next === "login") {
    await loginAtKeycloak(page, user);
    await page.waitForURL(url);
  }
}

/** The account page as a browser holding only `cookie` (a copied session cookie) sees it. */
async function accountWithCookie(cookie: string): Promise<string> {
  const res = await fetch(`${base}/account`, { headers: { cookie: `ncmcp_session=${cookie}` } });
  expect(res.status).toBe(200);
  return res.text();
}

describe("offline access in the browser", () => {
  it("connects, shows the grant on the account page, and disconnects (revoking at Keycloak)", async () => {
    const { context, page } = await connect(DEMO_USERS.alice);
    try {
      await expect.poll(() => page.getByRole("status").innerText()).toMatch(/Offline access granted/);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Granted\./);
      expect(await page.locator("#user-name").innerText()).toMatch(/alice/i);
      expect(await page.getByRole("row", { name: /grants-keepalive/ }).innerText()).toMatch(/Next refresh/);

      // The session cookie: HttpOnly, SameSite=Lax (Secure only on https, and this is http://localhost).
      const cookies = await context.cookies(base);
      const session = cookies.find((c) => c.name === "ncmcp_session");
      expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", secure: false });
      expect(cookies.find((c) => c.name === "ncmcp_login")).toBeUndefined();

      // Stored sealed, not in clear, and it is a live offline token of the gateway client.
      const userId = await userIdOf("alice");
      const grant = await grants.activeGrant(userId);
      expect(grant?.scope.split(" ")).toEqual(expect.arrayContaining(["openid", "offline_access"]));
      const rt = await storedToken(userId);
      expect(Buffer.from(grant?.refresh_token_sealed ?? []).includes(Buffer.from(rt))).toBe(false);
      const refreshed = await grants.refresh(grant?.id ?? "", async (t) => {
        const r = await oidc.refreshTokenGrant(client, t);
        return { refreshToken: r.refresh_token, accessToken: r.access_token, expiresIn: r.expires_in };
      });
      expect(refreshed.accessToken).toMatch(/^eyJ/);
      await page.reload();
      expect(await page.getByRole("list").last().innerText()).toMatch(/Offline access refreshed/);
      const live = await storedToken(userId);

      await page.getByRole("button", { name: "Revoke offline access" }).click();
      await page.waitForURL(`${base}/account?notice=disconnected`);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Not granted\./);
      expect(await grants.latestGrant(userId)).toBeUndefined();
      // Revoked at Keycloak (RFC 7009) before it was deleted: the token no longer refreshes.
      const dead = await oidc.refreshTokenGrant(client, live).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((dead as oidc.ResponseBodyError | undefined)?.error).toBe("invalid_grant");
    } finally {
      await context.close();
    }
  });

  it("starts no grant from another site: a cross-site GET shows the page, a cross-site POST is refused", async () => {
    const user = await createUser("csrf");
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await loginAtKeycloak(page, user);
      await page.waitForURL(`${base}/account?notice=signedin`);
      const userId = await userIdBySubject(user.id);
      const attacker = "http://attacker.test";
      const serve = (path: string, body: string) =>
        page.route(`${attacker}${path}`, (route) => route.fulfill({ contentType: "text/html", body }));

      // A link on another site: /connect shows its page and starts nothing (signed in at Keycloak too,
      // so a started flow would come straight back with a grant).
      await serve("/get", `<a id="go" href="${base}/connect">win a prize</a>`);
      await page.goto(`${attacker}/get`);
      await page.locator("#go").click();
      await page.waitForURL(`${base}/connect`);
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Grant offline access");
      expect((await context.cookies(base)).find((c) => c.name === "ncmcp_login")).toBeUndefined();
      expect(await grants.latestGrant(userId)).toBeUndefined();

      // A form on another site posting to /connect with a guessed token: refused.
      await serve(
        "/post",
        `<form method="post" action="${base}/connect"><input name="form_token" value="guess" /><button id="go">go</button></form>`,
      );
      await page.goto(`${attacker}/post`);
      const refused = page.waitForResponse(
        (r) => r.url() === `${base}/connect` && r.request().method() === "POST",
      );
      await page.locator("#go").click();
      expect((await refused).status()).toBe(403);
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Request refused");

      // From the gateway's own origin with the session, but without the page's form token: refused.
      const session = (await context.cookies(base)).find((c) => c.name === "ncmcp_session");
      const noToken = await fetch(`${base}/connect`, {
        method: "POST",
        redirect: "manual",
        headers: {
          origin: new URL(base).origin,
          cookie: `ncmcp_session=${session?.value ?? ""}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "form_token=",
      });
      expect(noToken.status).toBe(403);
      expect(noToken.headers.get("set-cookie") ?? "").not.toMatch(/ncmcp_login=/);
      expect(await grants.latestGrant(userId)).toBeUndefined();

      // The user's own click on the page grants.
      await page.goto(`${base}/connect`);
      await page.getByRole("button", { name: "Grant offline access" }).click();
      await page.waitForURL(`${base}/account?notice=connected`);
      expect((await grants.latestGrant(userId))?.status).toBe("active");
    } finally {
      await context.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("shows no notice for a query value that names a member of Object.prototype", async () => {
    for (const notice of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      const res = await fetch(`${base}/account?notice=${notice}`);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).not.toContain('role="status"');
      expect(body).not.toMatch(/function|native code|\[object/);
    }
    const known = await (await fetch(`${base}/account?notice=signedout`)).text();
    expect(known).toContain("You are signed out of this page.");
  });

  it("renders accessible pages: axe-core finds no WCAG 2 A/AA violations signed out, granted and not granted", async () => {
    const user = await createUser("a11y");
    // The pages' CSP allows no script; this context lets the test inject axe-core.
    const { context, page } = await connect(user, { bypassCSP: true });
    try {
      const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
      const violations = async () => {
        await page.addScriptTag({ path: axePath });
        // A string, evaluated in the page (this project's types have no DOM).
        return page.evaluate<string[]>(
          `axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] })
             .then((r) => r.violations.map((v) => v.id + ": " + v.help + " (" + v.nodes.length + ")"))`,
        );
      };
      expect(await violations()).toEqual([]);
      await page.getByRole("button", { name: "Revoke offline access" }).click();
      await page.waitForURL(`${base}/account?notice=disconnected`);
      expect(await violations()).toEqual([]);
      await page.getByRole("button", { name: "Sign out of this page" }).click();
      await page.waitForURL(`${base}/account?notice=signedout`);
      expect(await page.getByRole("link", { name: "Sign in", exact: true }).count()).toBe(1);
      expect(await violations()).toEqual([]);
    } finally {
      await context.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("marks its cookies Secure with the __Host- prefix when the public URL is https", async () => {
    const tls = await startTestGateway({
      env: {
        GATEWAY_PUBLIC_URL: "https://localhost:8443",
        SEALING_KEYS: `e2e:${Buffer.from(sealingKey.key).toString("base64")}`,
      },
    });
    try {
      const res = await fetch(`${tls.gateway.url}/login`, { redirect: "manual" });
      expect(res.status).toBe(303);
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^__Host-ncmcp_login=/);
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).toMatch(/; HttpOnly/i);
      expect(cookie).toMatch(/; SameSite=Lax/i);
      expect(cookie).toMatch(/; Path=\//i);
      const location = new URL(res.headers.get("location") ?? "");
      expect(location.searchParams.get("redirect_uri")).toBe("https://localhost:8443/oauth/callback");
    } finally {
      await tls.stop();
    }
  });

  it("refuses a reused, an unknown, and a foreign-browser state, and stores nothing for them", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const callbacks: string[] = [];
      page.on("request", (r) => {
        if (r.url().startsWith(`${base}/oauth/callback`)) callbacks.push(r.url());
      });
      await page.goto(`${base}/login`);
      await loginAtKeycloak(page, DEMO_USERS.bob);
      await page.waitForURL(`${base}/account?notice=signedin`);
      // Signed in without granting: nothing stored but the user.
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Not granted\./);
      expect(await grants.latestGrant(await userIdOf("bob"))).toBeUndefined();

      const used = callbacks[0] ?? "";
      expect(used).toContain("state=");
      const reused = await page.goto(used);
      expect(reused?.status()).toBe(400);
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe(
        "This sign-in link is no longer valid",
      );

      const unknown = await page.goto(`${base}/oauth/callback?state=made-up&code=made-up`);
      expect(unknown?.status()).toBe(400);

      // A sign-in started outside this browser (an attacker's link) cannot finish here: not when this
      // browser has no sign-in of its own under way, nor when it has a different one.
      const started = await fetch(`${base}/login`, { redirect: "manual" });
      const idpUrl = started.headers.get("location") ?? "";
      expect(idpUrl).toMatch(/code_challenge_method=S256/);
      expect(idpUrl).toMatch(/nonce=/);
      const foreign = page.waitForResponse((r) => r.url().startsWith(`${base}/oauth/callback`));
      await page.goto(idpUrl); // bob's Keycloak session is still there: straight back to the callback
      expect((await foreign).status()).toBe(400);
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe(
        "This sign-in link is no longer valid",
      );
      const own = await fetch(`${base}/login`, { redirect: "manual" });
      const ownCookie = /ncmcp_login=([^;]+)/.exec(own.headers.get("set-cookie") ?? "")?.[1] ?? "";
      await context.addCookies([
        { name: "ncmcp_login", value: ownCookie, url: base, httpOnly: true, sameSite: "Lax" },
      ]);
      const elsewhere = page.waitForResponse((r) => r.url().startsWith(`${base}/oauth/callback`));
      await page.goto(idpUrl);
      expect((await elsewhere).status()).toBe(400);
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe(
        "This sign-in was started elsewhere",
      );
      // Every callback clears the login cookie, whatever its outcome.
      expect((await context.cookies(base)).find((c) => c.name === "ncmcp_login")).toBeUndefined();
      expect(await grants.latestGrant(await userIdOf("bob"))).toBeUndefined();
    } finally {
      await context.close();
    }
  });

  it("finishes on one replica a sign-in that another replica started (state sealed in the cookie)", async () => {
    // A second gateway on the same database and public URL, as a second replica behind a load balancer.
    const other = await startGateway(
      loadConfig({
        GATEWAY_PUBLIC_URL: base,
        PORT: String(await freePort()),
        OIDC_ISSUER: inject("keycloak").issuer,
        OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
        DATABASE_URL: gw.databaseUrl,
        SEALING_KEYS: `e2e:${Buffer.from(sealingKey.key).toString("base64")}`,
        JOBS_ENABLED: "false",
      }),
      createLogger("silent"),
      { migrate: false },
    );
    const user = await createUser("replica");
    const context = await browser.newContext();
    try {
      const started = await fetch(`${other.url}/login`, { redirect: "manual" });
      expect(started.status).toBe(303);
      const bound = /ncmcp_login=([^;]+)/.exec(started.headers.get("set-cookie") ?? "")?.[1] ?? "";
      // The browser carries the cookie the other replica set; the callback reaches this replica.
      await context.addCookies([
        { name: "ncmcp_login", value: bound, url: base, httpOnly: true, sameSite: "Lax" },
      ]);
      const page = await context.newPage();
      await page.goto(started.headers.get("location") ?? "");
      await loginAtKeycloak(page, user);
      await page.waitForURL(`${base}/account?notice=signedin`);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Not granted\./);
      const row = await store.db
        .selectFrom("users")
        .select("id")
        .where("subject", "=", user.id)
        .executeTakeFirst();
      expect(row).toBeDefined();
    } finally {
      await context.close();
      await other.shutdown("test end");
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("marks the grant revoked when an administrator ends the offline session (back-channel logout), and reconnects", async () => {
    const user = await createUser("ended");
    const { context, page } = await connect(user);
    try {
      const userId = await userIdOf(user.username);
      const [sessionId] = await offlineSessionIds(user.id);
      // Keycloak ends the offline session and POSTs a logout token to the gateway.
      await admin("DELETE", `/sessions/${sessionId ?? ""}?isOffline=true`);
      const revoked = await waitFor("the grant revoked by back-channel logout", async () => {
        const g = await grants.latestGrant(userId);
        return g?.status === "revoked" ? g : undefined;
      });
      expect(revoked.revoked_reason).toBe(BACKCHANNEL_REASON);
      expect(revoked.refresh_token_sealed).toBeNull();

      // The logout ended the account-page session too, also for a copy of its cookie.
      const copied = (await context.cookies(base)).find((c) => c.name === "ncmcp_session")?.value ?? "";
      expect(await accountWithCookie(copied)).toContain("Sign in with your company account");
      await page.goto(`${base}/account`);
      await page.getByRole("link", { name: "Sign in", exact: true }).click();
      await arriveSigningInIfAsked(page, user, `${base}/account?notice=signedin`);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Revoked\./);
      expect(await page.locator("#revoked-reason").innerText()).toBe(BACKCHANNEL_REASON);
      await page.getByRole("button", { name: "Reconnect" }).click();
      await arriveSigningInIfAsked(page, user, `${base}/account?notice=connected`);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Granted\./);
      const rows = await store.db
        .selectFrom("offline_grants")
        .select("status")
        .where("user_id", "=", userId)
        .execute();
      expect(rows.map((r) => r.status).sort()).toEqual(["active", "revoked"]);
      const actions = await store.db
        .selectFrom("audit_events")
        .select("action")
        .where("user_id", "=", userId)
        .orderBy("id")
        .execute();
      expect(actions.map((a) => a.action)).toEqual(["connect", "revoke", "connect"]);
    } finally {
      await context.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("turns a session ended at Keycloak into a revoked grant at the next refresh when the back channel is not reachable", async () => {
    const user = await createUser("silent");
    const { context, page } = await connect(user);
    const [gatewayClientRep] = (await admin("GET", "/clients?clientId=mcp-gateway")) as {
      id: string;
      attributes: Record<string, string>;
    }[];
    if (!gatewayClientRep) throw new Error("no mcp-gateway client");
    const logoutUrl = gatewayClientRep.attributes["backchannel.logout.url"] ?? "";
    const setLogoutUrl = (url: string) =>
      admin("PUT", `/clients/${gatewayClientRep.id}`, {
        ...gatewayClientRep,
        attributes: { ...gatewayClientRep.attributes, "backchannel.logout.url": url },
      });
    try {
      const userId = await userIdOf(user.username);
      const grant = await grants.activeGrant(userId);
      // As in a deployment where Keycloak cannot reach the gateway: no logout token arrives.
      await setLogoutUrl("");
      const [sessionId] = await offlineSessionIds(user.id);
      await admin("DELETE", `/sessions/${sessionId ?? ""}?isOffline=true`);
      expect((await grants.activeGrant(userId))?.id).toBe(grant?.id);

      const failure = await grants
        .refresh(grant?.id ?? "", async (t) => {
          const r = await oidc.refreshTokenGrant(client, t);
          return { refreshToken: r.refresh_token, accessToken: r.access_token };
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failure).toBeInstanceOf(GatewayError);
      expect((failure as GatewayError).code).toBe("invalid_grant");
      await page.goto(`${base}/account`);
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Revoked\./);
      expect(await page.locator("#revoked-reason").innerText()).toMatch(/invalid_grant/);
    } finally {
      await setLogoutUrl(logoutUrl);
      await context.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("offline_access_status tells an MCP client the user's status and the /connect URL", async () => {
    const user = await createUser("status");
    try {
      const mcpClient = await clientConfig("mcp-client");
      const { access_token: token } = await signIn(browser, {
        config: mcpClient,
        redirectUri: "http://127.0.0.1:38131/callback",
        scope: "openid mcp:tools",
        user,
      });
      const before = await callTool(base, token, "offline_access_status", {});
      expect(before.structuredContent).toMatchObject({
        status: "not_granted",
        connectUrl: `${base}/connect`,
      });
      expect(before.content[0]?.text).toContain(`${base}/connect`);

      const { context } = await connect(user);
      await context.close();
      const after = await callTool(base, token, "offline_access_status", {});
      expect(after.structuredContent).toMatchObject({ status: "granted", accountUrl: `${base}/account` });
    } finally {
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("reconnecting revokes the previous grant at Keycloak, says so, and keeps only the new token", async () => {
    const user = await createUser("again");
    const first = await connect(user);
    await first.context.close();
    const userId = await userIdOf(user.username);
    const oldToken = await storedToken(userId);
    // A second browser: a second session at Keycloak.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await grantOfflineAccess(page, user, { notice: "reconnected" });
      expect(await page.getByRole("status").innerText()).toBe(
        "Offline access granted. Your previous grant was revoked at the identity provider and deleted from the gateway.",
      );
      expect(await page.locator("#offline-status").innerText()).toMatch(/^Granted\./);
      const dead = await oidc.refreshTokenGrant(client, oldToken).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((dead as oidc.ResponseBodyError | undefined)?.error).toBe("invalid_grant");
      const rows = await store.db
        .selectFrom("offline_grants")
        .select(["status", "refresh_token_sealed"])
        .where("user_id", "=", userId)
        .execute();
      expect(rows.map((r) => [r.status, r.refresh_token_sealed === null]).sort()).toEqual([
        ["active", false],
        ["revoked", true],
      ]);
      // The new grant is alive at Keycloak (revoking the old one did not end it).
      const live = await storedToken(userId);
      expect(live).not.toBe(oldToken);
      const refreshed = await oidc.refreshTokenGrant(client, live);
      expect(refreshed.access_token).toMatch(/^eyJ/);
    } finally {
      await context.close();
      await admin("DELETE", `/users/${user.id}`);
    }
  });

  it("signing out ends the session everywhere: a copied cookie no longer opens /account", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await loginAtKeycloak(page, DEMO_USERS.bob);
      await page.waitForURL(`${base}/account?notice=signedin`);
      const copied = (await context.cookies(base)).find((c) => c.name === "ncmcp_session")?.value ?? "";
      expect(await accountWithCookie(copied)).toContain("Sign out of this page");
      await page.getByRole("button", { name: "Sign out of this page" }).click();
      await page.waitForURL(`${base}/account?notice=signedout`);
      expect(await accountWithCookie(copied)).toContain("Sign in with your company account");
      expect(await accountWithCookie(copied)).not.toContain("Sign out of this page");
    } finally {
      await context.close();
    }
  });

  it("refuses back-channel logout requests without a valid logout token", async () => {
    const post = (body: string) =>
      fetch(`${base}/oauth/backchannel-logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
    const missing = await post("");
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe("invalid_request");
    // Well-formed in every claim, but signed with a key that is not the realm's.
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT({
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      sid: "s",
    })
      .setProtectedHeader({ alg: "RS256", kid: "not-the-realms" })
      .setIssuer(inject("keycloak").issuer)
      .setAudience("mcp-gateway")
      .setSubject("someone")
      .setIssuedAt()
      .setJti("j")
      .sign(privateKey);
    const refused = await post(`logout_token=${encodeURIComponent(forged)}`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get("cache-control")).toBe("no-store");
  });
});
