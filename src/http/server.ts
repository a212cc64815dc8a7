// The HTTP listener, with a shutdown that lets requests in flight finish: no new connections,
// keep-alive ended on every response still being written, then the sockets are closed.
import { createServer, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listener {
  port: number;
  /**
   * Stops taking connections and resolves once every request in flight has been answered, or
   * after graceMs, when the connections still open are cut.
   */
  close(graceMs?: number): Promise<void>;
}

export async function listen(handler: RequestListener, port: number, host: string): Promise<Listener> {
  const server = createServer(handler);
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;
  server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (closing) res.shouldKeepAlive = false;
    res.on("close", () => {
      inFlight.delete(res);
      if (inFlight.size === 0) drained?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close(graceMs = 10_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
      for (const res of inFlight) res.shouldKeepAlive = false;
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
