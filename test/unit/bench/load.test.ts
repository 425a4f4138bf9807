// The bench's raw load generator (HTTP/1.1 on node:net): it sends what the server needs (the
// caller's Host, the body with its length), reads answers framed by Content-Length and by chunked
// encoding over kept-alive connections, and a wrong answer stops the run as with the other clients.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { runLoad, type LoadOptions } from "../../../bench/load.ts";
import { localServers } from "../../harness/local-server.ts";

const listen = localServers();

/** Answers `POST /echo` with the body it got, chunked on odd requests, with a length on even ones. */
async function echo(seen: IncomingMessage[]): Promise<string> {
  let n = 0;
  const { origin } = await listen((req, res) => {
    seen.push(req);
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const answer = `${req.headers.host ?? ""}|${body}`;
      if (n++ % 2 === 0) {
        res.writeHead(200, { "content-length": Buffer.byteLength(answer) }).end(answer);
      } else {
        res.writeHead(200); // no length: node sends it chunked
        res.write(answer.slice(0, 3));
        res.end(answer.slice(3));
      }
    });
  });
  return `${origin}/echo`;
}

const options = (url: string, over: Partial<LoadOptions> = {}): LoadOptions => ({
  client: "raw",
  name: "echo",
  url,
  method: "POST",
  headers: { host: "mcp.example.test", "content-type": "text/plain" },
  body: "hé, 1",
  concurrency: 2,
  warmupMs: 50,
  durationMs: 300,
  check: (body) => (body === "mcp.example.test|hé, 1" ? undefined : `unexpected body ${body}`),
  ...over,
});

describe("runLoad with the raw client", () => {
  it("sends the caller's Host and the body, and reads chunked and sized answers alike", async () => {
    const seen: IncomingMessage[] = [];
    const result = await runLoad(options(await echo(seen)));
    expect(result.problems).toEqual([]);
    // At least two answers per connection: both framings, and a kept-alive connection reused.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(result.otherFailures + result.non2xx).toBe(0);
    // One kept-alive connection per worker, not one per request.
    expect(new Set(seen.map((r) => r.socket.remotePort)).size).toBe(2);
    expect(seen.every((r) => r.headers.host === "mcp.example.test")).toBe(true);
  });

  it("stops at the first wrong answer and names it", async () => {
    const result = await runLoad(options(await echo([]), { check: () => "not what was asked" }));
    expect(result.problems).toEqual(["echo: not what was asked"]);
  });
});
