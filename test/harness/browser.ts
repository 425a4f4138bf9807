import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

/** Debian's Chromium unless CHROMIUM_PATH says otherwise; never a browser downloaded by a tool. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p): p is string => typeof p === "string" && existsSync(p));
  if (!found) {
    throw new Error(
      "Browser tests need Chromium: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH.",
    );
  }
  return found;
}

/** Headless Chromium with the flags that keep it off the network except for the pages we open. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
}

/** A loopback HTTP server that plays an OAuth client's redirect endpoint and records what arrives. */
export interface CallbackServer {
  /** e.g. http://127.0.0.1:43123/callback */
  redirectUri: string;
  /** Resolves with the first request URL that reaches the callback path. */
  next(): Promise<URL>;
  close(): Promise<void>;
}

export async function startCallbackServer(host = "127.0.0.1", path = "/callback"): Promise<CallbackServer> {
  const waiters: ((u: URL) => void)[] = [];
  const received: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    if (url.pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end("<p>Signed in. You may close this window.</p>");
    const w = waiters.shift();
    if (w) w(url);
    else received.push(url);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    redirectUri: `http://${hostPart}:${port}${path}`,
    next() {
      const r = received.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface LoginOptions {
  username: string;
  password: string;
  /** Accept the consent screen if Keycloak shows one (default); false fails the sign-in when it appears. */
  consent?: boolean;
  /** URL prefix the IdP finally redirects to; resolves when the browser reaches it. */
  redirectPrefix: string;
  /** Answer the redirect in the browser (default) instead of letting it reach a real server. */
  answerRedirect?: boolean;
}

/** A losing branch of a race settles quietly instead of as an unhandled rejection. */
const failed = () => "failed" as const;

const CONSENT = "input[name=accept], button[name=accept]";
const LOGIN_ERROR = "#input-error, #input-error-username, #kc-error-message";

/**
 * Opens `authorizationUrl` in a fresh browser context, signs in on Keycloak's real login page
 * (and consents if asked), and resolves with the URL the IdP redirected to. Fails fast with
 * Keycloak's own message when the login or the authorization request is refused.
 */
export async function signInInBrowser(
  browser: Browser,
  authorizationUrl: string | URL,
  opts: LoginOptions,
): Promise<URL> {
  const context: BrowserContext = await browser.newContext();
  try {
    const page = await context.newPage();
    if (opts.answerRedirect !== false) {
      await page.route(
        (u) => u.href.startsWith(opts.redirectPrefix),
        (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<p>Signed in.</p>" }),
      );
    }
    const redirected = page.waitForRequest((r) => r.url().startsWith(opts.redirectPrefix), {
      timeout: 60_000,
    });
    await page.goto(String(authorizationUrl));
    const first = await Promise.race([
      page
        .locator("#username")
        .waitFor({ timeout: 30_000 })
        .then(() => "login" as const, failed),
      page
        .locator(LOGIN_ERROR)
        .first()
        .waitFor({ timeout: 30_000 })
        .then(() => "error" as const, failed),
    ]);
    if (first === "failed") throw new Error(`no Keycloak login page at ${String(authorizationUrl)}`);
    if (first === "error") {
      throw new Error(`Keycloak refused the request: ${await page.locator(LOGIN_ERROR).first().innerText()}`);
    }
    await page.locator("#username").fill(opts.username);
    await page.locator("#password").fill(opts.password);
    await page.locator("#kc-login").click();
    const next = await Promise.race([
      redirected.then(() => "done" as const, failed),
      page
        .locator(CONSENT)
        .first()
        .waitFor({ timeout: 60_000 })
        .then(() => "consent" as const, failed),
      page
        .locator(LOGIN_ERROR)
        .first()
        .waitFor({ timeout: 60_000 })
        .then(() => "error" as const, failed),
    ]);
    if (next === "failed") throw new Error("the sign-in neither redirected nor asked for consent in time");
    if (next === "error") {
      throw new Error(`Keycloak refused the sign-in: ${await page.locator(LOGIN_ERROR).first().innerText()}`);
    }
    if (next === "consent") {
      if (opts.consent === false)
        throw new Error("Keycloak asked for consent but the test did not expect it");
      await page.locator(CONSENT).first().click();
    }
    return new URL((await redirected).url());
  } finally {
    await context.close();
  }
}
