// The index bench's server-side request counter: it counts the requests of the server it is asked
// about, not those of another server in the same process (the stand-in's WebDAV back end).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { timeRequests } from "../../../bench/request-timer.ts";

const servers: Server[] = [];
async function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.end("ok");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/` };
}

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

describe("timeRequests", () => {
  it("counts the requests of the chosen server only, with their time, until stopped", async () => {
    const ours = await serve();
    const theirs = await serve();
    const timer = timeRequests((server) => server === ours.server);
    for (let i = 0; i < 3; i++) await (await fetch(ours.url)).text();
    await (await fetch(theirs.url)).text();
    expect(timer.requests).toBe(3);
    expect(timer.serverMs).toBeGreaterThan(0);
    timer.stop();
    await (await fetch(ours.url)).text();
    expect(timer.requests).toBe(3);
  });
});
