// Dates in words and local time for citizen-facing text: "dinsdag 2 april 09:00" in Dutch,
// "Tuesday 2 April 09:00" in English. The day and month names come from Node's Intl (CLDR).
import type { Language } from "../i18n/index.ts";

const LOCALES: Record<Language, string> = { nl: "nl-NL", en: "en-GB" };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(lang: Language, timeZone: string): Intl.DateTimeFormat {
  const key = `${lang} ${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALES[lang], {
      timeZone, weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    formatters.set(key, f);
  }
  return f;
}

/** "dinsdag 2 april 09:00" (nl) or "Tuesday 2 April 09:00" (en), in the given time zone. */
export function dateInWords(at: Date, timeZone: string, lang: Language): string {
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter(lang, timeZone).formatToParts(at)) part[p.type] = p.value;
  return `${part.weekday ?? ""} ${part.day ?? ""} ${part.month ?? ""} ${part.hour ?? ""}:${part.minute ?? ""}`;
}
