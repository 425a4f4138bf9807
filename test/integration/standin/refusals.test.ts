// The stand-in refuses what user_oidc refuses, no more leniently: expired tokens (user_oidc checks
// `exp < now` itself, with no leeway), tokens issued or valid only in the future (php-jwt's 60 s
// leeway on iat and nbf), another realm's tokens, tokens for another audience, and a malformed
// percent-encoding in the path (400, not 500). Real Keycloak tokens against a pinned clock, plus
// tokens signed here by a local issuer, where each claim can be wrong on its own.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "../../harness/browser.ts";
import { BearerValidator } from "../../standin/auth.ts";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";
import { claims, DEMO_USERS } from "../support/oauth.ts";
import { nextcloudTokens, type UserTokens } from "./support.ts";

const { issuer, url: keycloakUrl, adminUser, adminPassword } = inject("keycloak");
let alice: UserTokens;
let nc: NextcloudStandin;
/** The stand-in's clock; each test sets it. */
let clock = Date.now();

beforeAll(async () => {
  const browser: Browser = await launchBrowser();
  try {
    alice = await nextcloudTokens(browser, DEMO_USERS.alice);
  } finally {
    await browser.close();
  }
  nc = await startNextcloudStandin({ issuer, audience: "nextcloud", now: () => clock });
});
afterAll(async () => {
  await nc.stop();
});

async function status(token: string, path = "/ocs/v2.php/cloud/user?format=json"): Promise<number> {
  const res = await fetch(`${nc.url}${path}`, {
    headers: { Authorization: `Bearer ${token}`, "OCS-APIRequest": "true" },
  });
  await res.arrayBuffer();
  return res.status;
}

describe("a real Nextcloud token of the realm, against the stand-in's clock", () => {
  it("is accepted up to its exp second and refused one second later", async () => {
    const { exp } = claims(alice.nextcloud);
    expect(typeof exp).toBe("number");
    clock = (exp ?? 0) * 1000;
    expect(await status(alice.nextcloud)).toBe(200);
    clock = ((exp ?? 0) + 1) * 1000;
    expect(await status(alice.nextcloud)).toBe(401);
    clock = ((exp ?? 0) + 30) * 1000;
    expect(await status(alice.nextcloud, `/remote.php/dav/files/${claims(alice.nextcloud).sub ?? ""}/`)).toBe(
      401,
    );
  });

  it("is refused when the clock stands more than 60 s before its iat (issued in the future)", async () => {
    const { iat } = claims(alice.nextcloud);
    expect(typeof iat).toBe("number");
    clock = ((iat ?? 0) - 60) * 1000;
    expect(await status(alice.nextcloud)).toBe(200);
    clock = ((iat ?? 0) - 61) * 1000;
    expect(await status(alice.nextcloud)).toBe(401);
  });

  it("is refused when it is the realm's MCP token (aud without nextcloud), on OCS, Notes and DAV", async () => {
    clock = Date.now();
    expect(await status(alice.nextcloud)).toBe(200);
    expect(await status(alice.mcp)).toBe(401);
    expect(await status(alice.mcp, "/index.php/apps/notes/api/v1/notes")).toBe(401);
    expect(await status(alice.mcp, `/remote.php/dav/files/${claims(alice.mcp).sub ?? ""}/`)).toBe(401);
  });

  it("is refused when it comes from another realm of the same Keycloak (master)", async () => {
    clock = Date.now();
    const res = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "admin-cli",
        username: adminUser,
        password: adminPassword,
      }),
    });
    expect(res.status).toBe(200);
    const foreign = ((await res.json()) as { access_token: string }).access_token;
    expect(claims(foreign).iss).toBe(`${keycloakUrl}/realms/master`);
    expect(await status(foreign)).toBe(401);
  });
});

describe("a malformed percent-encoding in the path", () => {
  it.each([
    "/remote.php/dav/files/alice/%E0%A4%A",
    "/remote.php/dav/files/alice/%",
    "/index.php/apps/notes/api/v1/notes/%E0%A4%A",
    "/ocs/v2.php/cloud/%E0%A4%A",
  ])("%s: 400 with or without a valid token, never 500", async (path) => {
    clock = Date.now();
    for (const headers of [{}, { Authorization: `Bearer ${alice.nextcloud}`, "OCS-APIRequest": "true" }]) {
      const res = await fetch(`${nc.url}${path}`, { method: "PROPFIND", headers });
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/Malformed URL encoding in the path/);
    }
    // The stand-in still answers well-formed requests.
    expect(await status(alice.nextcloud)).toBe(200);
  });
});

describe("tokens signed by a local issuer, one claim wrong at a time", () => {
  const NOW = 1_900_000_000;
  let server: Server;
  let localIssuer: string;
  let sign: (payload: JWTPayload, iss?: string) => Promise<string>;
  let validator: BearerValidator;
  let foreignSign: (payload: JWTPayload) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const other = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "local-1", alg: "RS256", use: "sig" };
    server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/realms/company/.well-known/openid-configuration") {
        res.end(JSON.stringify({ issuer: localIssuer, jwks_uri: `${localIssuer}/certs` }));
      } else if (req.url === "/realms/company/certs") {
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end("{}");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    localIssuer = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/realms/company`;
    sign = (payload, iss = localIssuer) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid: "local-1", typ: "JWT" })
        .setIssuer(iss)
        .sign(privateKey);
    // The same kid, another key: what a forger or another IdP reusing a kid would send.
    foreignSign = (payload) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid: "local-1", typ: "JWT" })
        .setIssuer(localIssuer)
        .sign(other.privateKey);
    validator = new BearerValidator({
      issuer: localIssuer,
      audience: "nextcloud",
      uidClaim: "sub",
      uniqueUid: undefined,
      now: () => NOW * 1000,
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  const good = { sub: "alice", aud: ["nextcloud", "other"], iat: NOW - 10, exp: NOW + 300 };
  const accepted = async (token: string) => (await validator.validate(token))?.uid;

  it("accepts a well-formed token (the control for every refusal below)", async () => {
    expect(await accepted(await sign(good))).toBe("alice");
    expect(await accepted(await sign({ ...good, aud: "nextcloud" }))).toBe("alice");
    expect(await accepted(await sign({ ...good, exp: NOW }))).toBe("alice");
    expect(await accepted(await sign({ ...good, nbf: NOW + 60 }))).toBe("alice");
    // php-jwt looks at iat only when there is no nbf.
    expect(await accepted(await sign({ ...good, nbf: NOW, iat: NOW + 3600 }))).toBe("alice");
  });

  it.each<[string, JWTPayload, string | undefined]>([
    ["expired a second ago", { ...good, exp: NOW - 1 }, undefined],
    ["expired within php-jwt's leeway", { ...good, exp: NOW - 59 }, undefined],
    ["without exp", { sub: "alice", aud: "nextcloud", iat: NOW }, undefined],
    ["with a non-numeric exp", { ...good, exp: "soon" as unknown as number }, undefined],
    ["valid only from 61 s on (nbf)", { ...good, nbf: NOW + 61 }, undefined],
    ["issued 61 s in the future (iat, no nbf)", { ...good, iat: NOW + 61 }, undefined],
    ["for another audience", { ...good, aud: ["mcp-gateway", "https://mcp.example.com/mcp"] }, undefined],
    [
      "for an audience that only contains the client id as a substring",
      { ...good, aud: "nextcloud-dev" },
      undefined,
    ],
    ["from another realm of the same host", good, "/realms/other"],
    ["from the issuer with a trailing slash", good, "/"],
    ["without the mapping claim", { aud: "nextcloud", exp: NOW + 300 }, undefined],
  ])("refuses a token %s", async (_, payload, issuerChange) => {
    const iss =
      issuerChange === undefined
        ? undefined
        : issuerChange === "/"
          ? `${localIssuer}/`
          : localIssuer.replace("/realms/company", issuerChange);
    expect(await accepted(await sign(payload, iss))).toBeUndefined();
  });

  it("refuses a token signed by another key under a known kid", async () => {
    expect(await accepted(await foreignSign(good))).toBeUndefined();
  });
});
