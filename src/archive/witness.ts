// The witnessed checkpoints: the history of a municipality's nl.loket.archive.checkpoint state in
// its archive_checkpoint_room, as the homeserver has it (read with the bot's rights through the
// appservice token). Only events the municipality's bot sent, with its id as state key, count.
import { CHECKPOINT_EVENT_TYPE } from "./checkpoints.ts";

export interface Witnessed {
  eventId: string;
  seq: number;
  hash: string;
}

export interface WitnessSource {
  homeserverUrl: string;
  asToken: string;
  roomId: string;
  bot: string;
  municipality: string;
  /** Per request, the body included (default 30 s). */
  timeoutMs?: number;
}

interface RawEvent { event_id?: unknown; type?: unknown; sender?: unknown; state_key?: unknown; content?: { seq?: unknown; hash?: unknown; municipality?: unknown } }

/** Every checkpoint posted to the room, oldest first; throws when the room cannot be read. */
export async function readWitnessed(src: WitnessSource): Promise<Witnessed[]> {
  const found: Witnessed[] = [];
  const filter = JSON.stringify({ types: [CHECKPOINT_EVENT_TYPE], senders: [src.bot] });
  let from: string | undefined;
  for (;;) {
    const url = new URL(`/_matrix/client/v3/rooms/${encodeURIComponent(src.roomId)}/messages`, src.homeserverUrl);
    url.searchParams.set("dir", "b");
    url.searchParams.set("limit", "500");
    url.searchParams.set("filter", filter);
    url.searchParams.set("user_id", src.bot);
    if (from !== undefined) url.searchParams.set("from", from);
    // One signal for the request and the body: a server that stalls mid-body is cut off too.
    const signal = AbortSignal.timeout(src.timeoutMs ?? 30_000);
    const res = await fetch(url, { headers: { authorization: `Bearer ${src.asToken}` }, signal });
    const body = await res.json() as { chunk?: RawEvent[]; end?: string; errcode?: string; error?: string };
    if (!res.ok) throw new Error(`the homeserver answered ${res.status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim());
    const chunk = body.chunk ?? [];
    for (const ev of chunk) {
      const c = ev.content;
      if (ev.type !== CHECKPOINT_EVENT_TYPE || ev.sender !== src.bot || ev.state_key !== src.municipality || typeof ev.event_id !== "string") continue;
      if (typeof c?.seq !== "number" || typeof c.hash !== "string") continue;
      found.push({ eventId: ev.event_id, seq: c.seq, hash: c.hash });
    }
    if (chunk.length === 0 || body.end === undefined || body.end === from) break;
    from = body.end;
  }
  return found.reverse();
}
