// send()'s retries: only idempotent requests, Retry-After honoured, and never past the call's deadline.
import { describe, expect, it } from "vitest";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";
import { send } from "../../../src/nextcloud/http.ts";

const BASE = "https://cloud.example.com";

/** A fetch answering `statuses` in turn (the last one for every further request), counting calls. */
function scripted(statuses: number[], retryAfter: string) {
  const calls: string[] = [];
  const fetch = ((_url: string | URL, init?: RequestInit) => {
    calls.push(init?.method ?? "GET");
    const status = statuses[Math.min(calls.length - 1, statuses.length - 1)] ?? 200;
    return Promise.resolve(
      new Response(status === 200 ? "{}" : "busy", {
        status,
        headers: status === 200 ? {} : { "retry-after": retryAfter },
      }),
    );
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

const options = (fetch: typeof globalThis.fetch, timeoutMs: number) => ({
  baseUrl: BASE,
  token: () => "t",
  timeoutMs,
  fetch,
});

describe("send() retries", () => {
  it("retries a read answered 503 and returns the later success", async () => {
    const s = scripted([503, 503, 200], "0");
    const res = await send(options(s.fetch, 5000), { method: "GET", path: "/x", what: "x" });
    expect(res.status).toBe(200);
    expect(s.calls).toHaveLength(3);
  });

  it("never retries a POST", async () => {
    const s = scripted([503, 200], "0");
    await expect(send(options(s.fetch, 5000), { method: "POST", path: "/x", what: "x" })).rejects.toThrow(
      NextcloudError,
    );
    expect(s.calls).toEqual(["POST"]);
  });

  it("does not retry when the Retry-After wait does not fit in the deadline, and says when to retry", async () => {
    const s = scripted([503], "2");
    const err = await send(options(s.fetch, 1000), { method: "GET", path: "/x", what: "x" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NextcloudError);
    expect((err as NextcloudError).message).toContain("Try again in 2 s");
    expect(s.calls).toHaveLength(1);
  });
});
