// The human-readable transcript (pure): accessible HTML (lang, headings, a list of messages with
// <time> elements), names from the room's membership events, edits, reactions and redactions
// shown as their own entries linked to the message they change. The archived HTML body is shown
// as escaped source, never rendered, so nothing in a message can run in the reader's browser.
import { esc } from "./mdto.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export interface TranscriptRecord {
  event_id: string;
  event_type: string;
  sender: string;
  origin_server_ts: number;
  state_key: string | null;
  event: unknown;
  destroyed: boolean;
}

export function transcriptHead(title: string): string {
  return `<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:auto;padding:1rem;line-height:1.5;color:#111}li{margin:.75rem 0}.meta{color:#444}.change{font-style:italic}</style></head>
<body><main><h1>${esc(title)}</h1>
<ol class="transcript">
`;
}

export const transcriptTail = "</ol>\n</main></body></html>\n";

function link(eventId: string, label: string): string {
  return `<a href="#${encodeURIComponent(eventId)}">${esc(label)}</a>`;
}

/** One list item; `names` is updated from membership events; `files` maps event ids to exported files. */
export function transcriptEntry(r: TranscriptRecord, names: Map<string, string>, files: ReadonlyMap<string, string>): string {
  const when = new Date(r.origin_server_ts).toISOString();
  const ev = isObject(r.event) ? r.event : {};
  const c = isObject(ev.content) ? ev.content : {};
  if (r.event_type === "m.room.member" && r.state_key !== null && str(c.displayname) !== "") names.set(r.state_key, str(c.displayname));
  const who = names.get(r.sender) ?? r.sender;
  const head = `<p class="meta"><strong>${esc(who)}</strong> <span>(${esc(r.sender)})</span>, <time datetime="${when}">${esc(when.replace("T", " ").slice(0, 19))} UTC</time></p>`;
  const body = r.destroyed ? "<p class=\"change\">Inhoud vernietigd na afloop van de bewaartermijn.</p>" : render(r, c, files);
  return `<li id="${esc(encodeURIComponent(r.event_id))}">${head}${body}</li>\n`;
}

function render(r: TranscriptRecord, c: Record<string, unknown>, files: ReadonlyMap<string, string>): string {
  const rel = isObject(c["m.relates_to"]) ? c["m.relates_to"] : {};
  const target = str(rel.event_id);
  switch (r.event_type) {
    case "m.room.message": {
      const name = files.get(r.event_id);
      const file = name === undefined ? "" : `<p>Bestand: <a href="${esc(encodeURIComponent(name))}">${esc(name)}</a></p>`;
      if (rel.rel_type === "m.replace") {
        const nc = isObject(c["m.new_content"]) ? c["m.new_content"] : c;
        return `<p class="change">Bewerkte ${link(target, "een bericht")}; nieuwe tekst:</p><p>${esc(str(nc.body))}</p>`;
      }
      const html = str(c.format) === "org.matrix.custom.html" && str(c.formatted_body) !== ""
        ? `<details><summary>Opgemaakte tekst (HTML-bron)</summary><pre>${esc(str(c.formatted_body))}</pre></details>` : "";
      const kind = str(c.msgtype) === "m.notice" ? " <span class=\"meta\">(automatisch bericht)</span>" : "";
      return `<p>${esc(str(c.body))}${kind}</p>${html}${file}`;
    }
    case "m.reaction":
      return `<p class="change">Reageerde met ${esc(str(rel.key))} op ${link(target, "een bericht")}.</p>`;
    case "m.room.redaction": {
      const redacts = str((r.event as Record<string, unknown>).redacts) || str(c.redacts);
      const reason = str(c.reason);
      return `<p class="change">Verwijderde ${link(redacts, "een bericht")} voor de deelnemers${reason === "" ? "" : ` (reden: ${esc(reason)})`}; het origineel blijft in het archief.</p>`;
    }
    case "m.room.member":
      return `<p class="change">Lidmaatschap van ${esc(r.state_key ?? "")}: ${esc(str(c.membership))}.</p>`;
    default:
      return `<p class="change">${r.state_key === null ? "Gebeurtenis" : "Kamerinstelling"} ${esc(r.event_type)}: <code>${esc(JSON.stringify(c))}</code></p>`;
  }
}
