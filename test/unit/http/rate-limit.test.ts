// Rate limits on the wire: per client address and global on the anonymous endpoints, per address
// for refused /mcp requests, per user on /mcp; 429 with Retry-After; X-Forwarded-For believed from
// trusted proxies only; a bounded number of remembered keys. The real PostgreSQL and Keycloak
// version (10,000 requests, database size unchanged) is test/integration/http/anonymous-flood.test.ts.
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { addressList } from "../../../src/config/address.ts";
import { loadConfig } from "../../../src/config/index.ts";
import { addressKey, clientAddress, RateLimiter } from "../../../src/http/middleware/rate-limit.ts";
import type { AppEnv } from "../../../src/http/env.ts";
import { claims, createIdp, ISSUER, type TestIdp } from "../auth/fixtures.ts";
import { mcpPost, testApp, testConfig } from "./support.ts";

let idp: TestIdp;
beforeAll(async () => {
  idp = await createIdp();
});

function makeApp(env: Record<string, string>) {
  const app = testApp(idp, { config: testConfig(env) });
  /** A request as the node server hands it over: with the connection's remote address. */
  const from = (address: string, path: string, init: RequestInit = {}) =>
    app.request(path, init, { incoming: { socket: { remoteAddress: address } } });
  return { app, from };
}

const mcp = (token?: string): RequestInit =>
  mcpPost(
    { jsonrpc: "2.0", id: 1, method: "tools/list" },
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );

const PRM = "/.well-known/oauth-protected-resource";

describe("the token bucket", () => {
  it("allows a burst of perMinute, then names the seconds until the next request, and refills", () => {
    let now = 0;
    const limiter = new RateLimiter(6, 10, () => now);
    for (let i = 0; i < 6; i++) expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(10); // one request every 10 s
    expect(limiter.take("b")).toBe(0);
    now += 9_000;
    expect(limiter.peek("a")).toBe(1);
    now += 1_000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(10);
  });

  it("remembers at most maxKeys keys, forgetting the least recently seen", () => {
    const limiter = new RateLimiter(1, 100, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(100);
    expect(limiter.take("k9999")).toBeGreaterThan(0);
    expect(limiter.take("k0")).toBe(0); // forgotten long ago
    expect(limiter.peek("never-seen")).toBe(0);
    expect(limiter.size).toBe(100);
  });
});

describe("the client address", () => {
  const probe = (trusted: string[]) => {
    const app = new Hono<AppEnv>();
    const list = trusted.length > 0 ? addressList(trusted) : undefined;
    app.get("/", (c) => c.text(addressKey(clientAddress(c, list))));
    return async (socket: string, xff?: string) =>
      (
        await app.request(
          "/",
          { headers: xff === undefined ? {} : { "x-forwarded-for": xff } },
          {
            incoming: { socket: { remoteAddress: socket } },
          },
        )
      ).text();
  };

  it("is the connection's address, whatever X-Forwarded-For says, unless the connection is a trusted proxy", async () => {
    const untrusting = probe([]);
    expect(await untrusting("192.0.2.10", "203.0.113.5")).toBe("192.0.2.10");
    expect(await untrusting("::ffff:192.0.2.10")).toBe("192.0.2.10");
    const trusting = probe(["10.0.0.0/8"]);
    expect(await trusting("192.0.2.10", "203.0.113.5")).toBe("192.0.2.10");
    expect(await trusting("10.1.2.3", "203.0.113.5")).toBe("203.0.113.5");
  });

  it("is the rightmost untrusted hop: what a client writes left of its proxy's entry is ignored", async () => {
    const trusting = probe(["10.0.0.0/8", "fd00::/8"]);
    expect(await trusting("10.1.2.3", "198.51.100.1, 203.0.113.5, 10.9.9.9")).toBe("203.0.113.5");
    expect(await trusting("10.1.2.3", "not-an-address, 10.9.9.9")).toBe("10.9.9.9");
    expect(await trusting("10.1.2.3", "")).toBe("10.1.2.3");
    expect(await trusting("fd00::1", "2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  });

  it("counts IPv6 clients per /64", () => {
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("2001:db8:0:0:ffff::9")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey(undefined)).toBe("unknown");
  });
});

describe("limits on the wire", () => {
  it("answers 429 with Retry-After per client address on anonymous endpoints, and serves other addresses", async () => {
    const { app, from } = makeApp({ RATE_LIMIT_ANONYMOUS_PER_IP: "3" });
    for (let i = 0; i < 3; i++) expect((await from("192.0.2.1", PRM)).status).toBe(200);
    const limited = await from("192.0.2.1", PRM);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBe(20);
    expect(await limited.json()).toEqual({
      error: "too_many_requests",
      error_description: "Too many requests; try again in 20 seconds.",
    });
    expect((await from("192.0.2.2", PRM)).status).toBe(200);
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toContain('gateway_rate_limited_total{scope="anonymous_ip"} 1');
    expect(metrics).toContain('gateway_rate_limited_total{scope="anonymous_global"} 0');
    expect(metrics.match(/# TYPE gateway_rate_limited_total counter/g)).toHaveLength(1);
  });

  it("answers 429 to every address once the global limit is spent", async () => {
    const { from } = makeApp({ RATE_LIMIT_ANONYMOUS_PER_IP: "100", RATE_LIMIT_ANONYMOUS_GLOBAL: "5" });
    for (let i = 0; i < 5; i++) expect((await from(`192.0.2.${i}`, PRM)).status).toBe(200);
    const limited = await from("198.51.100.1", PRM);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("12");
  });

  it("turns off with RATE_LIMITS_ENABLED=false, and each limit with 0", async () => {
    const settings: Record<string, string>[] = [
      { RATE_LIMITS_ENABLED: "false", RATE_LIMIT_ANONYMOUS_PER_IP: "1", RATE_LIMIT_ANONYMOUS_GLOBAL: "1" },
      { RATE_LIMIT_ANONYMOUS_PER_IP: "0", RATE_LIMIT_ANONYMOUS_GLOBAL: "0" },
    ];
    for (const env of settings) {
      const { from } = makeApp(env);
      for (let i = 0; i < 20; i++) expect((await from("192.0.2.1", PRM)).status).toBe(200);
    }
  });

  it("counts refused /mcp requests per address; a valid token spends nothing and is served", async () => {
    const { from } = makeApp({ RATE_LIMIT_ANONYMOUS_PER_IP: "2" });
    const token = await idp.sign(claims());
    for (let i = 0; i < 5; i++) expect((await from("192.0.2.1", "/mcp", mcp(token))).status).toBe(200);
    expect((await from("192.0.2.1", "/mcp", mcp("garbage"))).status).toBe(401);
    expect((await from("192.0.2.1", "/mcp", mcp())).status).toBe(401);
    const limited = await from("192.0.2.1", "/mcp", mcp("garbage"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(await limited.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 } });
    expect((await from("192.0.2.2", "/mcp", mcp(token))).status).toBe(200);
  });

  it("limits each user on /mcp: one over the limit gets 429 with Retry-After, another is served", async () => {
    const { app, from } = makeApp({ RATE_LIMIT_MCP_PER_USER: "3" });
    const alice = await idp.sign(claims({ sub: "alice" }));
    const bob = await idp.sign(claims({ sub: "bob" }));
    const aliceElsewhere = await idp.sign(claims({ sub: "alice", jti: "second-client" }));
    for (let i = 0; i < 3; i++) expect((await from("192.0.2.1", "/mcp", mcp(alice))).status).toBe(200);
    // The same user from another address and client: the limit is the user's.
    const limited = await from("192.0.2.9", "/mcp", mcp(aliceElsewhere));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("20");
    expect(await limited.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32000, message: "Too many requests; try again in 20 seconds." },
    });
    const served = await from("192.0.2.1", "/mcp", mcp(bob));
    expect(served.status).toBe(200);
    expect(await (await app.request("/metrics")).text()).toContain(
      'gateway_rate_limited_total{scope="mcp_user"} 1',
    );
  });
});

describe("TRUSTED_PROXIES", () => {
  it("takes addresses and CIDR ranges and refuses anything else, naming the variable", () => {
    const base = {
      GATEWAY_PUBLIC_URL: "https://mcp.example.com",
      OIDC_ISSUER: ISSUER,
      OIDC_CLIENT_SECRET: "x",
    };
    expect(loadConfig({ ...base, TRUSTED_PROXIES: "10.0.0.0/8, ::1,192.0.2.7" }).trustedProxies).toEqual([
      "10.0.0.0/8",
      "::1",
      "192.0.2.7",
    ]);
    for (const bad of ["proxy.local", "10.0.0.0/33", "10.0.0.0/8/1", "10.0.0.0/x"]) {
      expect(() => loadConfig({ ...base, TRUSTED_PROXIES: bad })).toThrow(
        /TRUSTED_PROXIES: not a list of addresses/,
      );
    }
  });
});
