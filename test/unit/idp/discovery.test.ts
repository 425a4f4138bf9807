// Loading the IdP (discovery and JWKS) against a small IdP on 127.0.0.1: what /readyz and `check`
// report while it is missing or broken, and that the gateway becomes ready by itself once it works.
// The real Keycloak: test/integration (every suite starts with discovery).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/index.ts";
import { IdpClient, idpSettingsOf, type IdpSettings } from "../../../src/idp/index.ts";
import { createLogger } from "../../../src/log.ts";
import { waitFor } from "../../harness/wait.ts";

type Route = (res: ServerResponse) => void;

let server: Server;
let origin: string;
let issuer: string;
/** Requests received, by path. */
const hits: string[] = [];
let routes: Record<string, Route> = {};
let jwk: Record<string, unknown>;

const send =
  (status: number, body: unknown): Route =>
  (res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
const discoveryDocument = (extra: Record<string, unknown> = {}) => ({
  issuer,
  token_endpoint: `${issuer}/protocol/openid-connect/token`,
  jwks_uri: `${issuer}/certs`,
  ...extra,
});

function healthy(): void {
  routes = {
    "/realms/r/.well-known/openid-configuration": send(200, discoveryDocument()),
    "/realms/r/certs": send(200, { keys: [jwk] }),
  };
}

beforeAll(async () => {
  const { publicKey } = await generateKeyPair("RS256");
  jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    hits.push(path);
    const route = routes[path];
    if (route) route(res);
    else send(404, { error: "not found" })(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  origin = `http://127.0.0.1:${String(address.port)}`;
  issuer = `${origin}/realms/r`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clients: IdpClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
  hits.length = 0;
  healthy();
});

function client(settings: Partial<IdpSettings> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    "info",
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    }),
  );
  const c = new IdpClient(
    {
      issuer,
      clientId: "gw",
      clientSecret: "s3cret",
      allowInsecureHttp: false,
      timeoutMs: 5000,
      ...settings,
    },
    log,
  );
  clients.push(c);
  return { c, lines };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
}

describe("IdpClient", () => {
  it("loads discovery and the JWKS once; concurrent and later callers share it", async () => {
    healthy();
    const { c } = client();
    expect(c.status).toEqual({ discovery: "pending", jwks: "pending" });
    expect(c.current).toBeUndefined();
    const [a, b] = await Promise.all([c.load(), c.load()]);
    expect(a).toBe(b);
    expect(await c.load()).toBe(a);
    expect(c.current).toBe(a);
    expect(c.status).toEqual({ discovery: "loaded", jwks: "loaded" });
    expect(a.metadata.issuer).toBe(issuer);
    expect(a.configuration.clientMetadata().client_id).toBe("gw");
    expect(a.jwks.jwks()?.keys).toHaveLength(1);
    expect(hits.filter((h) => h.endsWith("openid-configuration"))).toHaveLength(1);
    // The status is a copy: changing it changes nothing.
    const status = c.status;
    status.discovery = "failed";
    expect(c.status.discovery).toBe("loaded");
  });

  it("reports a discovery failure, a document without jwks_uri, an empty or unreachable JWKS", async () => {
    routes = {};
    const none = client().c;
    const err = await rejection(none.load());
    expect(err.message).toMatch(new RegExp(`^discovery at ${issuer}: `));
    expect(none.status).toEqual({ discovery: "failed", jwks: "pending", error: err.message });
    expect(none.current).toBeUndefined();
    expect(err.cause).toBeInstanceOf(Error);

    const { jwks_uri: _omit, ...withoutJwks } = discoveryDocument();
    routes = { "/realms/r/.well-known/openid-configuration": send(200, withoutJwks) };
    const noUri = client().c;
    expect((await rejection(noUri.load())).message).toBe("the discovery document has no jwks_uri");
    expect(noUri.status).toEqual({
      discovery: "loaded",
      jwks: "failed",
      error: "the discovery document has no jwks_uri",
    });

    healthy();
    routes["/realms/r/certs"] = send(200, { keys: [] });
    const empty = client().c;
    expect((await rejection(empty.load())).message).toBe(`JWKS at ${issuer}/certs: the JWKS has no keys`);
    expect(empty.status).toMatchObject({ discovery: "loaded", jwks: "failed" });

    routes["/realms/r/certs"] = send(500, { error: "down" });
    const down = client().c;
    const failed = await rejection(down.load());
    expect(failed.message).toMatch(new RegExp(`^JWKS at ${issuer}/certs: `));
    expect(down.status).toEqual({ discovery: "loaded", jwks: "failed", error: failed.message });
    expect(failed.cause).toBeInstanceOf(Error);
    // Nothing of the client secret reaches the status.
    expect(JSON.stringify(down.status)).not.toContain("s3cret");
  });

  it("says discovery is loaded while the JWKS is still on its way", async () => {
    let answer: (() => void) | undefined;
    routes["/realms/r/certs"] = (res) => {
      answer = () => {
        send(200, { keys: [jwk] })(res);
      };
    };
    const { c } = client();
    const loading = c.load();
    await waitFor("the JWKS request", () => answer);
    expect(c.status).toEqual({ discovery: "loaded", jwks: "pending" });
    answer?.();
    await loading;
    expect(c.status).toEqual({ discovery: "loaded", jwks: "loaded" });
  });

  it("gives up on a discovery that does not answer within the timeout", async () => {
    routes = { "/realms/r/.well-known/openid-configuration": () => undefined };
    const { c } = client({ timeoutMs: 500 });
    const err = await rejection(c.load());
    expect(c.status.discovery).toBe("failed");
    expect(err.message).toMatch(/^discovery at /);
  });

  it("keeps trying in the background, with a growing delay, until the IdP works", async () => {
    routes = {};
    const { c, lines } = client();
    c.startBackgroundLoad();
    await waitFor("two failed attempts", () =>
      lines.filter((l) => l.msg === "identity provider not usable yet").length >= 2 ? true : undefined,
    );
    healthy();
    await waitFor("the IdP loaded", () => c.current, { timeoutMs: 20_000 });
    const retries = lines.filter((l) => l.msg === "identity provider not usable yet");
    expect(retries.slice(0, 2).map((l) => l.retryInMs)).toEqual([1000, 2000]);
    expect(retries[0]).toMatchObject({ level: "warn", issuer });
    await waitFor("the loaded message", () => lines.find((l) => l.msg === "identity provider loaded"));
    expect(lines.find((l) => l.msg === "identity provider loaded")).toMatchObject({ level: "info", issuer });
    // Once loaded, starting again asks for nothing.
    const before = hits.length;
    c.startBackgroundLoad();
    expect(hits.length).toBe(before);
  });

  it("stops retrying when stopped", async () => {
    routes = {};
    const { c, lines } = client();
    c.startBackgroundLoad();
    c.stop();
    await rejection(c.load());
    expect(lines.filter((l) => l.msg === "identity provider not usable yet")).toEqual([]);
    c.startBackgroundLoad();
    expect(hits).toHaveLength(1);
  });
});

describe("idpSettingsOf", () => {
  it("takes issuer, client, secret, the insecure-http switch and the outbound timeout from the configuration", () => {
    const config = {
      oidc: { issuer: "https://sso.example.com/realms/x", clientId: "gw", clientSecret: "sec" },
      allowInsecureHttp: true,
      outboundTimeoutMs: 1234,
    } as unknown as Config; // only the fields idpSettingsOf reads
    expect(idpSettingsOf(config)).toEqual({
      issuer: "https://sso.example.com/realms/x",
      clientId: "gw",
      clientSecret: "sec",
      allowInsecureHttp: true,
      timeoutMs: 1234,
    });
  });
});
