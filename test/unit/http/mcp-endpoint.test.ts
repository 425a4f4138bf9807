// /mcp and its metadata on the wire: every way a request can be refused, with status, RFC error
// code and WWW-Authenticate; and a good token reaching the tools. Tokens are signed by a key made
// here (the real Keycloak is covered in test/integration/mcp).
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { allTools, type AppDeps } from "../../../src/app.ts";
import { createTokenVerifier } from "../../../src/auth/index.ts";
import { ToolRegistry } from "../../../src/mcp/index.ts";
import { claims, createIdp, ISSUER, NOW, NOW_MS, RESOURCE, type TestIdp } from "../auth/fixtures.ts";
import { z } from "zod";
import { defineTool } from "../../../src/mcp/index.ts";
import { mcpPost, READY, testApp, testConfig } from "./support.ts";

/** A tool that changes data and needs no Nextcloud app: visible with mcp:write only. */
const markWritten = defineTool({
  name: "test_write",
  title: "Write something (test)",
  description: "Changes nothing real; stands for a tool that changes data.",
  input: z.object({ title: z.string().describe("Any text.") }),
  output: z.object({ ok: z.boolean().describe("Always true.") }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  scopes: ["mcp:tools", "mcp:write"],
  handler: () => Promise.resolve({ ok: true }),
});

const METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const config = testConfig({
  ALLOWED_ORIGINS: "http://localhost:*",
  // The registry below is made of bare tools (no groups): every one of them is in the toolset "all".
  MCP_DEFAULT_APPS: "all",
});
let idp: TestIdp;
let app: ReturnType<typeof makeApp>;

/** The app under test, with the local IdP's keys unless told otherwise. */
function makeApp(over: Partial<AppDeps> = {}) {
  return testApp(idp, { config, registry: new ToolRegistry([...allTools, markWritten]), over });
}

beforeAll(async () => {
  idp = await createIdp();
  app = makeApp();
});

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
};

function post(body: unknown, headers: Record<string, string> = {}) {
  return app.request("/mcp", mcpPost(body, headers));
}

const bearer = async (overrides: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await idp.sign(claims(overrides))}`,
});

async function expectInvalidToken(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe(
    `Bearer resource_metadata="${METADATA}", scope="mcp:tools mcp:write", error="invalid_token", error_description="The access token is invalid or expired."`,
  );
  expect(await res.json()).toEqual({
    error: "invalid_token",
    error_description: "The access token is invalid or expired.",
  });
}

describe("protected resource metadata (RFC 9728)", () => {
  it.each(["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])(
    "is served at %s with the configured resource",
    async (path) => {
      const res = await app.request(path, { headers: { host: "evil.example:8080" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toEqual({
        resource: "https://mcp.example.com/mcp",
        authorization_servers: [ISSUER],
        scopes_supported: ["mcp:tools", "mcp:write"],
        bearer_methods_supported: ["header"],
        resource_name: "Nextcloud (MCP gateway)",
      });
    },
  );
});

describe("POST /mcp refuses", () => {
  it("a request without a token: 401 pointing at the metadata, no error code (RFC 6750 §3.1)", async () => {
    const res = await post(INIT);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${METADATA}", scope="mcp:tools mcp:write"`,
    );
    // Neither in the challenge nor in the body: a client without a token has done nothing wrong.
    expect(await res.json()).toEqual({ message: "Sign in: this endpoint needs an OAuth access token." });
  });

  it("a malformed Authorization header", async () => {
    await expectInvalidToken(await post(INIT, { authorization: "Bearer not.a.jwt" }));
    for (const authorization of ["Bearer not a token", "Basic YWxpY2U6c2VjcmV0"]) {
      const res = await post(INIT, { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get("www-authenticate"), authorization).toMatch(
        new RegExp(
          `^Bearer resource_metadata="${METADATA}", scope="mcp:tools mcp:write", error="invalid_token", error_description="[^"]+"$`,
        ),
      );
    }
  });

  it("an expired token (past the 60 s leeway)", async () => {
    await expectInvalidToken(await post(INIT, await bearer({ exp: NOW - 61 })));
  });

  it("a token for another audience, including a Nextcloud token", async () => {
    await expectInvalidToken(await post(INIT, await bearer({ aud: "https://other.example.com/mcp" })));
    await expectInvalidToken(await post(INIT, await bearer({ aud: "nextcloud" })));
  });

  it("a token of the same realm that is not an access token (ID, refresh, logout)", async () => {
    await expectInvalidToken(await post(INIT, await bearer({ typ: "ID", nonce: "n" })));
    await expectInvalidToken(await post(INIT, await bearer({ typ: "Refresh" })));
    const logout = await idp.sign(claims({ sid: "s-1" }), { typ: "logout+jwt" });
    await expectInvalidToken(await post(INIT, { authorization: `Bearer ${logout}` }));
  });

  it("a token sent by two methods (header plus query or form body): 400 invalid_request (RFC 6750 §2)", async () => {
    const auth = await bearer();
    const token = auth.authorization.slice("Bearer ".length);
    const expectInvalidRequest = async (res: Response) => {
      expect(res.status).toBe(400);
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer resource_metadata="${METADATA}", scope="mcp:tools mcp:write", error="invalid_request", error_description="Send the access token once, in the Authorization header only (RFC 6750 section 2)."`,
      );
      expect(await res.json()).toEqual({
        error: "invalid_request",
        error_description:
          "Send the access token once, in the Authorization header only (RFC 6750 section 2).",
      });
    };
    const headers = {
      host: "127.0.0.1:8080",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...auth,
    };
    // The same valid token in the header and the query: served before, refused now.
    await expectInvalidRequest(
      await app.request(`/mcp?access_token=${token}`, {
        method: "POST",
        headers,
        body: JSON.stringify(INIT),
      }),
    );
    await expectInvalidRequest(
      await app.request("/mcp?x=1&access_token=", { method: "POST", headers, body: JSON.stringify(INIT) }),
    );
    await expectInvalidRequest(
      await app.request("/mcp", {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body: new URLSearchParams({ access_token: token }).toString(),
      }),
    );
    // The query alone is not a supported method either (bearer_methods_supported: header).
    const { authorization: _, ...noHeader } = headers;
    await expectInvalidRequest(
      await app.request(`/mcp?access_token=${token}`, {
        method: "POST",
        headers: noHeader,
        body: JSON.stringify(INIT),
      }),
    );
    // A form body without access_token passes the token check (the transport refuses it: not JSON).
    const form = await app.request("/mcp", {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: "a=1",
    });
    expect(form.headers.get("www-authenticate")).toBeNull();
    expect(await form.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
  });

  it("a token from another issuer", async () => {
    await expectInvalidToken(await post(INIT, await bearer({ iss: "https://sso.example.com/realms/other" })));
  });

  it("an unsigned token (alg none)", async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    await expectInvalidToken(
      await post(INIT, { authorization: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.` }),
    );
  });

  it("a token signed with HS256 using the public key as the secret", async () => {
    const { exportSPKI } = await import("jose");
    const secret = new TextEncoder().encode(await exportSPKI(idp.publicKey));
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256", kid: "key-1" })
      .sign(secret);
    await expectInvalidToken(await post(INIT, { authorization: `Bearer ${forged}` }));
  });

  it("a token signed by another key with the same kid", async () => {
    const other = await createIdp();
    await expectInvalidToken(await post(INIT, { authorization: `Bearer ${await other.sign(claims())}` }));
  });

  it("a valid token without mcp:tools: 403 insufficient_scope", async () => {
    const res = await post(INIT, await bearer({ scope: "openid profile" }));
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${METADATA}", scope="mcp:tools", error="insufficient_scope", error_description="The token lacks the scope mcp:tools."`,
    );
  });

  it("a write tool called without mcp:write: 403 naming every scope the call needs", async () => {
    const res = await post(
      {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "test_write", arguments: { title: "x" } },
      },
      await bearer({ scope: "mcp:tools" }),
    );
    expect(res.status).toBe(403);
    const header = res.headers.get("www-authenticate") ?? "";
    expect(header).toMatch(
      /^Bearer resource_metadata="[^"]+", scope="mcp:tools mcp:write", error="insufficient_scope", error_description="[^"]+"$/,
    );
    expect(((await res.json()) as { error: string }).error).toBe("insufficient_scope");
  });

  it("an Origin that is not allowed: 403 before anything else", async () => {
    const res = await post(INIT, { origin: "https://evil.example", ...(await bearer()) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(
      /ALLOWED_ORIGINS/,
    );
  });

  it("a Host that is not this server's when bound to loopback (DNS rebinding)", async () => {
    const res = await post(INIT, { host: "attacker.example", ...(await bearer()) });
    expect(res.status).toBe(403);
  });

  it("a body that is not JSON, and one that is too large", async () => {
    expect((await post("{not json", await bearer())).status).toBe(400);
    const big = JSON.stringify({ ...INIT, pad: "x".repeat(4 * 1024 * 1024) });
    expect((await post(big, await bearer())).status).toBe(413);
  });

  it("GET and DELETE (stateless: no stream, no session)", async () => {
    const auth = await bearer();
    for (const method of ["GET", "DELETE"]) {
      const res = await app.request("/mcp", { method, headers: { host: "127.0.0.1:8080", ...auth } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST, OPTIONS");
    }
  });

  it("with 503 and Retry-After when the IdP's keys cannot be loaded", async () => {
    const down = makeApp({
      readiness: { ...READY, idp: () => ({ discovery: "failed", jwks: "pending" }) },
      verifier: createTokenVerifier({
        issuer: ISSUER,
        audience: RESOURCE,
        getKey: () => Promise.reject(new Error("connect ECONNREFUSED")),
        now: () => NOW_MS,
      }),
    });
    const res = await down.request("/mcp", {
      method: "POST",
      headers: { host: "127.0.0.1", "content-type": "application/json", ...(await bearer()) },
      body: JSON.stringify(INIT),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({
      error: "temporarily_unavailable",
      error_description: "The access token cannot be verified right now; try again later.",
    });
  });
});

/** A 2026-07-28 request: version and capabilities in `_meta`, the method (and name) in headers. */
function modern(
  method: string,
  params: Record<string, unknown> = {},
  o: { capabilities?: object; headers?: Record<string, string>; id?: number } = {},
): { body: object; headers: Record<string, string> } {
  const name: Record<string, string> = typeof params.name === "string" ? { "mcp-name": params.name } : {};
  return {
    body: {
      jsonrpc: "2.0",
      id: o.id ?? 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
          "io.modelcontextprotocol/clientCapabilities": o.capabilities ?? {},
        },
      },
    },
    headers: { "mcp-protocol-version": "2026-07-28", "mcp-method": method, ...name, ...o.headers },
  };
}

async function postModern(...args: Parameters<typeof modern>) {
  const { body, headers } = modern(...args);
  return post(body, { ...(await bearer()), ...headers });
}

describe("POST /mcp on 2026-07-28 (stateless, no initialize)", () => {
  it("answers server/discover with the revisions and the tools capability", async () => {
    const res = await postModern("server/discover");
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    const body = (await res.json()) as { result: Record<string, unknown> };
    expect(body.result).toMatchObject({
      supportedVersions: ["2026-07-28"],
      capabilities: { tools: {} },
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "nextcloud-mcp-gateway" } },
    });
    expect(body.result.instructions).toMatch(/Nextcloud/);
  });

  it("lists tools with cache hints private to the caller, and calls one", async () => {
    const list = (await (await postModern("tools/list")).json()) as {
      result: { tools: { name: string }[]; ttlMs: number; cacheScope: string };
    };
    expect(list.result.tools.map((t) => t.name)).toContain("server_info");
    expect(list.result).toMatchObject({ ttlMs: 300_000, cacheScope: "private" });
    const call = (await (await postModern("tools/call", { name: "server_info", arguments: {} })).json()) as {
      result: { structuredContent: { subject: string; protocolVersions: string[] } };
    };
    expect(call.result.structuredContent.subject).toBe("0b6f3c1e-user");
    expect(call.result.structuredContent.protocolVersions[0]).toBe("2026-07-28");
  });

  it("refuses a request without the Mcp-Method header, or one whose Mcp-Name disagrees with the body", async () => {
    const { body, headers } = modern("tools/list");
    const { "mcp-method": _method, ...withoutMethod } = headers;
    const missing = await post(body, { ...(await bearer()), ...withoutMethod });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toMatch(/Mcp-Method/);
    const wrongName = await postModern(
      "tools/call",
      { name: "server_info", arguments: {} },
      { headers: { "mcp-name": "notes_list" } },
    );
    expect(wrongName.status).toBe(400);
    expect(JSON.stringify(await wrongName.json())).toMatch(/Mcp-Name/);
  });

  it("answers an unknown tool with -32602 and the message as written", async () => {
    const res = await postModern("tools/call", { name: "no_such_tool", arguments: {} }, { id: 9 });
    const body = (await res.json()) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(9);
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/^Unknown tool: "no_such_tool"\. tools\/list names the tools/);
  });

  it("answers tools/call without a name with -32602 and a readable message", async () => {
    const res = await postModern("tools/call", { arguments: {} }, { id: 6 });
    const body = (await res.json()) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(6);
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/^Invalid params: tools\/call needs params.name/);
  });

  it("opens no subscriptions/listen stream: the gateway has no notifications to send", async () => {
    const res = await postModern(
      "subscriptions/listen",
      { notifications: { toolsListChanged: true } },
      { id: 4 },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(4);
    expect(body.error.code).toBe(-32601);
    expect(body.error.message).toMatch(/sends no notifications/);
  });

  it("refuses a JSON-RPC batch", async () => {
    const a = modern("tools/list", {}, { id: 1 });
    const b = modern("tools/list", {}, { id: 2 });
    const res = await post([a.body, b.body], { ...(await bearer()), ...a.headers });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600 } });
  });
});

describe("POST /mcp with a good token", () => {
  it("initializes on 2025-11-25 and 2025-06-18", async () => {
    for (const v of ["2025-11-25", "2025-06-18"]) {
      const res = await post(
        { ...INIT, params: { ...INIT.params, protocolVersion: v } },
        { ...(await bearer()), "mcp-protocol-version": v },
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        result: { protocolVersion: string; serverInfo: { name: string } };
      };
      expect(body.result.protocolVersion).toBe(v);
      expect(body.result.serverInfo.name).toBe("nextcloud-mcp-gateway");
    }
  });

  it("lists only the tools the scopes allow", async () => {
    const list = async (scope: string) => {
      const res = await post({ jsonrpc: "2.0", id: 3, method: "tools/list" }, await bearer({ scope }));
      return ((await res.json()) as { result: { tools: { name: string }[] } }).result.tools
        .map((t) => t.name)
        .sort();
    };
    expect(await list("mcp:tools")).toEqual(["offline_access_status", "server_info"]);
    expect(await list("mcp:tools mcp:write")).toEqual(["offline_access_status", "server_info", "test_write"]);
  });

  it("calls server_info as the token's subject", async () => {
    const res = await post(
      { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "server_info", arguments: {} } },
      await bearer(),
    );
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as {
      result: { structuredContent: { subject: string; scopes: string[] }; isError?: boolean };
    };
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent.subject).toBe("0b6f3c1e-user");
    expect(result.structuredContent.scopes).toEqual(["openid", "mcp:tools", "mcp:write"]);
  });

  it("answers a call of an unknown tool with JSON-RPC -32602", async () => {
    const res = await post(
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "no_such_tool", arguments: {} } },
      await bearer(),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: number;
      result?: unknown;
      error?: { code: number; message: string };
    };
    expect(body.result).toBeUndefined();
    expect(body.id).toBe(5);
    expect(body.error?.code).toBe(-32602);
    // The message as written, once: SDK 1.x put "MCP error -32602: " in front (and clients again).
    expect(body.error?.message).toMatch(/^Unknown tool: "no_such_tool"\. tools\/list names the tools/);
  });

  it.each([
    ["no params", undefined],
    ["params without name", { arguments: {} }],
    ["a name that is not a string", { name: 7, arguments: {} }],
  ])("answers tools/call with %s with JSON-RPC -32602 and a readable message", async (_what, params) => {
    const res = await post({ jsonrpc: "2.0", id: 6, method: "tools/call", params }, await bearer());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      jsonrpc: "2.0",
      id: 6,
      error: {
        code: -32602,
        message:
          "Invalid params: tools/call needs params.name, the name of a tool as tools/list gives it, and params.arguments with its input.",
      },
    });
  });

  it("refuses JSON-RPC batches on the revisions that removed them, and still serves them on 2025-03-26", async () => {
    const batch = [
      { jsonrpc: "2.0", id: 7, method: "tools/list" },
      { jsonrpc: "2.0", id: 8, method: "ping" },
    ];
    for (const v of ["2025-06-18", "2025-11-25"]) {
      const res = await post(batch, { ...(await bearer()), "mcp-protocol-version": v });
      expect(res.status, v).toBe(400);
      expect(await res.json()).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: -32600,
          message: `Invalid Request: MCP ${v} has no JSON-RPC batches; send each message in its own POST.`,
        },
      });
    }
    // An initialize for a batch-less revision inside a batch (no header yet) is refused the same way.
    const init = await post([{ ...INIT, params: { ...INIT.params, protocolVersion: "2025-06-18" } }], {
      ...(await bearer()),
      "mcp-protocol-version": "",
    });
    expect(init.status).toBe(400);
    const old = await post(batch, { ...(await bearer()), "mcp-protocol-version": "2025-03-26" });
    expect(old.status).toBe(200);
    const answers = (await old.json()) as { id: number; result?: unknown }[];
    expect(answers.map((a) => a.id).sort()).toEqual([7, 8]);
  });

  it("answers CORS preflights from allowed origins and exposes WWW-Authenticate", async () => {
    const res = await app.request("/mcp", {
      method: "OPTIONS",
      headers: {
        host: "127.0.0.1:8080",
        origin: "http://localhost:6274",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:6274");
    // A browser client on 2026-07-28 sends the method and the tool name as headers.
    expect(res.headers.get("access-control-allow-headers")).toMatch(/mcp-method.*mcp-name/);
    const unauth = await post(INIT, { origin: "http://localhost:6274" });
    expect(unauth.headers.get("access-control-expose-headers")).toMatch(/www-authenticate/);
  });

  it("puts the CORS headers and the request id on the SDK's answers and on the gateway's refusals", async () => {
    const browser = { origin: "http://localhost:6274", "x-request-id": "req-7" };
    const call = await post(
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "server_info", arguments: {} } },
      { ...browser, ...(await bearer()) },
    );
    const refused = await post(INIT, browser);
    expect([call.status, refused.status]).toEqual([200, 401]);
    for (const res of [call, refused]) {
      expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:6274");
      expect(res.headers.get("access-control-expose-headers")).toBe("www-authenticate,mcp-session-id");
      expect(res.headers.get("vary")).toBe("Origin");
      expect(res.headers.get("x-request-id")).toBe("req-7");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    }
    expect(
      ((await call.json()) as { result: { structuredContent: unknown } }).result.structuredContent,
    ).toEqual(expect.objectContaining({ subject: "0b6f3c1e-user" }));
    // No Origin (a non-browser client): no CORS grant, and a generated request id.
    const plain = await post(INIT, await bearer());
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    expect(plain.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

it("keeps the token clock honest: a token inside the leeway is still accepted", async () => {
  const res = await post(INIT, await bearer({ exp: NOW - 30 }));
  expect(res.status).toBe(200);
});

it("names only mcp:tools in the challenge when sign-ins are configured read-only", async () => {
  const readOnly = makeApp({ config: { ...config, signInScopes: ["mcp:tools"] } });
  const res = await readOnly.request("/mcp", {
    method: "POST",
    headers: { host: "127.0.0.1", "content-type": "application/json" },
    body: JSON.stringify(INIT),
  });
  expect(res.status).toBe(401);
  expect(res.headers.get("www-authenticate")).toBe(
    `Bearer resource_metadata="${METADATA}", scope="mcp:tools"`,
  );
});

describe("Origin on loopback and on all interfaces", () => {
  it("allows loopback origins only while the gateway listens on loopback", async () => {
    const headers = {
      host: "127.0.0.1:8080",
      origin: "http://localhost:3999",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    };
    const onLoopback = await app.request("/mcp", {
      method: "POST",
      headers: { ...headers, ...(await bearer()) },
      body: JSON.stringify(INIT),
    });
    expect(onLoopback.status).toBe(200);
    const exposed = makeApp({
      config: { ...config, listen: { host: "0.0.0.0", port: 8080 }, allowedOrigins: [] },
    });
    const res = await exposed.request("/mcp", {
      method: "POST",
      headers: { ...headers, ...(await bearer()) },
      body: JSON.stringify(INIT),
    });
    expect(res.status).toBe(403);
  });
});
