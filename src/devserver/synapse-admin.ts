// Shared-secret user registration via Synapse's admin API.
import { createHmac } from "node:crypto";

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

export interface RegisterOptions {
  admin?: boolean;
  displayname?: string;
}

async function readJson(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string") throw new Error(`register response lacks ${key}: ${JSON.stringify(body)}`);
  return value;
}

/** hex HMAC-SHA1 over nonce\0user\0password\0(admin|notadmin), as Synapse expects. */
export function registrationMac(
  secret: string,
  nonce: string,
  username: string,
  password: string,
  admin: boolean,
): string {
  const hmac = createHmac("sha1", secret);
  hmac.update([nonce, username, password, admin ? "admin" : "notadmin"].join("\0"));
  return hmac.digest("hex");
}

/** Register `localpart` through /_synapse/admin/v1/register and return its session. */
export async function registerWithSharedSecret(
  baseUrl: string,
  secret: string,
  localpart: string,
  password: string,
  opts: RegisterOptions = {},
): Promise<RegisteredUser> {
  const url = `${baseUrl}/_synapse/admin/v1/register`;
  const nonceBody = await readJson(await fetch(url), "GET register nonce");
  const nonce = requireString(nonceBody, "nonce");
  const admin = opts.admin ?? false;
  const body: Record<string, unknown> = {
    nonce,
    username: localpart,
    password,
    admin,
    mac: registrationMac(secret, nonce, localpart, password, admin),
  };
  if (opts.displayname !== undefined) body.displayname = opts.displayname;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const out = await readJson(res, `register ${localpart}`);
  return {
    userId: requireString(out, "user_id"),
    accessToken: requireString(out, "access_token"),
    deviceId: requireString(out, "device_id"),
    password,
  };
}
