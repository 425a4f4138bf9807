// Loopback HTTP servers for unit tests that need a real peer (standing for Nextcloud, or for what a
// load generator drives): each listens on an ephemeral port of 127.0.0.1 and is closed, with its
// kept-alive connections, after the test that started it.
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";

/** A listener starter for this test file; what it starts is closed after each test. */
export function localServers(): (handler: RequestListener) => Promise<{ server: Server; origin: string }> {
  const open: Server[] = [];
  afterEach(async () => {
    for (const server of open.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  return async (handler) => {
    const server = createServer(handler);
    open.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, origin: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}` };
  };
}
