// Requests a node:http server in this process received and the time it spent on them, server side:
// from a request's arrival to its response's last byte (node's diagnostics channels, so the server's
// code needs no change). Only servers `counts` accepts: a process may run several.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server } from "node:http";
import { performance } from "node:perf_hooks";

export interface RequestTimer {
  /** Requests answered so far (their response finished). */
  readonly requests: number;
  /** Sum of their server-side durations, ms. */
  readonly serverMs: number;
  /** Stops counting. */
  stop(): void;
}

export function timeRequests(counts: (server: Server) => boolean): RequestTimer {
  const started = new WeakMap<IncomingMessage, number>();
  let requests = 0;
  let serverMs = 0;
  const onStart = (m: unknown) => {
    const { request, server } = m as { request: IncomingMessage; server: Server };
    if (counts(server)) started.set(request, performance.now());
  };
  const onFinish = (m: unknown) => {
    const { request } = m as { request: IncomingMessage };
    const at = started.get(request);
    if (at === undefined) return;
    started.delete(request);
    requests += 1;
    serverMs += performance.now() - at;
  };
  subscribe("http.server.request.start", onStart);
  subscribe("http.server.response.finish", onFinish);
  return {
    get requests() {
      return requests;
    },
    get serverMs() {
      return serverMs;
    },
    stop() {
      unsubscribe("http.server.request.start", onStart);
      unsubscribe("http.server.response.finish", onFinish);
    },
  };
}
