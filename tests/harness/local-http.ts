// Small HTTP servers on 127.0.0.1 for unit tests (a homeserver's answers, a slow or dead peer),
// closed with their connections after each test.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach } from "vitest";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Registers the clean-up in the calling test file; returns `serve`, which answers with the handler and gives the base URL. */
export function localServers(): (handler: Handler) => Promise<string> {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  return async (handler) => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  };
}
