// The content index on the account page, in headless Chromium against the real Keycloak and
// PostgreSQL: the user sees their index's status, pauses and resumes it, deletes it, and revoking
// offline access deletes it too; a POST without the page's form token changes nothing.
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openStore, SearchIndex, type Store } from "../../../src/store/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { createUser } from "../offline/support.ts";
import { grantOfflineAccess } from "../support/offline-grant.ts";
import { markIndexReady } from "./support.ts";
import { startTestGateway, type TestGateway } from "../support/gateway.ts";

const base = inject("realmEnv").MCP_GATEWAY_URL;
let browser: Browser;
let gw: TestGateway;
let nc: NextcloudStandin;
let store: Store;
let index: SearchIndex;

beforeAll(async () => {
  nc = await startNextcloudStandin({ issuer: inject("keycloak").issuer, audience: "nextcloud" });
  // The realm's redirect URI points at this port.
  gw = await startTestGateway({
    port: inject("gatewayPort"),
    env: {
      SEALING_KEYS: `e2e:${randomBytes(32).toString("base64")}`,
      NEXTCLOUD_URL: nc.url,
      SEARCH_INDEX_ENABLED: "true",
      JOBS_ENABLED: "false",
    },
  });
  browser = await launchBrowser();
  store = await openStore({ backend: "postgres", url: gw.databaseUrl, poolMax: 2 });
  index = new SearchIndex(store.db);
}, 300_000);
afterAll(async () => {
  await browser.close();
  await store.close();
  await gw.stop();
  await nc.stop();
});

/** An index with one item, complete. */
async function seedIndex(userId: string) {
  await index.upsert(userId, [
    {
      source: "files",
      key: "/minutes.txt",
      title: "minutes.txt",
      body: "the board approved the budget",
      container: "/",
      etag: "e",
      modifiedAt: null,
    },
  ]);
  await markIndexReady(store, index, userId);
}

const status = (page: Page) => page.locator("#index-status").innerText();

describe("the search index on the account page", () => {
  it("shows the index, pauses, resumes and deletes it; revoking offline access deletes it too", async () => {
    const user = await createUser("index");
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await grantOfflineAccess(page, user);
      expect(await page.getByRole("heading", { name: "Search index" }).count()).toBe(1);
      expect(await status(page)).toMatch(/No index yet/);

      const { id: userId } = await store.db
        .selectFrom("users")
        .select("id")
        .where("subject", "=", user.id)
        .executeTakeFirstOrThrow();
      await seedIndex(userId);
      await page.reload();
      expect(await status(page)).toBe("Ready.");
      expect(await page.locator("#index-items").innerText()).toBe("1");

      // A POST from elsewhere (no form token) changes nothing.
      const cookie = (await context.cookies(base)).find((c) => c.name === "ncmcp_session")?.value ?? "";
      const forged = await fetch(`${base}/account/index/delete`, {
        method: "POST",
        headers: { cookie: `ncmcp_session=${cookie}`, "content-type": "application/x-www-form-urlencoded" },
        body: "form_token=guessed",
        redirect: "manual",
      });
      expect(forged.status).toBe(403);
      expect((await index.status(userId))?.items).toBe(1);

      await page.getByRole("button", { name: "Pause indexing" }).click();
      await page.waitForURL(`${base}/account?notice=index-paused`);
      expect(await status(page)).toBe("Paused.");
      expect((await index.status(userId))?.paused).toBe(true);

      await page.getByRole("button", { name: "Resume indexing" }).click();
      await page.waitForURL(`${base}/account?notice=index-resumed`);
      expect(await status(page)).toBe("Ready.");

      await page.getByRole("button", { name: "Delete the index" }).click();
      await page.waitForURL(`${base}/account?notice=index-deleted`);
      expect(await status(page)).toMatch(/No index yet/);
      expect(await index.search(userId, "budget", { limit: 5 })).toEqual([]);

      await seedIndex(userId);
      await page.reload();
      await page.getByRole("button", { name: "Revoke offline access" }).click();
      await page.waitForURL(/notice=(disconnected|removed)/);
      expect(await index.status(userId)).toBeUndefined();
      expect(await index.search(userId, "budget", { limit: 5 })).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
