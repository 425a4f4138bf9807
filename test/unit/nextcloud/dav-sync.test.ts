// RFC 6578 sync-collection as Sabre answers it, including what Radicale never sends: a truncated answer
// (507 on the collection, continued with its new token), a 409 for an unknown token, members removed
// since the token. The answers are the server's; what is checked is what the gateway makes of them.
import { describe, expect, it } from "vitest";
import { syncCollection } from "../../../src/nextcloud/dav-sync.ts";
import { NextcloudError } from "../../../src/nextcloud/errors.ts";

const BASE = "https://cloud.example.com";
const COLLECTION = "/remote.php/dav/calendars/alice/work/";

interface Sent {
  method: string;
  url: string;
  depth: string | null;
  body: string;
}

/** A fetch answering each request with the next of `answers`, recording what was sent. */
function server(answers: { status: number; body?: string }[]) {
  const sent: Sent[] = [];
  const fetchFn = ((input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    sent.push({
      method: init?.method ?? "GET",
      url: input instanceof Request ? input.url : input.toString(),
      depth: headers.get("depth"),
      body: typeof init?.body === "string" ? init.body : new TextDecoder().decode(init?.body as Uint8Array),
    });
    const next = answers.shift() ?? { status: 500 };
    return Promise.resolve(
      new Response(next.body ?? "", {
        status: next.status,
        headers: { "content-type": "application/xml; charset=utf-8" },
      }),
    );
  }) as typeof fetch;
  return { sent, options: { baseUrl: BASE, token: () => "t", timeoutMs: 5_000, fetch: fetchFn, retries: 0 } };
}

const multistatus = (token: string, ...responses: string[]) =>
  `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">${responses.join("")}<d:sync-token>${token}</d:sync-token></d:multistatus>`;
const member = (name: string, etag: string) =>
  `<d:response><d:href>${COLLECTION}${name}</d:href><d:propstat><d:prop><d:getetag>"${etag}"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
const removed = (name: string) =>
  `<d:response><d:href>${COLLECTION}${name}</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`;
const truncated = `<d:response><d:href>${COLLECTION}</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>`;

const sync = (options: ReturnType<typeof server>["options"], token: string) =>
  syncCollection(options, {
    tree: "calendars",
    uid: "alice",
    path: ["work"],
    token,
    what: 'calendar "work"',
  });

describe("syncCollection", () => {
  it("sends a Depth 0 sync-collection REPORT with the token, and reads changed and removed members", async () => {
    const { sent, options } = server([
      { status: 207, body: multistatus("tok-2", member("a%20b.ics", "e1"), removed("gone.ics")) },
    ]);
    expect(await sync(options, "tok-1")).toEqual({
      status: "ok",
      token: "tok-2",
      changed: [{ name: "a b.ics", etag: '"e1"' }],
      removed: ["gone.ics"],
    });
    expect(sent).toEqual([
      expect.objectContaining({ method: "REPORT", url: `${BASE}${COLLECTION}`, depth: "0" }),
    ]);
    expect(sent[0]?.body).toContain("<d:sync-token>tok-1</d:sync-token>");
    expect(sent[0]?.body).toContain("<d:sync-level>1</d:sync-level>");
  });

  it("follows a truncated answer with its token until it is complete", async () => {
    const { sent, options } = server([
      { status: 207, body: multistatus("tok-a", member("1.ics", "e1"), truncated) },
      { status: 207, body: multistatus("tok-b", member("2.ics", "e2"), removed("1.ics")) },
    ]);
    expect(await sync(options, "")).toEqual({
      status: "ok",
      token: "tok-b",
      changed: [{ name: "2.ics", etag: '"e2"' }],
      removed: ["1.ics"],
    });
    expect(sent.map((s) => /<d:sync-token>(.*)<\/d:sync-token>/.exec(s.body)?.[1])).toEqual(["", "tok-a"]);
  });

  it("says invalid_token for a 403 or 409 on a token, gone for a 404 or a 403 without one", async () => {
    expect(await sync(server([{ status: 403 }]).options, "old")).toEqual({ status: "invalid_token" });
    expect(await sync(server([{ status: 409 }]).options, "old")).toEqual({ status: "invalid_token" });
    expect(await sync(server([{ status: 404 }]).options, "old")).toEqual({ status: "gone" });
    expect(await sync(server([{ status: 403 }]).options, "")).toEqual({ status: "gone" });
  });

  it("never takes a member outside the collection, and refuses an answer without a sync token", async () => {
    const other = `<d:response><d:href>/remote.php/dav/calendars/bob/work/x.ics</d:href><d:propstat><d:prop><d:getetag>"x"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
    const { options } = server([{ status: 207, body: multistatus("t", other, member("mine.ics", "m")) }]);
    expect(await sync(options, "")).toMatchObject({ changed: [{ name: "mine.ics", etag: '"m"' }] });
    const none = server([
      {
        status: 207,
        body: `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">${member("a.ics", "e")}</d:multistatus>`,
      },
    ]);
    await expect(sync(none.options, "")).rejects.toBeInstanceOf(NextcloudError);
  });
});
