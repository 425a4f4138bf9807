// A TCP proxy on 127.0.0.1 for the reliability scenarios: it passes bytes to a loopback target until
// told to cut it off, the way a stopped server or a network partition looks to the client:
// - "refuse": the listener closes and every open connection is reset; new connections are refused
//   (a stopped process; the port stays reserved by nobody, so `restore()` listens on it again);
// - "blackhole": connections are accepted and never answered, open ones go silent (a partition;
//   only the client's own timeouts end the wait).
// It counts the connections it accepted, so a scenario can see that a client did try.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export type TcpCut = "refuse" | "blackhole";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Cuts the target off; open connections end (reset, or go silent for "blackhole"). */
  cut(how: TcpCut): Promise<void>;
  /** Passes traffic again, on the same port. */
  restore(): Promise<void>;
  /** Connections accepted since the start. */
  accepted(): number;
  stop(): Promise<void>;
}

function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => {
      resolve();
    });
  });
}

/** Starts a proxy to `target` (`http://host:port`, loopback). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const to = new URL(target);
  const toPort = Number(to.port);
  let mode: "pass" | TcpCut = "pass";
  let accepted = 0;
  const open = new Set<Socket>();

  const onConnection = (client: Socket) => {
    accepted++;
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => undefined);
    if (mode === "blackhole") {
      client.pause();
      return;
    }
    const upstream = createConnection({ host: to.hostname, port: toPort });
    open.add(upstream);
    upstream.once("close", () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => {
      client.resetAndDestroy();
    });
    client.once("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  let server = createServer(onConnection);
  await listenOn(server, 0);
  const { port } = server.address() as AddressInfo;

  const dropAll = (how: TcpCut) => {
    for (const s of open) {
      if (how === "refuse") s.resetAndDestroy();
      else {
        // Silent: nothing more flows either way, nothing is closed.
        s.unpipe();
        s.pause();
      }
    }
    if (how === "refuse") open.clear();
  };

  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    async cut(how) {
      mode = how;
      const closed = how === "refuse" ? closeServer(server) : Promise.resolve();
      dropAll(how);
      await closed;
    },
    async restore() {
      // Silent connections of a blackhole stay broken, as they would after a partition heals.
      for (const s of open) s.destroy();
      open.clear();
      mode = "pass";
      if (!server.listening) {
        server = createServer(onConnection);
        await listenOn(server, port);
      }
    },
    accepted: () => accepted,
    async stop() {
      for (const s of open) s.destroy();
      open.clear();
      await closeServer(server);
    },
  };
}
