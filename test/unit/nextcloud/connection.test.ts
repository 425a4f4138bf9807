// When Nextcloud cannot be reached, the error says why (refused, unknown host, TLS), not just
// "fetch failed"; and a token source that fails is reported as itself, never as Nextcloud being down.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.ts";
import { fetchCapabilities, NextcloudError, send } from "../../../src/nextcloud/index.ts";

let plain: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  plain = createServer((_req, res) => res.end("plain http"));
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  port = (plain.address() as AddressInfo).port;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(() => new Promise((resolve) => plain.close(resolve)));

async function failure(baseUrl: string, token: () => string | Promise<string> = () => ""): Promise<unknown> {
  return fetchCapabilities({ baseUrl, timeoutMs: 5000, token }).then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
}

describe("Nextcloud connection failures keep their cause", () => {
  it("a closed port: connection refused (ECONNREFUSED)", async () => {
    const err = await failure(`http://127.0.0.1:${closedPort}`);
    expect(err).toBeInstanceOf(NextcloudError);
    expect((err as NextcloudError).kind).toBe("unavailable");
    expect((err as NextcloudError).description).toBe(
      "Nextcloud could not be reached for the capabilities (connection refused: ECONNREFUSED).",
    );
    expect((err as NextcloudError).detail).toContain(`ECONNREFUSED 127.0.0.1:${closedPort}`);
  });

  it("an unknown host: the resolver's code and the host", async () => {
    const err = (await failure("http://nextcloud.invalid")) as NextcloudError;
    expect(err.kind).toBe("unavailable");
    expect(err.description).toMatch(
      /^Nextcloud could not be reached for the capabilities \(unknown host: (ENOTFOUND|EAI_AGAIN) nextcloud\.invalid\)\.$/,
    );
  });

  it("TLS to a server that speaks plain http: a TLS error code", async () => {
    const err = (await failure(`https://127.0.0.1:${port}`)) as NextcloudError;
    expect(err.kind).toBe("unavailable");
    expect(err.description).toMatch(
      /^Nextcloud could not be reached for the capabilities \(TLS: ERR_SSL_[A-Z_]+\)\.$/,
    );
  });

  it("a token source that fails is that failure, not Nextcloud unreachable", async () => {
    const refused = new GatewayError(
      "server_error",
      'The identity provider refused the gateway\'s client credentials (unauthorized_client "Invalid client or Invalid client credentials"); the operator must check OIDC_CLIENT_ID (mcp-gateway) and OIDC_CLIENT_SECRET.',
    );
    const err = await failure(`http://127.0.0.1:${port}`, () => Promise.reject(refused));
    expect(err).toBe(refused);
  });

  it("the wait for the token (a queued exchange) is not counted against Nextcloud's time limit", async () => {
    // The token comes after three times the limit; Nextcloud answers at once. Before, the limit ran
    // from before the token was asked for, so the request was aborted as "Nextcloud did not answer".
    const slowToken = () =>
      new Promise<string>((resolve) => {
        setTimeout(() => {
          resolve("t");
        }, 300);
      });
    const res = await send(
      { baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 100, token: slowToken },
      { method: "GET", path: "/status.php", what: "the status" },
    );
    expect(res.status).toBe(200);
    expect(res.text()).toBe("plain http");
  });

  it("a missing document reads as English", async () => {
    const missing = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => missing.listen(0, "127.0.0.1", resolve));
    try {
      const err = (await failure(
        `http://127.0.0.1:${(missing.address() as AddressInfo).port}`,
      )) as NextcloudError;
      expect(err.description).toBe("Nextcloud did not find the capabilities.");
    } finally {
      await new Promise((resolve) => missing.close(resolve));
    }
  });
});
