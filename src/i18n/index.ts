// Citizen-facing text: Dutch by default, English available. The texts live in the JSON files
// beside this one; every language must have every key (a unit test checks).
import en from "./en.json" with { type: "json" };
import nl from "./nl.json" with { type: "json" };

export type Language = "nl" | "en";
export type TextKey = keyof typeof nl;

export const translations: Record<Language, Record<TextKey, string>> = { nl, en };

/** The text for key in lang, with {placeholders} filled in from vars. */
export function t(lang: Language, key: TextKey, vars: Record<string, string> = {}): string {
  return translations[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}
