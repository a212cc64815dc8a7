// Opening intervals as operators write them, "08:30-12:00": half-open (open at 08:30, closed at
// 12:00), in local wall-clock time, "24:00" only as an end (the next midnight).

/** Minutes since local midnight: [start, end), 0 <= start < end <= 1440. */
export interface MinuteInterval {
  start: number;
  end: number;
}

const INTERVAL = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

function minutes(h: string | undefined, m: string | undefined, allowMidnightEnd: boolean): number | undefined {
  const hours = Number(h);
  const mins = Number(m);
  if (hours === 24 && mins === 0 && allowMidnightEnd) return 1440;
  if (hours > 23 || mins > 59) return undefined;
  return hours * 60 + mins;
}

/** The interval, or an explanation of what is wrong with the text. */
export function parseInterval(text: string): MinuteInterval | string {
  const m = INTERVAL.exec(text);
  const start = m ? minutes(m[1], m[2], false) : undefined;
  const end = m ? minutes(m[3], m[4], true) : undefined;
  if (start === undefined || end === undefined) {
    return `'${text}' is not an interval like "08:30-12:00" (HH:MM-HH:MM, 00:00 to 24:00)`;
  }
  if (end <= start) return `'${text}' ends before it starts (an interval cannot pass midnight; end a day at 24:00)`;
  return { start, end };
}

export interface IntervalProblem {
  /** Index of the offending interval in the list. */
  index: number;
  message: string;
}

/** Problems of a day's list of intervals: malformed, reversed, or overlapping an earlier one. */
export function checkIntervals(texts: readonly string[]): IntervalProblem[] {
  const problems: IntervalProblem[] = [];
  const seen: { index: number; interval: MinuteInterval }[] = [];
  texts.forEach((text, index) => {
    const parsed = parseInterval(text);
    if (typeof parsed === "string") {
      problems.push({ index, message: parsed });
      return;
    }
    const clash = seen.find((s) => s.interval.start < parsed.end && parsed.start < s.interval.end);
    if (clash) problems.push({ index, message: `'${text}' overlaps '${texts[clash.index] ?? ""}'` });
    seen.push({ index, interval: parsed });
  });
  return problems;
}

/** Parses a day's intervals that passed checkIntervals, sorted by start. */
export function parseIntervals(texts: readonly string[]): MinuteInterval[] {
  const out: MinuteInterval[] = [];
  for (const text of texts) {
    const parsed = parseInterval(text);
    if (typeof parsed === "string") throw new Error(parsed);
    out.push(parsed);
  }
  return out.sort((a, b) => a.start - b.start);
}
