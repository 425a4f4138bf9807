// Every misconfiguration a platform team hit (issue 12) makes `check` exit 1 with a line naming the
// fix, against the real Keycloak: a realm imported for another gateway URL (aud), a wrong client
// secret (also: not ready, and tool errors quote the IdP), a wrong realm, an issuer spelled another
// way, a client without service accounts, and Nextcloud unreachable for a named reason.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../harness/browser.ts";
import { adminToken, REALM, REALM_FILE } from "../harness/keycloak.ts";
import { createTestDatabase } from "../harness/postgres.ts";
import { gatewayCli, runGatewayCli } from "../harness/process.ts";
import { freePort, waitFor } from "../harness/wait.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../standin/index.ts";
import { startTestGateway } from "./support/gateway.ts";
import { callTool } from "./support/mcp-call.ts";
import { audiences, clientConfig, DEMO_USERS, gatewayClient, signIn } from "./support/oauth.ts";

const kc = inject("keycloak");
const realmEnv = inject("realmEnv");
let db: { url: string; drop(): Promise<void> };
let nextcloud: NextcloudStandin;
const cleanup: (() => Promise<void>)[] = [];

function env(over: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_PUBLIC_URL: realmEnv.MCP_GATEWAY_URL,
    OIDC_ISSUER: kc.issuer,
    OIDC_CLIENT_SECRET: realmEnv.MCP_GATEWAY_CLIENT_SECRET,
    DATABASE_URL: db.url,
    NEXTCLOUD_URL: nextcloud.url,
    OUTBOUND_TIMEOUT_MS: "3000",
    ...over,
  };
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${kc.url}/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken(kc)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** The report line of `name` as "ok <message>" or "FAIL <message>", padding aside. */
function line(stdout: string, name: string): string {
  for (const l of stdout.split("\n")) {
    const m = /^(ok|FAIL) +(.+?)  +(.*)$/.exec(l);
    if (m?.[2] === name) return `${m[1]} ${m[3]}`;
  }
  return "";
}

beforeAll(async () => {
  db = await createTestDatabase(inject("pgAdminUrl"), "checkmis");
  nextcloud = await startNextcloudStandin({ issuer: kc.issuer, audience: "nextcloud" });
  const migrated = await runGatewayCli(["migrate"], env());
  expect(migrated.code).toBe(0);
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await nextcloud.stop();
  await db.drop();
});

describe("check: the audience the realm gives MCP tokens", () => {
  it("passes when the realm names GATEWAY_PUBLIC_URL/mcp", async () => {
    const r = await runGatewayCli(["check"], env());
    expect(r.code).toBe(0);
    expect(line(r.stdout, "idp audience")).toBe(
      `ok tokens with scope mcp:tools name ${realmEnv.MCP_GATEWAY_URL}/mcp in their audience`,
    );
  });

  it("fails when GATEWAY_PUBLIC_URL is another spelling of the URL the realm was imported for", async () => {
    const other = realmEnv.MCP_GATEWAY_URL.replace("localhost", "127.0.0.1");
    expect(other).not.toBe(realmEnv.MCP_GATEWAY_URL);
    const r = await runGatewayCli(["check"], env({ GATEWAY_PUBLIC_URL: other }));
    expect(r.code).toBe(1);
    const audience = line(r.stdout, "idp audience");
    expect(audience).toMatch(/^FAIL tokens with scope mcp:tools have aud \[.*\], which lacks /);
    expect(audience).toContain(`"${realmEnv.MCP_GATEWAY_URL}/mcp"`);
    expect(audience).toContain(
      `, which lacks ${other}/mcp, so every /mcp request would get 401; if ${realmEnv.MCP_GATEWAY_URL} is this gateway's public URL, set GATEWAY_PUBLIC_URL to it; otherwise in the realm set the mcp:tools client scope's audience mapper "audience: gateway resource URL" (included.custom.audience) to ${other}/mcp`,
    );
  });

  it("fails for a realm imported (without restart, by the admin REST API) for another gateway URL", async () => {
    const realm = `check-${randomBytes(4).toString("hex")}`;
    const secret = `s-${randomBytes(12).toString("hex")}`;
    const imported = readFileSync(REALM_FILE, "utf8")
      .replaceAll("${MCP_GATEWAY_URL}", "https://mcp.elsewhere.example")
      .replaceAll("${MCP_GATEWAY_BACKCHANNEL_URL}", "https://mcp.elsewhere.example")
      .replaceAll("${MCP_GATEWAY_CLIENT_SECRET}", secret)
      .replaceAll("${NEXTCLOUD_URL}", "https://cloud.elsewhere.example")
      .replaceAll("${NEXTCLOUD_CLIENT_SECRET}", `n-${secret}`);
    await admin("POST", "/realms", { ...(JSON.parse(imported) as object), realm });
    cleanup.push(async () => {
      await admin("DELETE", `/realms/${realm}`);
    });
    const r = await runGatewayCli(
      ["check"],
      env({ OIDC_ISSUER: `${kc.url}/realms/${realm}`, OIDC_CLIENT_SECRET: secret }),
    );
    expect(r.code).toBe(1);
    expect(line(r.stdout, "idp client")).toMatch(/^ok client mcp-gateway authenticates/);
    expect(line(r.stdout, "idp audience")).toMatch(
      new RegExp(
        `^FAIL .*"https://mcp\\.elsewhere\\.example/mcp".*, which lacks ${realmEnv.MCP_GATEWAY_URL}/mcp`,
      ),
    );
    expect(line(r.stdout, "idp audience")).toContain(
      "if https://mcp.elsewhere.example is this gateway's public URL, set GATEWAY_PUBLIC_URL to it",
    );
    expect(r.stdout).not.toContain(secret);
  });

  it("fails naming the Keycloak switch when the client may not get tokens of its own", async () => {
    const clientId = `check-nosa-${randomBytes(4).toString("hex")}`;
    const secret = `s-${randomBytes(12).toString("hex")}`;
    await admin("POST", `/realms/${REALM}/clients`, {
      clientId,
      publicClient: false,
      secret,
      standardFlowEnabled: false,
      serviceAccountsEnabled: false,
      attributes: { "standard.token.exchange.enabled": "true" },
    });
    cleanup.push(async () => {
      const [c] = (await (await admin("GET", `/realms/${REALM}/clients?clientId=${clientId}`)).json()) as {
        id: string;
      }[];
      if (c) await admin("DELETE", `/realms/${REALM}/clients/${c.id}`);
    });
    const r = await runGatewayCli(["check"], env({ OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: secret }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "idp audience")).toMatch(
      new RegExp(
        `^FAIL cannot see the audience of mcp:tools tokens: client ${clientId} may not get tokens of its own \\(unauthorized_client ".+"\\); in Keycloak turn on "Service accounts roles" for ${clientId}, as keycloak/realm-export.json does$`,
      ),
    );
  });
});

describe("check: the IdP's address", () => {
  it("a wrong realm: the HTTP status and the URL tried", async () => {
    const r = await runGatewayCli(["check"], env({ OIDC_ISSUER: `${kc.url}/realms/no-such-realm` }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "idp discovery")).toBe(
      `FAIL discovery at ${kc.url}/realms/no-such-realm: HTTP 404 from ${kc.url}/realms/no-such-realm/.well-known/openid-configuration; no realm (or issuer path) there: check the realm name in OIDC_ISSUER; check OIDC_ISSUER and that the IdP is reachable from here`,
    );
  });

  it("an issuer spelled another way: both issuers", async () => {
    const spelled = kc.issuer.replace("localhost", "127.0.0.1");
    expect(spelled).not.toBe(kc.issuer);
    const r = await runGatewayCli(["check"], env({ OIDC_ISSUER: spelled }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "idp discovery")).toContain(
      `the IdP's discovery document names the issuer ${kc.issuer}, but OIDC_ISSUER is ${spelled}; set OIDC_ISSUER to exactly the issuer the IdP names`,
    );
  });
});

describe("check: Nextcloud unreachable, with the reason", () => {
  it("a closed port: connection refused", async () => {
    const r = await runGatewayCli(["check"], env({ NEXTCLOUD_URL: `http://127.0.0.1:${await freePort()}` }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "nextcloud")).toMatch(
      /^FAIL temporarily_unavailable: Nextcloud could not be reached for the capabilities \(connection refused: ECONNREFUSED\)\..*; check NEXTCLOUD_URL and that Nextcloud is reachable from here$/,
    );
  });

  it("an unknown host: the resolver's answer and the host", async () => {
    const r = await runGatewayCli(["check"], env({ NEXTCLOUD_URL: "https://nextcloud.invalid" }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "nextcloud")).toMatch(
      /could not be reached for the capabilities \(unknown host: (ENOTFOUND|EAI_AGAIN) nextcloud\.invalid\)/,
    );
  });
});

describe("a wrong client secret", () => {
  const wrong = `wrong-${randomBytes(8).toString("hex")}`;

  it("check quotes the IdP's refusal and names the settings", async () => {
    const r = await runGatewayCli(["check"], env({ OIDC_CLIENT_SECRET: wrong }));
    expect(r.code).toBe(1);
    expect(line(r.stdout, "idp client")).toBe(
      `FAIL the IdP refused the client credentials (unauthorized_client "Invalid client or Invalid client credentials"); check OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET`,
    );
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it("keeps /readyz not ready, logged at warn with the reason, never as a failed request", async () => {
    const port = await freePort();
    const gw = gatewayCli(["serve", "--no-migrate"], env({ PORT: String(port), OIDC_CLIENT_SECRET: wrong }));
    try {
      const body = await waitFor(
        "/readyz 503 once the IdP is loaded",
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          if (res?.status !== 503) return undefined;
          const json = (await res.json()) as { checks: { database: { status: string } } };
          return gw.stdout().includes('"msg":"identity provider loaded"') ? json : undefined;
        },
        { abort: () => (gw.proc.exitCode === null ? undefined : `gateway exited: ${gw.stderr()}`) },
      );
      expect(body).toEqual({
        status: "not_ready",
        checks: { database: { status: "ok" }, idp: { status: "failed" } },
      });
      await waitFor("the not-ready line", () =>
        gw.stdout().includes('"msg":"not ready"') ? true : undefined,
      );
    } finally {
      gw.kill("SIGTERM");
    }
    expect(await gw.exited).toBe(0);
    const lines = gw
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: number | string; idp?: { client?: string } });
    const notReady = lines.find((l) => l.msg === "not ready");
    expect(notReady?.idp?.client).toMatch(
      /unauthorized_client "Invalid client or Invalid client credentials"/,
    );
    expect(lines.filter((l) => l.msg === "request failed")).toEqual([]);
    expect(gw.stdout()).not.toContain(wrong);
  });

  describe("tool calls", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser.close();
    });

    it("name the IdP's refusal, not 'Nextcloud could not be reached'", async () => {
      const gw = await startTestGateway({
        env: { NEXTCLOUD_URL: nextcloud.url, OIDC_CLIENT_SECRET: wrong },
      });
      try {
        const token = (
          await signIn(browser, {
            config: await clientConfig("mcp-client"),
            redirectUri: "http://127.0.0.1:38140/callback",
            scope: "openid mcp:tools",
            user: DEMO_USERS.alice,
          })
        ).access_token;
        const result = await callTool(gw.gateway.url, token, "whoami", {});
        const text = result.content.map((c) => c.text ?? "").join("\n");
        expect(result.isError).toBe(true);
        expect(text).toContain(
          `The identity provider refused the gateway's client credentials (unauthorized_client "Invalid client or Invalid client credentials"); the operator must check OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET.`,
        );
        expect(text).not.toContain("could not be reached");
        expect(text).not.toContain(wrong);
      } finally {
        await gw.stop();
      }
    });
  });
});

describe("a token the gateway's own client obtains", () => {
  it("carries the resource in its audience, and /mcp still refuses it", async () => {
    const own = await oidc.clientCredentialsGrant(await gatewayClient(), { scope: "mcp:tools" });
    expect(audiences(own.access_token)).toContain(`${realmEnv.MCP_GATEWAY_URL}/mcp`);
    const gw = await startTestGateway();
    try {
      const res = await fetch(`${gw.gateway.url}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${own.access_token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    } finally {
      await gw.stop();
    }
  });
});
