// A TCP proxy on loopback that a test can cut and restore: the database becomes unreachable
// for Loket exactly as a network failure or a stopped server would make it. A trap holds back
// the first client chunk that contains a given text (a SQL statement), so that a test can cut
// the connection, or kill the client, at exactly that point of a conversation with the server.
import { createServer, connect, type Server, type Socket } from "node:net";
import { createTestDatabase, DEFAULT_SERVER_URL, postgresServerUrl, type TestDatabase } from "./postgres.ts";

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  /**
   * Resolves when a client has sent `text` for the `nth` time (counted from now). That chunk is
   * held back, and its connection frozen (nothing more is forwarded either way) until cut().
   */
  trap(text: string, nth?: number): Promise<void>;
  close(): Promise<void>;
}

interface Trap { text: string; left: number; fire(): void }

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let armed: Trap | undefined;

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on("close", () => sockets.delete(sock));
        sock.on("error", () => { client.destroy(); upstream.destroy(); });
      }
      let frozen = false;
      client.on("data", (chunk: Buffer) => {
        if (frozen) return;
        const t = armed;
        if (t && chunk.includes(t.text) && --t.left === 0) {
          armed = undefined;
          frozen = true;
          client.pause();
          upstream.pause();
          t.fire();
          return;
        }
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => { if (!frozen) client.write(chunk); });
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", resolve);
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => { resolve(); }));
  };

  await listen();
  return {
    port,
    cut: stop,
    restore: listen,
    trap: (text, nth = 1) => new Promise<void>((resolve) => { armed = { text, left: nth, fire: resolve }; }),
    close: stop,
  };
}

/** A fresh PostgreSQL database behind a proxy the test can cut; `url` goes through the proxy. */
export async function proxiedTestDatabase(): Promise<{ db: TestDatabase; proxy: TcpProxy; url: string }> {
  const db = await createTestDatabase(postgresServerUrl() ?? DEFAULT_SERVER_URL);
  const proxy = await startTcpProxy(db.host, db.port);
  const url = new URL(db.url);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return { db, proxy, url: url.toString() };
}
