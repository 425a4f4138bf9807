// Granting offline access in headless Chromium as a user does: the gateway's sign-in link, Keycloak's
// real login page, then the Grant button on /connect.
import type { Page } from "playwright-core";
import { inject } from "vitest";

/** Signs in on Keycloak's login page, wherever the page was sent there from. */
export async function loginAtKeycloak(
  page: Page,
  user: { username: string; password: string },
): Promise<void> {
  await page.locator("#username").waitFor({ timeout: 30_000 });
  await page.locator("#username").fill(user.username);
  await page.locator("#password").fill(user.password);
  await page.locator("#kc-login").click();
}

/**
 * Grants offline access in `page`, signed out at the start: opens `start` (the account page by
 * default, or the /connect URL an MCP client was given), follows its sign-in link, signs in at
 * Keycloak, comes back to /connect and presses "Grant offline access". Resolves on the account
 * page showing `notice` (`connected` by default; `reconnected` when a grant is replaced).
 */
export async function grantOfflineAccess(
  page: Page,
  user: { username: string; password: string },
  options: { start?: string; notice?: string } = {},
): Promise<void> {
  const base = inject("realmEnv").MCP_GATEWAY_URL;
  await page.goto(options.start ?? `${base}/account`);
  // "Sign in and grant offline access" on the account page, "Sign in to continue" on /connect.
  await page.getByRole("link", { name: /^Sign in (and grant offline access|to continue)$/ }).click();
  await loginAtKeycloak(page, user);
  await page.waitForURL(`${base}/connect`);
  await page.getByRole("button", { name: "Grant offline access" }).click();
  await page.waitForURL(`${base}/account?notice=${options.notice ?? "connected"}`);
}
