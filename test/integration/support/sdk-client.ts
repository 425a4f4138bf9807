// The official MCP TypeScript SDK client with an OAuth provider whose "browser" is headless
// Chromium signing in on Keycloak's real login page.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Browser } from "playwright-core";
import { signInInBrowser } from "../../harness/browser.ts";

/** An in-memory OAuth client provider; `preRegistered` skips dynamic registration. */
export class BrowserOAuthProvider implements OAuthClientProvider {
  readonly #redirectUrl: string;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = "";
  /** The authorization URL the SDK asked the user to open, once it did. */
  authorizationUrl: URL | undefined;
  /** Whether the SDK registered the client dynamically. */
  registered = false;

  constructor(redirectUrl: string, preRegistered?: { client_id: string }) {
    this.#redirectUrl = redirectUrl;
    this.#client = preRegistered;
  }
  get redirectUrl(): string {
    return this.#redirectUrl;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "nextcloud-mcp-gateway e2e",
      redirect_uris: [this.#redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    // The SDK also saves pre-registered information back, stamped with the issuer it is bound to.
    if (info.client_id !== this.#client?.client_id) this.registered = true;
    this.#client = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string): void {
    this.#verifier = v;
  }
  codeVerifier(): string {
    return this.#verifier;
  }
}

/**
 * Connects the SDK client to `mcpUrl` the way a desktop client does: the first attempt fails with
 * 401, the SDK discovers and (maybe) registers, the user signs in in the browser, the code is
 * exchanged, and the client connects again with its token.
 */
export async function connectWithSignIn(
  browser: Browser,
  mcpUrl: string,
  provider: BrowserOAuthProvider,
  user: { username: string; password: string },
): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "e2e", version: "1.0.0" });
  const outcome = await client.connect(first).then(
    () => "connected" as const,
    (err: unknown) => {
      if (err instanceof UnauthorizedError) return "unauthorized" as const;
      throw err;
    },
  );
  if (outcome === "connected") return client;
  if (!provider.authorizationUrl) throw new Error("the SDK did not ask for authorization");
  const callback = await signInInBrowser(browser, provider.authorizationUrl, {
    ...user,
    redirectPrefix: provider.redirectUrl,
  });
  const code = callback.searchParams.get("code");
  if (code === null) throw new Error(`no code in the callback: ${callback.search}`);
  await first.finishAuth(code);
  const second = new Client({ name: "e2e", version: "1.0.0" });
  await second.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return second;
}
