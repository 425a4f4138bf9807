// send()'s time limit and the caller's signal over the node:http path, with a local server standing
// for a Nextcloud that never answers: the limit gives a "timeout" error naming it, the caller's
// abort ends the request at once (and is not called a timeout), and the connection is closed.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { send } from "../../../src/nextcloud/http.ts";
import { localServers } from "../../harness/local-server.ts";
import { waitFor } from "../../harness/wait.ts";

const listen = localServers();

/** A server that reads each request and never answers; `closed` counts requests whose socket closed. */
async function silent() {
  const seen: IncomingMessage[] = [];
  let closed = 0;
  const { origin: baseUrl } = await listen((req) => {
    seen.push(req);
    req.socket.once("close", () => closed++);
    req.resume();
  });
  return { baseUrl, seen, closed: () => closed };
}

describe("send() limits", () => {
  it("ends a request Nextcloud does not answer at the time limit, saying so, and closes it", async () => {
    const s = await silent();
    const err = await send(
      { baseUrl: s.baseUrl, token: () => "t", timeoutMs: 150, retries: 0 },
      { method: "GET", path: "/ocs/x", what: "the test document" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NextcloudError);
    expect(err).toMatchObject({ kind: "timeout" });
    expect((err as Error).message).toBe("Nextcloud did not answer within 150 ms for the test document.");
    expect(s.seen).toHaveLength(1);
    await waitFor("the timed-out connection to close", () => (s.closed() === 1 ? true : undefined));
  });

  it("ends the request when the caller's signal aborts, before the time limit, and not as a timeout", async () => {
    const s = await silent();
    const caller = new AbortController();
    const pending = send(
      { baseUrl: s.baseUrl, token: () => "t", timeoutMs: 60_000, retries: 0 },
      { method: "GET", path: "/ocs/x", what: "the test document", signal: caller.signal },
    ).catch((e: unknown) => e);
    await waitFor("the request to arrive", () => (s.seen.length === 1 ? true : undefined));
    caller.abort(new Error("the client went away"));
    const err = await pending;
    expect(err).toBeInstanceOf(NextcloudError);
    expect((err as NextcloudError).kind).not.toBe("timeout");
    await waitFor("the aborted connection to close", () => (s.closed() === 1 ? true : undefined));
  });

  it("sends nothing for a signal that is already aborted", async () => {
    const s = await silent();
    const err = await send(
      { baseUrl: s.baseUrl, token: () => "t", timeoutMs: 60_000, retries: 0 },
      { method: "GET", path: "/ocs/x", what: "the test document", signal: AbortSignal.abort() },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NextcloudError);
    expect(s.seen).toHaveLength(0);
  });
});
