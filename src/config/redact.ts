// Redacts credentials in connection strings before they are logged: the password in a URL's
// userinfo, and query parameters that carry secrets (libpq's password, sslpassword, sslkey, and
// anything named like a token or secret). Also the libpq keyword form `password=…`.

const SECRET_PARAM = /pass|pwd|secret|token|sslkey|credential|api[_-]?key/i;
const KEYWORD_SECRET = /\b((?:ssl)?password|sslkey|passfile)\s*=\s*('[^']*'|\S+)/gi;
const MARK = "__loket_redacted__";
const REDACTED = "[redacted]";

export function redactCredentials(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value.replace(KEYWORD_SECRET, `$1=${REDACTED}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not parseable, but shaped like a URL: it may hold anything.
    return REDACTED;
  }
  const secretParams = [...url.searchParams.keys()].filter((name) => SECRET_PARAM.test(name));
  if (url.password === "" && secretParams.length === 0) return value;
  if (url.password !== "") url.password = MARK;
  for (const name of secretParams) url.searchParams.set(name, MARK);
  return url.toString().replaceAll(MARK, REDACTED).replaceAll(encodeURIComponent(MARK), REDACTED);
}
