// Encryption at rest of the crypto store dumps: AES-256-GCM with a key derived (HKDF-SHA256)
// from the configured secret `crypto.store_key`. The same secret also yields the raw key of the
// OlmMachine's own IndexedDB store cipher (StoreHandle.openWithKey), a different derived key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface StoreKeys {
  /** Seals the dump written to the database. */
  dump: Buffer;
  /** Given to StoreHandle.openWithKey. */
  machine: Uint8Array;
}

export function deriveKeys(secret: string): StoreKeys {
  if (secret.length < 16) throw new Error("crypto.store_key must be at least 16 characters");
  const derive = (info: string): Buffer => Buffer.from(hkdfSync("sha256", secret, "loket-crypto-store", info, 32));
  return { dump: derive("dump-aes-256-gcm"), machine: new Uint8Array(derive("olm-machine-store")) };
}

/** `aad` binds the ciphertext to its row (the bot's user id): a dump cannot be swapped in. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function unseal(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed[0] !== VERSION) throw new Error("unknown crypto store seal version");
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new Error("cannot decrypt the crypto store: wrong crypto.store_key, or the row was altered");
  }
}
