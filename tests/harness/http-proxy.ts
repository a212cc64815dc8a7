// An HTTP proxy on loopback between Loket and Synapse that a test can make answer with an error
// for chosen requests (one room's calls, say), passing everything else through unchanged.
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export interface HttpProxy {
  url: string;
  /** Requests for which `match` is true get `status` with a Matrix error body; the rest pass. */
  failWhen(match: ((req: IncomingMessage) => boolean) | undefined, status?: number): void;
  /** How many requests were failed on purpose so far. */
  readonly failed: number;
  close(): Promise<void>;
}

export async function startHttpProxy(targetPort: number): Promise<HttpProxy> {
  let match: ((req: IncomingMessage) => boolean) | undefined;
  let status = 500;
  let failed = 0;
  const server: Server = createServer((req, res) => {
    if (match?.(req)) {
      failed++;
      req.resume();
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errcode: "M_UNKNOWN", error: "injected failure" }));
      return;
    }
    const upstream = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => { res.destroy(); });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    failWhen(m, s = 500) {
      match = m;
      status = s;
    },
    get failed() {
      return failed;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => { resolve(); });
    }),
  };
}
