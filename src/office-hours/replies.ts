// What the citizen is told when they write (pure): outside hours, when the desk opens again and
// by when they get an answer; inside hours, their place in the queue and the same promise.
// Plain text and HTML (for m.notice with formatted_body), in the conversation's language.
import { t, type Language } from "../i18n/index.ts";
import { escapeHtml } from "../matrix/html.ts";
import { dateInWords } from "./words.ts";

export interface PromiseFacts {
  open: boolean;
  /** When the desk opens again (null while open). */
  nextOpening: Date | null;
  due: Date;
  reference: string;
  /** Place in the queue, 1-based (inside hours); 0 when it is in no queue (a municipality without departments). */
  position: number;
  timezone: string;
  /** Inside hours: who was assigned at once (the receipt names them instead of the place). */
  staff?: string;
  /** A sentence before the promise (for example that the conversation opened again). */
  lead?: string;
}

export interface NoticeText {
  body: string;
  html: string;
}


export function promiseText(f: PromiseFacts, lang: Language): NoticeText {
  const vars = {
    opens: f.nextOpening ? dateInWords(f.nextOpening, f.timezone, lang) : "",
    due: dateInWords(f.due, f.timezone, lang),
    reference: f.reference,
    position: String(f.position),
    staff: f.staff ?? "",
  };
  const closed = !f.open && f.nextOpening !== null;
  const key = closed ? "closed_reply" : f.staff !== undefined ? "assigned_receipt" : f.position > 0 ? "open_receipt" : "open_receipt_plain";
  const body = t(lang, key, vars);
  const strong = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, `<strong>${escapeHtml(v)}</strong>`]));
  // The template is escaped and its {placeholders} filled with escaped, emphasised values.
  const html = escapeHtml(t(lang, key, Object.fromEntries(Object.keys(vars).map((k) => [k, `{${k}}`]))))
    .replace(/\{(\w+)\}/g, (whole, k: string) => strong[k] ?? whole);
  if (f.lead === undefined) return { body, html };
  return { body: `${f.lead} ${body}`, html: `${escapeHtml(f.lead)} ${html}` };
}
