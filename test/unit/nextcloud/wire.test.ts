// The node:http exchange under send(): what Nextcloud receives, what comes back, over kept-alive
// connections (a local HTTP server stands for Nextcloud).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { exchange, type WireRequest } from "../../../src/nextcloud/wire.ts";
import { localServers } from "../../harness/local-server.ts";

const listen = localServers();

async function serve(handler: (req: IncomingMessage, res: ServerResponse, socket: Socket) => void) {
  const { origin } = await listen((req, res) => {
    handler(req, res, req.socket);
  });
  return new URL(`${origin}/ocs/x`);
}

const base: Omit<WireRequest, "signal"> = {
  method: "GET",
  headers: {},
  limit: 1000,
  what: "the test document",
  idempotent: true,
};
const request = (over: Partial<WireRequest> = {}): WireRequest => ({
  ...base,
  signal: AbortSignal.timeout(10_000),
  ...over,
});

describe("exchange", () => {
  it("sends what fetch sent (the caller's headers win whatever their case) and reads the answer", async () => {
    let seen: IncomingMessage | undefined;
    let body = "";
    const url = await serve((req, res) => {
      seen = req;
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => res.writeHead(201, { etag: '"e1"', "x-two": ["a", "b"] }).end("héllo"));
    });
    const res = await exchange(
      url,
      request({ method: "PUT", headers: { Accept: "application/json" }, body: "ünï" }),
    );
    expect(seen?.headers).toMatchObject({
      accept: "application/json",
      "accept-language": "*",
      "accept-encoding": "gzip, deflate",
      "user-agent": "node",
      "content-type": "text/plain;charset=UTF-8",
      "content-length": "5",
    });
    expect(body).toBe("ünï");
    expect(res.status).toBe(201);
    expect(new TextDecoder().decode(res.body)).toBe("héllo");
    expect(res.rawHeaders).toEqual(expect.arrayContaining(["etag", '"e1"', "x-two", "a", "x-two", "b"]));
  });

  it("decodes a gzip answer and holds the limit to the decoded size", async () => {
    const text = "x".repeat(900);
    const url = await serve((req, res) => {
      res
        .writeHead(200, { "content-encoding": "gzip" })
        .end(gzipSync(req.url === "/ocs/x" ? text : text + text));
    });
    expect(new TextDecoder().decode((await exchange(url, request())).body)).toBe(text);
    const big = new URL(url);
    big.pathname = "/ocs/big";
    const err = await exchange(big, request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NextcloudError);
    expect((err as NextcloudError).kind).toBe("too_large");
    expect((err as NextcloudError).description).toBe(
      "the test document is larger than the 1000 bytes allowed.",
    );
  });

  it("refuses a declared length over the limit without reading it", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "5000" }).write("x");
    });
    const err = (await exchange(url, request()).catch((e: unknown) => e)) as NextcloudError;
    expect(err.kind).toBe("too_large");
  });

  it("keeps the connection for the next request", async () => {
    const sockets = new Set<Socket>();
    const url = await serve((_req, res, socket) => {
      sockets.add(socket);
      res.end("ok");
    });
    for (let i = 0; i < 5; i++) expect((await exchange(url, request())).status).toBe(200);
    expect(sockets.size).toBe(1);
  });

  it("sends a request once more on a new connection when the kept one was closed under it, if it may be repeated", async () => {
    let answered = 0;
    const url = await serve((req, res, socket) => {
      // The second request on the first connection meets a server that drops it.
      if (answered === 1 && req.headers["x-n"] === "2" && socket.listenerCount("close") > 0) {
        socket.destroy();
        answered++;
        return;
      }
      answered++;
      res.end(`answer ${String(answered)}`);
    });
    await exchange(url, request({ headers: { "x-n": "1" } }));
    const again = await exchange(url, request({ headers: { "x-n": "2" } }));
    expect(new TextDecoder().decode(again.body)).toBe("answer 3");
    // Not repeated: a POST gets the connection's failure.
    await exchange(url, request({ headers: { "x-n": "3" } }));
    answered = 1;
    const err = await exchange(
      url,
      request({ method: "POST", idempotent: false, headers: { "x-n": "2" } }),
    ).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ECONNRESET");
  });
});
