// HTML bodies for the bots' messages (org.matrix.custom.html): text escaped, lines kept.
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A plain text as HTML: escaped, with its line breaks as <br>. */
export const textToHtml = (text: string): string => escapeHtml(text).replace(/\n/g, "<br>");
