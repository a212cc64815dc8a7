// Reference numbers: PREFIX-YYYY-NNNNNN, per municipality and year (pure).

export function formatReference(prefix: string, year: number, n: number): string {
  return `${prefix}-${year}-${String(n).padStart(6, "0")}`;
}

/** The canonical form of a reference typed by someone (case-insensitive), or undefined. */
export function normaliseReference(text: string): string | undefined {
  const upper = text.trim().toUpperCase();
  return /^[A-Z0-9][A-Z0-9-]*-\d{4}-\d{6,}$/.test(upper) ? upper : undefined;
}
