// The scene of the Nextcloud tool tests: the real Keycloak, a Nextcloud stand-in, a gateway that
// reaches it through token exchange, and a browser to sign the demo users in.
import type { Browser } from "playwright-core";
import { inject } from "vitest";
import type { RouteProbe } from "../../../src/nextcloud/index.ts";
import { launchBrowser } from "../../harness/browser.ts";
import { startNextcloudStandin, type NextcloudStandin, type StandinOptions } from "../../standin/index.ts";
import { startTestGateway, type TestGateway } from "./gateway.ts";
import { callTool, listToolNames, type ToolResult } from "./mcp-call.ts";
import { clientConfig, DEMO_USERS, signIn } from "./oauth.ts";

export interface NextcloudScene {
  standin: NextcloudStandin;
  gatewayUrl: string;
  /** Signs a demo user in on Keycloak's login page (public client mcp-client); the MCP access token. */
  signIn(user: keyof typeof DEMO_USERS, scope?: string): Promise<string>;
  call(token: string, name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  listTools(token: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startNextcloudScene(
  standinOptions: Partial<StandinOptions> = {},
  /** A route probe for the gateway's Nextcloud clients, e.g. with the test's clock. */
  gatewayOptions: { routeProbe?: RouteProbe } = {},
): Promise<NextcloudScene> {
  const standin = await startNextcloudStandin({
    issuer: inject("keycloak").issuer,
    audience: "nextcloud",
    ...standinOptions,
  });
  const gw: TestGateway = await startTestGateway({
    // Every app, so each app's tests see their tools without asking for a toolset.
    env: { NEXTCLOUD_URL: standin.url, MCP_DEFAULT_APPS: "all" },
    ...gatewayOptions,
  });
  const browser: Browser = await launchBrowser();
  const gatewayUrl = gw.gateway.url;
  return {
    standin,
    gatewayUrl,
    async signIn(user, scope = "openid mcp:tools mcp:write") {
      const tokens = await signIn(browser, {
        config: await clientConfig("mcp-client"),
        redirectUri: "http://127.0.0.1:38140/callback",
        scope,
        user: DEMO_USERS[user],
      });
      return tokens.access_token;
    },
    call: (token, name, args = {}) => callTool(gatewayUrl, token, name, args),
    listTools: (token) => listToolNames(gatewayUrl, token),
    async stop() {
      await browser.close();
      await gw.stop();
      await standin.stop();
    },
  };
}
