// The open sockets of a process, by peer and direction, from /proc (Linux): which of them are the
// connections clients opened to it, which it opened itself to Nextcloud, Keycloak or PostgreSQL, and
// which are listening; and the other figures the load scenario samples. The load scenario needs the split: a bare count mixes the clients' keep-alive
// connections (the clients' choice) with the gateway's own outbound pools (the gateway's).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** TCP states of /proc/net/tcp (include/net/tcp_states.h). */
const STATES: Record<string, string> = {
  "01": "established",
  "02": "syn-sent",
  "03": "syn-recv",
  "04": "fin-wait1",
  "05": "fin-wait2",
  "06": "time-wait",
  "07": "close",
  "08": "close-wait",
  "09": "last-ack",
  "0A": "listen",
  "0B": "closing",
};

/**
 * Open socket file descriptors of one process, by peer: `listening`, `inbound` (accepted on the
 * process's own port), one entry per named server it calls, `other` TCP, and `non-tcp` (Unix sockets).
 */
export interface SocketCounts {
  readonly total: number;
  readonly byPeer: Record<string, number>;
  /** `<peer>:<state>` → count, for the TCP sockets, e.g. `nextcloud:close-wait`. */
  readonly states: Record<string, number>;
}

/** The ports that tell the peers apart: the process's own listening port and the servers it calls. */
export interface PeerPorts {
  /** Connections whose local port is this one are clients' (`inbound`). */
  readonly listen: number;
  /** Name → the port of a server the process calls, e.g. `{ nextcloud: 8081, keycloak: 8080 }`. */
  readonly remotes: Readonly<Record<string, number>>;
}

interface TcpEntry {
  localPort: number;
  remotePort: number;
  state: string;
}

/** Every TCP socket of the process's network namespace, by inode. */
function tcpTable(pid: number): Map<string, TcpEntry> {
  const table = new Map<string, TcpEntry>();
  for (const file of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${String(pid)}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, remote, st, inode] = [cols[1], cols[2], cols[3], cols[9]];
      if (local === undefined || remote === undefined || st === undefined || inode === undefined) continue;
      table.set(inode, {
        localPort: parseInt(local.split(":")[1] ?? "0", 16),
        remotePort: parseInt(remote.split(":")[1] ?? "0", 16),
        state: STATES[st] ?? st,
      });
    }
  }
  return table;
}

/** Counts the open sockets of `pid` by peer (see {@link PeerPorts}) and TCP state. */
export function socketsOf(pid: number, ports: PeerPorts): SocketCounts {
  const byPeer: Record<string, number> = { listening: 0, inbound: 0, other: 0, "non-tcp": 0 };
  for (const name of Object.keys(ports.remotes)) byPeer[name] = 0;
  const byRemotePort = new Map(Object.entries(ports.remotes).map(([name, port]) => [port, name]));
  const states: Record<string, number> = {};
  const table = tcpTable(pid);
  let total = 0;
  for (const fd of readdirSync(`/proc/${String(pid)}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${String(pid)}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode === undefined) continue;
    total++;
    const tcp = table.get(inode);
    if (tcp === undefined) {
      byPeer["non-tcp"] = (byPeer["non-tcp"] ?? 0) + 1;
      continue;
    }
    const peer =
      tcp.state === "listen"
        ? "listening"
        : tcp.localPort === ports.listen
          ? "inbound"
          : (byRemotePort.get(tcp.remotePort) ?? "other");
    byPeer[peer] = (byPeer[peer] ?? 0) + 1;
    const key = `${peer}:${tcp.state}`;
    states[key] = (states[key] ?? 0) + 1;
  }
  return { total, byPeer, states };
}

/** One sample of the load scenario, every 5 s. */
export interface Sample {
  /** Milliseconds since the run started. */
  readonly at: number;
  readonly rssMb: number;
  readonly sockets: SocketCounts;
  /** The clients' open connections to the gateway (their agent's keep-alive pool). */
  readonly clientConnections: number;
  /** Requests the clients have sent and not yet had answered. */
  readonly inFlight: number;
  readonly dbConnections: number;
  readonly exchangesInFlight: number;
  readonly exchangesWaiting: number;
  readonly poolWaiting: number;
}

/** The resident set of `pid` in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0") / 1024;
}

/** Means of `f` over the first and the second half of `samples`. */
export function halves<T>(samples: readonly T[], f: (s: T) => number): { early: number; late: number } {
  const half = Math.floor(samples.length / 2);
  const mean = (xs: readonly T[]) => xs.reduce((a, s) => a + f(s), 0) / Math.max(1, xs.length);
  return { early: mean(samples.slice(0, half)), late: mean(samples.slice(half)) };
}

/** The `p`th percentile of sorted values. */
export const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** The value of an unlabelled series in Prometheus text; 0 when absent. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, "m").exec(text);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}
