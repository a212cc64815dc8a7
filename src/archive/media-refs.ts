// Which media an event refers to (pure): the mxc url of m.image/m.file/m.video/m.audio and
// stickers, plain (`url`) or encrypted (`file.url`), also in an edit's m.new_content.
export interface MediaRef {
  url: string;
  encrypted: boolean;
  mime?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const MEDIA_MSGTYPES = new Set(["m.image", "m.file", "m.video", "m.audio"]);

function refsOf(content: Record<string, unknown>, type: string): MediaRef[] {
  if (type !== "m.sticker" && !(typeof content.msgtype === "string" && MEDIA_MSGTYPES.has(content.msgtype))) return [];
  const mime = isObject(content.info) && typeof content.info.mimetype === "string" ? content.info.mimetype : undefined;
  const out: MediaRef[] = [];
  if (typeof content.url === "string" && content.url.startsWith("mxc://")) out.push({ url: content.url, encrypted: false, mime });
  if (isObject(content.file) && typeof content.file.url === "string" && content.file.url.startsWith("mxc://")) {
    out.push({ url: content.file.url, encrypted: true, mime });
  }
  return out;
}

export function mediaRefs(event: { type: string; content?: unknown }): MediaRef[] {
  const content = isObject(event.content) ? event.content : {};
  const refs = refsOf(content, event.type);
  if (isObject(content["m.new_content"])) refs.push(...refsOf(content["m.new_content"], event.type));
  const seen = new Set<string>();
  return refs.filter((r) => !seen.has(r.url) && seen.add(r.url));
}

/** Server name and media id of an mxc url, or undefined when malformed. */
export function parseMxc(url: string): { server: string; mediaId: string } | undefined {
  const m = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(url);
  return m ? { server: m[1] ?? "", mediaId: m[2] ?? "" } : undefined;
}
