// Reliability scenario "slow-clients": the HTTP surface against slow and oversized requests. Real
// parts: Keycloak (a realm of this scenario's own), PostgreSQL, the stand-in, the gateway as its own
// process with HTTP_HEADERS_TIMEOUT_MS=2000 and HTTP_REQUEST_TIMEOUT_MS=4000. 200 connections dribble
// their headers (slow-loris), then 200 dribble their bodies, while an ordinary client keeps calling:
// the slow ones are cut (408, connection closed) and the ordinary one is served throughout. A body
// announced far over the 4 MiB limit is refused (413) before it is sent.
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { createScenarioRealm, type ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { startNextcloudStandin } from "../../standin/index.ts";
import { Figures } from "./figures.ts";
import { realmReplicaEnv, startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { describeAnswer, toolsList } from "./mcp-client.ts";

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
const SLOW = 200;

const figures = new Figures("slow-clients");
const stops: (() => Promise<unknown>)[] = [];
let gw: GatewayProcess;
let realm: ScenarioRealm;
/** The ordinary client's. */
let token: string;
/** The slow client's (another user). */
let slowToken: string;

beforeAll(async () => {
  const kc = inject("keycloak");
  const port = await freePort();
  const gatewayUrl = `http://localhost:${String(port)}`;
  realm = await createScenarioRealm({
    keycloak: kc,
    name: "rel-slow-clients",
    gatewayUrl,
    nextcloudUrl: "http://localhost:9",
  });
  stops.push(() => realm.delete());
  const [user, attacker] = await realm.addUsers("slow", 2);
  if (!user || !attacker) throw new Error("no user");
  const standin = await startNextcloudStandin({ issuer: realm.issuer, audience: "nextcloud" });
  stops.push(() => standin.stop());
  gw = await startGatewayProcess(
    await realmReplicaEnv(
      { realm, publicUrl: gatewayUrl, nextcloudUrl: standin.url, stops },
      {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        // The slow bodies come from one user: with the per-user limit (600 a minute) most would be
        // refused 429 before their body mattered. The timeouts are under test here, not the limit.
        RATE_LIMIT_MCP_PER_USER: "0",
      },
    ),
    { port },
  );
  stops.push(() => gw.stop());
  token = await realm.token(user);
  slowToken = await realm.token(attacker);
  expect((await toolsList(gw.url, token)).status).toBe(200);
});

afterAll(async () => {
  figures.flush();
  for (const stop of stops.reverse()) await stop();
});

/** A raw connection to the gateway that records what it received and when it was closed. */
interface Slow {
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  received: string;
}

function open(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const slow: Slow = { socket, openedAt: performance.now(), received: "" };
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (slow.received += d));
    socket.on("error", () => undefined);
    socket.once("close", () => (slow.closedAt = performance.now()));
    socket.once("connect", () => {
      resolve(slow);
    });
    socket.once("error", reject);
  });
}

/**
 * Keeps an ordinary client calling tools/list until `until` resolves; every answer must be 200.
 * Sequential, as one user's client would be.
 */
async function ordinaryClient(
  until: Promise<unknown>,
): Promise<{ calls: number; failures: string[]; slowest: number }> {
  let done = false;
  void until.finally(() => (done = true));
  let calls = 0;
  let slowest = 0;
  const failures: string[] = [];
  while (!done) {
    const a = await toolsList(gw.url, token);
    calls++;
    slowest = Math.max(slowest, a.ms);
    if (a.status !== 200 || a.result === undefined) failures.push(describeAnswer(a));
    const health = await fetch(`${gw.url}/healthz`);
    if (health.status !== 200) failures.push(`/healthz ${String(health.status)}`);
    // Pacing of the client (about 5 calls a second), not synchronisation.
    await new Promise((r) => setTimeout(r, 200));
  }
  return { calls, failures, slowest };
}

/** Writes `chunk` to every open connection each `everyMs` until they are all closed. */
function dribble(conns: Slow[], chunk: string, everyMs: number): () => void {
  const timer = setInterval(() => {
    for (const c of conns) if (c.closedAt === undefined && !c.socket.destroyed) c.socket.write(chunk);
  }, everyMs);
  return () => {
    clearInterval(timer);
  };
}

async function allCut(conns: Slow[], what: string, timeoutMs: number) {
  await waitFor(
    `${what}: all ${String(conns.length)} connections closed by the gateway`,
    () => (conns.every((c) => c.closedAt !== undefined) ? true : undefined),
    { timeoutMs, intervalMs: 100 },
  );
  const lifetimes = conns.map((c) => (c.closedAt ?? 0) - c.openedAt);
  return { longest: Math.max(...lifetimes), shortest: Math.min(...lifetimes) };
}

it(`cuts ${String(SLOW)} slow-loris connections (headers never finished) while others are served`, async () => {
  const conns = await Promise.all(Array.from({ length: SLOW }, () => open(gw.port)));
  for (const c of conns) c.socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  const stop = dribble(conns, "X-Slow: a\r\n", 300);
  try {
    const cut = allCut(conns, "slow headers", HEADERS_TIMEOUT_MS + 10_000);
    const client = await ordinaryClient(cut);
    const { longest } = await cut;
    expect(client.failures).toEqual([]);
    expect(client.calls).toBeGreaterThan(0);
    // Each was answered 408 Request Timeout (Node's answer to an expired headersTimeout) or closed.
    const answered408 = conns.filter((c) => c.received.startsWith("HTTP/1.1 408")).length;
    expect(conns.filter((c) => c.received !== "" && !c.received.startsWith("HTTP/1.1 408"))).toEqual([]);
    figures.add(
      "headers.longest",
      `Longest slow-headers connection (limit ${String(HEADERS_TIMEOUT_MS)} ms)`,
      longest,
      "ms",
    );
    figures.add("headers.408", "Of them answered 408 before the close", answered408, "");
    figures.add(
      "headers.calls",
      "tools/list + /healthz rounds of another client meanwhile (all 200)",
      client.calls,
      "",
    );
    figures.add("headers.slowest", "Its slowest tools/list", client.slowest, "ms");
  } finally {
    stop();
    for (const c of conns) c.socket.destroy();
  }
});

it(`cuts ${String(SLOW)} slow bodies (authenticated, 1 byte every 300 ms) by the request timeout while others are served`, async () => {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
  const conns = await Promise.all(Array.from({ length: SLOW }, () => open(gw.port)));
  for (const c of conns) {
    c.socket.write(
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${slowToken}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: ${String(body.length)}\r\n\r\n{`,
    );
  }
  const stop = dribble(conns, " ", 300);
  try {
    const cut = allCut(conns, "slow bodies", REQUEST_TIMEOUT_MS + 10_000);
    const client = await ordinaryClient(cut);
    const { longest, shortest } = await cut;
    expect(client.failures).toEqual([]);
    // Cut by the request timeout, not earlier by something else (the headers came at once).
    expect(shortest).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    // None was answered as if its request had been complete.
    expect(conns.filter((c) => c.received.startsWith("HTTP/1.1 200"))).toEqual([]);
    figures.add(
      "body.longest",
      `Longest slow-body connection (limit ${String(REQUEST_TIMEOUT_MS)} ms)`,
      longest,
      "ms",
    );
    figures.add(
      "body.calls",
      "tools/list + /healthz rounds of another client meanwhile (all 200)",
      client.calls,
      "",
    );
    figures.add("body.slowest", "Its slowest tools/list", client.slowest, "ms");
  } finally {
    stop();
    for (const c of conns) c.socket.destroy();
  }
});

it("refuses a body announced far over the limit (1 GiB) with 413 before it is sent", async () => {
  const c = await open(gw.port);
  c.socket.write(
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${String(1024 ** 3)}\r\n\r\n`,
  );
  const answer = await waitFor("an answer to the 1 GiB request", () =>
    c.received.includes("\r\n\r\n") ? c.received : undefined,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 413/);
  expect(answer).toMatch(/too large/i);
  c.socket.destroy();
});

it("refuses a chunked body that grows past 4 MiB with 413", async () => {
  const c = await open(gw.port);
  c.socket.write(
    `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const piece = "x".repeat(256 * 1024);
  let sent = 0;
  while (!c.received.includes("\r\n\r\n") && c.closedAt === undefined && sent < 64 * 1024 * 1024) {
    const ok = c.socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
    sent += piece.length;
    if (!ok) {
      // Until the gateway reads more, answers or closes.
      await new Promise<void>((resolve) => {
        const done = () => {
          for (const e of ["drain", "data", "close"]) c.socket.off(e, done);
          resolve();
        };
        for (const e of ["drain", "data", "close"]) c.socket.once(e, done);
      });
    }
  }
  const answer = await waitFor("an answer to the endless chunked body", () =>
    c.received.includes("\r\n\r\n") ? c.received : undefined,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 413/);
  figures.add("chunked.sent", "Bytes of an endless chunked body sent before the 413", sent, "B");
  c.socket.destroy();
});
