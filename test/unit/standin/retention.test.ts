// The stand-in serves the sandbox for hours and the soak bench for a million requests: what it keeps
// of the requests it served (bearer tokens, the request log, per-token counts) must stay bounded,
// while tests still see the latest tokens and requests in order.
import { afterEach, describe, expect, it } from "vitest";
import { startNextcloudStandin, type NextcloudStandin } from "../../standin/index.ts";

let standin: NextcloudStandin | undefined;
afterEach(async () => {
  await standin?.stop();
  standin = undefined;
});

/** A request with a bearer token; the IdP is unreachable, so the stand-in refuses it after recording it. */
async function call(url: string, token: string, path = "/ocs/v2.php/cloud/user?format=json"): Promise<void> {
  const res = await fetch(`${url}${path}`, {
    headers: { authorization: `Bearer ${token}`, "ocs-apirequest": "true" },
  });
  await res.arrayBuffer();
}

describe("what the stand-in retains", () => {
  it("keeps a bounded window of tokens and requests however many it serves", async () => {
    const retain = 40;
    // Port 1 on loopback refuses connections: discovery fails, every token is refused (997).
    standin = await startNextcloudStandin({
      issuer: "http://127.0.0.1:1/realms/x",
      audience: "nextcloud",
      retain,
    });
    const sizes: number[] = [];
    for (let i = 0; i < 400; i++) {
      // Two tokens in constant use (a gateway's exchanged token, a test's direct token) and a new one now and then.
      const token = i % 10 === 9 ? `fresh-${String(i)}` : i % 2 === 0 ? "steady-a" : "steady-b";
      await call(standin.url, token);
      const r = standin.retained();
      sizes.push(r.seenTokens, r.requests, r.distinctTokens);
    }
    expect(Math.max(...sizes)).toBeLessThan(2 * retain);
    const r = standin.retained();
    expect(r.distinctTokens).toBeLessThanOrEqual(retain);
    // The latest are kept, in order.
    expect(standin.seenTokens.at(-1)).toBe("fresh-399");
    expect(standin.seenTokens.at(-2)).toBe("steady-a");
    expect(standin.requests().at(-1)?.rawPath).toBe("/ocs/v2.php/cloud/user?format=json");
    // The tokens in constant use are counted over the whole run, not only the window.
    expect(standin.tokenUses().get("steady-a")).toBe(200);
    expect(standin.tokenUses().get("steady-b")).toBe(160);
    // A token that fell out of the window of distinct tokens is forgotten.
    expect(standin.tokenUses().has("fresh-9")).toBe(false);
  });

  it("keeps everything while under the window (what tests rely on)", async () => {
    standin = await startNextcloudStandin({ issuer: "http://127.0.0.1:1/realms/x", audience: "nextcloud" });
    for (let i = 0; i < 25; i++) await call(standin.url, `t-${String(i)}`);
    expect(standin.seenTokens).toEqual(Array.from({ length: 25 }, (_, i) => `t-${String(i)}`));
    expect(standin.requests()).toHaveLength(25);
    standin.resetRequests();
    expect(standin.retained().requests).toBe(0);
  });

  it("refuses a window that is not a positive integer", async () => {
    await expect(
      startNextcloudStandin({ issuer: "http://127.0.0.1:1/realms/x", audience: "nextcloud", retain: 0 }),
    ).rejects.toThrow(/retain must be a positive integer/);
  });
});
