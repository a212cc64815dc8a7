// A document system stand-in for the archive hooks: records every delivery whose signature is
// right, and can be "down" (answering 503) for a while.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";

export interface Delivery { eventId: string; conversation: string; seq: number; body: Record<string, unknown> }

export interface HookReceiver {
  url: string;
  deliveries: Delivery[];
  badSignatures: number;
  refused: number;
  /** The event id of every delivery accepted, duplicates included. */
  accepted: string[];
  down: boolean;
  close(): Promise<void>;
}

export async function startHookReceiver(secret: string): Promise<HookReceiver> {
  const r: HookReceiver = { url: "", deliveries: [], badSignatures: 0, refused: 0, accepted: [], down: true, close: () => Promise.resolve() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (r.down) { r.refused++; res.writeHead(503).end(); return; }
      const raw = Buffer.concat(chunks);
      const expected = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
      if (req.headers["x-loket-signature"] !== expected) { r.badSignatures++; res.writeHead(401).end(); return; }
      const body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
      r.accepted.push(String(body.event_id));
      // Deduplicate by hash, as the README tells receivers to.
      if (!r.deliveries.some((d) => d.body.hash === body.hash)) {
        r.deliveries.push({ eventId: String(body.event_id), conversation: String(body.conversation), seq: Number(body.seq), body });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/archive`;
  r.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); });
  return r;
}
