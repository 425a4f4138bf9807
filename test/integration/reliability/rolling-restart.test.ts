// Reliability scenario "rolling-restart": two gateway replicas (own processes, one database) behind
// a round-robin proxy (test/harness/round-robin-proxy.ts); clients keep calling tools/list, a slow
// read (Nextcloud answers notes after 1 s, so calls are in flight) and now and then a write, while
// each replica in turn gets SIGTERM and is started again on its port. Promises: no client sees a
// failed request; the replica drains what it had in flight and exits 0 within SHUTDOWN_TIMEOUT_MS;
// every write that was answered as done was applied exactly once (counted at Nextcloud).
//
// What the proxy does (and a real one does too): a refused connection is sent to the other replica
// (the request never reached the stopped one); nothing else is retried.
import { Agent, request as httpRequest } from "node:http";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../../harness/fault-proxy.ts";
import { startRoundRobinProxy, type RoundRobinProxy } from "../../harness/round-robin-proxy.ts";
import { createScenarioRealm, type ScenarioRealm } from "../../harness/scenario-realm.ts";
import { freePort, waitFor } from "../../harness/wait.ts";
import { startNextcloudStandin } from "../../standin/index.ts";
import { Figures } from "./figures.ts";
import { realmReplicaEnv, startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { describeAnswer, toolCall, toolOk, toolsList, type McpAnswer } from "./mcp-client.ts";

const GRACE_MS = 10_000;
const SLOW_READ_MS = 1000;
const CLIENTS = 4;
const NOTES = /\/apps\/notes\/api\/v1\/notes(\?|$|\/)/;

const figures = new Figures("rolling-restart");
const stops: (() => Promise<unknown>)[] = [];
let realm: ScenarioRealm;
let lb: RoundRobinProxy;
let ncProxy: FaultProxy;
let env: Record<string, string>;
const ports: number[] = [];
const replicas: GatewayProcess[] = [];
const tokens: string[] = [];

beforeAll(async () => {
  const kc = inject("keycloak");
  ports.push(await freePort(), await freePort());
  lb = await startRoundRobinProxy(ports.map((p) => `http://127.0.0.1:${String(p)}`));
  stops.push(() => lb.stop());
  const publicUrl = `http://localhost:${String(lb.port)}`;
  realm = await createScenarioRealm({
    keycloak: kc,
    name: "rel-rolling-restart",
    gatewayUrl: publicUrl,
    nextcloudUrl: "http://localhost:9",
  });
  stops.push(() => realm.delete());
  const users = await realm.addUsers("rolling", CLIENTS);
  const standin = await startNextcloudStandin({ issuer: realm.issuer, audience: "nextcloud" });
  stops.push(() => standin.stop());
  ncProxy = await startFaultProxy(standin.url);
  stops.push(() => ncProxy.stop());
  ncProxy.setRules([{ method: "GET", path: NOTES, fault: { kind: "delay", ms: SLOW_READ_MS } }]);
  env = await realmReplicaEnv(
    { realm, publicUrl, nextcloudUrl: ncProxy.url, stops },
    {
      SHUTDOWN_TIMEOUT_MS: String(GRACE_MS),
      // Behind a proxy every request comes from one address; the per-IP limit is for anonymous requests.
      TRUSTED_PROXIES: "127.0.0.1",
    },
  );
  // The first starts alone (it migrates the database), then the second.
  for (const port of ports) replicas.push(await startGatewayProcess(env, { port }));
  stops.push(async () => {
    for (const r of replicas) await r.stop();
  });
  for (const u of users) tokens.push(await realm.token(u));
});

afterAll(async () => {
  figures.flush();
  for (const stop of stops.reverse()) await stop();
});

interface Traffic {
  calls: number;
  failures: string[];
  writesDone: number;
}

/** CLIENTS clients, each calling in a loop until `stop()`: tools/list, a slow read, every 5th round a write. */
function keepCalling(): { traffic: Traffic; stop: () => Promise<void> } {
  const traffic: Traffic = { calls: 0, failures: [], writesDone: 0 };
  let running = true;
  const note = (a: McpAnswer, ok: boolean) => {
    traffic.calls++;
    if (!ok) traffic.failures.push(describeAnswer(a));
  };
  const client = async (token: string, n: number) => {
    for (let round = 0; running; round++) {
      const list = await toolsList(lb.url, token);
      note(list, list.status === 200 && list.result !== undefined);
      const read = await toolCall(lb.url, token, "notes_list");
      note(read, toolOk(read));
      if (round % 5 === 4) {
        const write = await toolCall(lb.url, token, "notes_create", {
          title: `rolling ${String(n)}-${String(round)}`,
          content: "written once",
        });
        note(write, toolOk(write));
        if (toolOk(write)) traffic.writesDone++;
      }
    }
  };
  const all = Promise.all(tokens.map((t, i) => client(t, i)));
  return {
    traffic,
    async stop() {
      running = false;
      await all;
    },
  };
}

/** SIGTERM to replica `i` while it has requests in flight; waits for its exit, starts it again. */
async function restart(i: number) {
  const target = `http://127.0.0.1:${String(ports[i])}`;
  await waitFor(`requests in flight at replica ${String(i)}`, () =>
    (lb.inFlight()[target] ?? 0) > 0 ? true : undefined,
  );
  const inFlight = lb.inFlight()[target] ?? 0;
  const replica = replicas[i];
  if (!replica) throw new Error("no replica");
  const started = performance.now();
  const code = await replica.stop("SIGTERM");
  const drainMs = performance.now() - started;
  expect(code, replica.child.stderr()).toBe(0);
  expect(drainMs).toBeLessThan(GRACE_MS);
  const port = ports[i];
  if (port === undefined) throw new Error("no port");
  replicas[i] = await startGatewayProcess(env, { port });
  return { inFlight, drainMs, downMs: performance.now() - started };
}

it(
  "serves every request while each of two replicas is restarted with SIGTERM",
  { timeout: 120_000 },
  async () => {
    const before = ncProxy.log().filter((r) => r.method === "POST" && NOTES.test(r.path)).length;
    const { traffic, stop } = keepCalling();
    let results;
    try {
      await waitFor("traffic on both replicas", () =>
        Object.values(lb.answered()).every((n) => n > 2) ? true : undefined,
      );
      const first = await restart(0);
      const second = await restart(1);
      // Both replicas serve again.
      const answered = lb.answered();
      await waitFor("the restarted replicas to answer again", () =>
        Object.entries(lb.answered()).every(([k, n]) => n > (answered[k] ?? 0) + 2) ? true : undefined,
      );
      results = { first, second };
    } finally {
      await stop();
    }
    expect(traffic.failures).toEqual([]);
    expect(lb.failed()).toBe(0);
    const writesApplied =
      ncProxy.log().filter((r) => r.method === "POST" && NOTES.test(r.path)).length - before;
    expect(writesApplied).toBe(traffic.writesDone);
    figures.add(
      "calls",
      `Calls by ${String(CLIENTS)} clients across two restarts (none failed)`,
      traffic.calls,
      "",
    );
    figures.add("writes", "Writes answered done = writes applied at Nextcloud", traffic.writesDone, "");
    figures.add(
      "inflight",
      "Requests in flight at the replicas when they got SIGTERM",
      results.first.inFlight + results.second.inFlight,
      "",
    );
    figures.add(
      "drain.ms",
      `Longest SIGTERM to exit 0 (grace ${String(GRACE_MS)} ms)`,
      Math.max(results.first.drainMs, results.second.drainMs),
      "ms",
    );
    figures.add(
      "down.ms",
      "Longest SIGTERM to ready again",
      Math.max(results.first.downMs, results.second.downMs),
      "ms",
    );
    figures.add("retried", "Refused connections sent to the other replica", lb.retried(), "");
  },
);

it("answers a request in flight at SIGTERM with Connection: close and exits without waiting for keep-alive", async () => {
  const replica = replicas[0];
  const token = tokens[0];
  if (!replica || !token) throw new Error("no replica");
  const agent = new Agent({ keepAlive: true });
  const before = ncProxy.log().length;
  const answer = new Promise<{ status: number; connection: string | undefined; body: string; at: number }>(
    (resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: replica.port,
          path: "/mcp",
          method: "POST",
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
          },
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (d: string) => (body += d));
          res.once("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              body,
              at: performance.now(),
            });
          });
        },
      );
      req.once("error", reject);
      req.end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "notes_list", arguments: {} },
        }),
      );
    },
  );
  // In flight: the replica has asked Nextcloud (which answers after 1 s).
  await waitFor("the call to reach Nextcloud", () =>
    ncProxy
      .log()
      .slice(before)
      .some((r) => r.method === "GET" && NOTES.test(r.path))
      ? true
      : undefined,
  );
  const exited = replica.stop("SIGTERM").then((code) => ({ code, at: performance.now() }));
  const a = await answer;
  const e = await exited;
  agent.destroy();
  expect(a.status).toBe(200);
  expect(a.body).toContain('"result"');
  expect(a.connection).toBe("close");
  expect(e.code).toBe(0);
  figures.add(
    "exit-after-answer.ms",
    "Exit after the last in-flight answer (keep-alive timeout 5 s)",
    e.at - a.at,
    "ms",
  );
  const port = ports[0];
  if (port === undefined) throw new Error("no port");
  replicas[0] = await startGatewayProcess(env, { port });
});
