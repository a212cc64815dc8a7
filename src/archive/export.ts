// MDTO export: one folder per conversation (named by its reference, or its room id while
// conversations have none) with the conversation's MDTO XML, an HTML transcript, the raw events
// as JSON, the media files, and a .bestand.mdto.xml beside each file. Records are streamed in
// batches; only the conversation's media list and the members' names are held in memory.
import { createDecipheriv, createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Config } from "../config/schema.ts";
import type { Queryable } from "../db/database.ts";
import { blobPath } from "./blobs.ts";
import { bestandXml, formatOf, informatieobjectXml, type Id } from "./mdto.ts";
import { conversationRecords } from "./records.ts";
import { categoryOf, closingDate, dueDate, isoDate, termDuration, type ConversationRow } from "./retention.ts";
import { transcriptEntry, transcriptHead, transcriptTail } from "./transcript.ts";

/** A file name safe for an e-depot (no < > : " / \ | ? * # & or spaces). */
export const safeName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[_.]+/, "").slice(0, 200) || "gesprek";

class HashingFile {
  private readonly out: WriteStream;
  private readonly hash = createHash("sha256");
  size = 0;
  constructor(path: string) { this.out = createWriteStream(path); }
  async write(text: string): Promise<void> {
    const buf = Buffer.from(text);
    this.hash.update(buf);
    this.size += buf.length;
    if (!this.out.write(buf)) await once(this.out, "drain");
  }
  async end(): Promise<string> {
    this.out.end();
    await once(this.out, "finish");
    return this.hash.digest("hex");
  }
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "application/pdf": "pdf", "text/plain": "txt", "video/mp4": "mp4", "audio/ogg": "ogg" };

interface MediaRow { event_id: string; sha256: string; mime: string | null; encrypted: boolean; content: { content?: { file?: { key?: { k?: string }; iv?: string } } } }

/** Copies (and, for encrypted attachments, decrypts: AES-256-CTR, as Matrix specifies) the conversation's media. */
async function exportMedia(db: Queryable, blobDir: string, conversation: string, dir: string): Promise<Map<string, { name: string; mime: string }>> {
  const rows = await db.query<MediaRow>(
    `SELECT m.event_id, m.sha256, m.mime, m.encrypted, r.content FROM archive_media m JOIN archive_records r ON r.event_id = m.event_id AND r.event_type <> 'm.room.encrypted'
     WHERE r.conversation = $1 AND m.status = 'stored' ORDER BY r.seq`, [conversation]);
  const files = new Map<string, { name: string; mime: string }>();
  for (const m of rows) {
    const mime = m.mime ?? "application/octet-stream";
    const name = `media-${m.sha256.slice(0, 16)}.${EXT[mime] ?? "bin"}`;
    const file = m.content.content?.file;
    if (m.encrypted && file?.key?.k !== undefined && file.iv !== undefined) {
      const decipher = createDecipheriv("aes-256-ctr", Buffer.from(file.key.k, "base64url"), Buffer.from(file.iv, "base64"));
      await pipeline(createReadStream(blobPath(blobDir, m.sha256)), decipher, createWriteStream(join(dir, name)));
    } else {
      await pipeline(createReadStream(blobPath(blobDir, m.sha256)), createWriteStream(join(dir, name)));
    }
    files.set(m.event_id, { name, mime });
  }
  return files;
}

export async function exportConversation(db: Queryable, config: Config, conv: ConversationRow, outDir: string, now = new Date()): Promise<string> {
  const m = config.municipalities.find((x) => x.id === conv.municipality);
  const key = conv.reference ?? conv.conversation;
  const name = safeName(key);
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const ioId: Id = { kenmerk: key, bron: `${m?.name ?? conv.municipality} Loket` };
  const ioName = `Chatgesprek ${key} ${isoDate(conv.opened_at)}`;
  const media = await exportMedia(db, config.archive.blob_dir, conv.conversation, dir);

  const json = new HashingFile(join(dir, `${name}.json`));
  const html = new HashingFile(join(dir, `${name}.html`));
  await json.write("[\n");
  await html.write(transcriptHead(ioName));
  const names = new Map<string, string>();
  const fileNames = new Map([...media].map(([id, f]) => [id, f.name]));
  let first = true;
  for await (const r of conversationRecords(db, conv.conversation)) {
    const record = {
      seq: Number(r.seq), event_id: r.event_id, event_type: r.event_type, sender: r.sender, state_key: r.state_key,
      origin_server_ts: Number(r.origin_server_ts), received_at: new Date(r.received_at).toISOString(),
      event: r.content, ciphertext: r.ciphertext, hash: r.hash, destroyed: r.destroyed_at !== null,
    };
    await json.write(`${first ? "" : ",\n"}${JSON.stringify(record)}`);
    first = false;
    await html.write(transcriptEntry(record, names, fileNames));
  }
  await json.write("\n]\n");
  await html.write(transcriptTail);
  const files = [
    { name: `${name}.json`, sha256: await json.end(), size: json.size, mime: "application/json" },
    { name: `${name}.html`, sha256: await html.end(), size: html.size, mime: "text/html" },
  ];
  for (const f of media.values()) {
    const path = join(dir, f.name);
    files.push({ name: f.name, sha256: await fileSha256(path), size: statSync(path).size, mime: f.mime });
  }
  const stamp = now.toISOString();
  for (const f of files) {
    writeFileSync(join(dir, `${f.name}.bestand.mdto.xml`), bestandXml({
      id: { kenmerk: `${key}/${f.name}`, bron: ioId.bron }, naam: f.name, omvang: f.size, formaat: formatOf(f.mime),
      sha256: f.sha256, checksumDatum: stamp, representatieVan: { naam: ioName, id: ioId },
    }));
  }
  const category = categoryOf(config, conv);
  const closed = closingDate(conv);
  const due = dueDate(category, closed);
  writeFileSync(join(dir, `${name}.mdto.xml`), informatieobjectXml({
    id: ioId, naam: ioName, omschrijving: `Chatgesprek tussen ${m?.name ?? conv.municipality} en een inwoner via Matrix (kamer ${conv.room_id}).`,
    begin: isoDate(conv.opened_at), end: isoDate(conv.last_at),
    events: [{ type: "Creatie", time: new Date(conv.opened_at).toISOString() }, ...(conv.closed_at ? [{ type: "Bevriezing", time: closed.toISOString() }] : []), { type: "Export", time: stamp, actor: "Loket" }],
    waardering: category.valuation,
    bewaartermijn: due && { start: isoDate(closed), looptijd: termDuration(category.retention_years), end: isoDate(due) },
    categorie: { label: category.name, code: category.selectielijst, lijst: "Selectielijst gemeenten en intergemeentelijke organen 2020" },
    representaties: files.map((f) => ({ naam: f.name, id: { kenmerk: `${key}/${f.name}`, bron: ioId.bron } })),
    archiefvormer: { naam: m?.name ?? conv.municipality },
    betrokkene: conv.citizen === null ? undefined : { naam: conv.citizen, id: { kenmerk: conv.citizen, bron: "Matrix" } },
    activiteit: "Klantcontact afhandelen",
  }));
  return dir;
}

const CONV_COLUMNS = "conversation, municipality, room_id, reference, citizen, category, department, opened_at, last_at, closed_at";

/** The conversations to export: one by its reference (or room id), or a municipality's in a period, in batches. */
export async function* selectConversations(db: Queryable, sel: { conversation?: string; municipality?: string; from?: Date; to?: Date }): AsyncGenerator<ConversationRow> {
  if (sel.conversation !== undefined) {
    yield* await db.query<ConversationRow>(`SELECT ${CONV_COLUMNS} FROM archive_conversations WHERE conversation = $1 OR reference = $1 OR room_id = $1`, [sel.conversation]);
    return;
  }
  let after = "";
  for (;;) {
    const rows = await db.query<ConversationRow>(
      `SELECT ${CONV_COLUMNS} FROM archive_conversations WHERE municipality = $1 AND last_at >= $2 AND opened_at < $3 AND conversation > $4
       ORDER BY conversation LIMIT 200`, [sel.municipality, sel.from, sel.to, after]);
    yield* rows;
    if (rows.length < 200) return;
    after = rows[rows.length - 1]?.conversation ?? after;
  }
}
