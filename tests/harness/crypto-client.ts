// Real E2EE clients for the tests: matrix-js-sdk with its Rust crypto (not Loket's code), and
// calls made as an appservice bot with the as_token.
import { createClient, Method, type MatrixClient, type MatrixEvent } from "matrix-js-sdk";
import type { RunningSynapse } from "../../src/devserver/synapse.ts";
import { quiet, startSyncing, waitForEvent, type TestUser } from "./client.ts";
import { eventually } from "./wait.ts";

let counter = 0;

/** A fresh user whose client encrypts (Rust crypto, in memory) and syncs. */
export async function newCryptoUser(synapse: RunningSynapse, prefix: string, opts: { crossSign?: boolean; exact?: boolean } = {}, logger = quiet): Promise<TestUser> {
  const reg = await synapse.registerUser(opts.exact ? prefix : `${prefix}${Date.now().toString(36)}${counter++}`, "test-password-1");
  const client = createClient({ baseUrl: synapse.baseUrl, accessToken: reg.accessToken, userId: reg.userId, deviceId: reg.deviceId, logger });
  await client.initRustCrypto({ useIndexedDB: false });
  await startSyncing(client);
  if (opts.crossSign) {
    // As Element does at first login. Synapse needs no UIA for a user's first cross-signing keys
    // (MSC3967); the password is the fallback.
    await client.getCrypto()?.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        try {
          await makeRequest(null);
        } catch {
          await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: reg.userId }, password: reg.password });
        }
      },
    });
  }
  // Ready once the homeserver lists the device's keys (others can share with it).
  await eventually(async () => {
    const res = await client.http.authedRequest<{ device_keys: Record<string, Record<string, unknown>> }>(Method.Post, "/keys/query", undefined, { device_keys: { [reg.userId]: [] } });
    return res.device_keys[reg.userId]?.[reg.deviceId];
  }, `the device keys of ${reg.userId}`);
  return { userId: reg.userId, client };
}

/** The event with this id once the client has tried to decrypt it. */
export async function waitForDecrypted(client: MatrixClient, roomId: string, eventId: string): Promise<MatrixEvent> {
  const ev = await waitForEvent(client, roomId, (e) => e.getId() === eventId);
  await client.decryptEventIfNeeded(ev);
  return ev;
}

/** Client-server calls as an appservice user (as_token plus ?user_id=). */
export async function asBot<T>(baseUrl: string, asToken: string, userId: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(`${baseUrl}/_matrix/client${path}`);
  url.searchParams.set("user_id", userId);
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${asToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok && !text.includes("M_USER_IN_USE")) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}
