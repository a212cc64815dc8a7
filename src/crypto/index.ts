// End-to-end encryption for the municipality bots (issue 7). The rest of Loket uses only this file.
//
// ## API
//
//   startCrypto({ db, config, log, bots, onDecrypted, fetch?, sync? }): Promise<CryptoService>
//     Takes the store lock (one writer per store; refuses with CryptoStoreLockedError), restores
//     or creates each bot's OlmMachine, creates its device (fixed id, kept in crypto_stores)
//     through the appservice device API, uploads device keys, one-time and fallback keys,
//     bootstraps cross-signing when needed, runs one catch-up /sync per bot device (to-device
//     messages that arrived while Loket was down) and retries the events waiting for keys; then,
//     unless sync is "manual", long-polls /sync per bot device in the background.
//     With crypto.backup_key: turns on the server-side key backup (every room key is backed up as
//     it arrives) and, for a bot whose store is new (first start, or the database was lost),
//     restores the backed-up room keys; the cross-signing private keys are kept in the bot's
//     account data (encrypted with a key derived from backup_key), so a new store keeps the bot's
//     identity and signs its new device; a new store also deletes the bot's stale LOKET* devices.
//     Needs the homeserver: the caller retries a failed start (nothing is left held).
//   service.decrypt(rawEvent): Promise<DecryptResult>
//     { status: "decrypted", event } — the raw event with the plaintext type and content, the
//       ciphertext kept under `event.encrypted`, the claimed sending device in `sender_device`;
//     { status: "waiting", reason } — the room key has not arrived: the event is now stored in
//       crypto_waiting_events and will reach `onDecrypted` when the key arrives (also after a
//       restart). The caller treats the event as handled for now (archive the ciphertext);
//     { status: "failed", reason } — cannot be decrypted (not encrypted, bad session, ...).
//   service.encrypt(bot, roomId, type, content): Promise<{ type: "m.room.encrypted", content }>
//     Shares the room key with every device of the joined and invited members (unverified ones
//     included: CollectStrategy.allDevices), rotating the session when members left, and
//     encrypts. The store is persisted before this resolves. Send the result as the bot with a
//     plain PUT /rooms/{roomId}/send/m.room.encrypted/{txnId}.
//   service.onMemberLeft(bot, roomId): forget the room's outbound session at once (the machine
//     also rotates by itself on the next encrypt when it sees a member gone).
//   service.shareHistory(bot, roomId, userId): MSC4268 — sends the user's devices a bundle of the
//     room keys the bot holds (uploaded encrypted to the media repository). Call it right before
//     that same bot invites the user: clients accept a bundle from their inviter only.
//   service.persist(): write every store now (encrypt and each sync round already do it).
//   service.syncNow(): one /sync round per bot device (sync "manual": tests and tools).
//   service.retryWaiting(): hand on the waiting events whose keys are there now.
//   service.status(): devices, identity keys, cross-signing, room keys, store size, waiting events.
//   service.stop(): stops the sync loops, waits for machine calls under way (everything is
//     persisted already), closes the machines and releases the lock. Call it on shutdown before
//     the database closes.
//   readStoreSummaries(db): what the database alone says (for the CLI while Loket runs).
//   inspectStores(db, storeKey, bots): what `loket crypto status` shows: each bot's persisted
//     store unsealed read-only into a throw-away machine (no lock, no writes, no homeserver).
//   opts.observer: told about decryptions, encryptions, waiting events, one-time key counts and
//     persist durations; engine.ts maps it onto the loket_crypto_* metrics.
//
// ## Call order for the wiring
//   1. migrate, then startCrypto (before the inbox starts handing out events to handlers).
//   2. For each m.room.encrypted event from a transaction: decrypt, then route the decrypted event
//      like any other; "waiting" events come back later through onDecrypted. decrypt() writes the
//      waiting row before it resolves, so marking the transaction processed afterwards is safe.
//   3. Outgoing in an encrypted room (one with an m.room.encryption state event: this module does
//      not track room state; the bot must be joined): encrypt, then send. A durable send stores
//      the ciphertext and retries it with the same txnId; it does not encrypt again.
//   4. A member's leave/kick/ban: onMemberLeft(bot, roomId) (optional, see above).
//   5. Shutdown: stop() before closing the database.
// Persistence rules kept inside the module: the store is persisted before any key upload, after
// each request batch, after each encryption, and with each sync token (token and changed records
// in one transaction), so the sync token never acknowledges to-device messages that the stored
// machine lacks. Persisting writes only the records that changed since the last persist.
export { startCrypto, type CryptoService, type StartCryptoOptions } from "./service.ts";
export type { DecryptedEvent, DecryptResult } from "./decrypt.ts";
export type { EncryptedContent } from "./encrypt.ts";
export type { FetchLike } from "./http.ts";
export { CryptoStoreLockedError } from "./lock.ts";
export { NO_OBSERVER, type CryptoObserver } from "./observer.ts";
export { inspectStores, type StoredBotStatus, type StoredCryptoStatus } from "./inspect.ts";
export type { BotCryptoStatus, CryptoStatus } from "./status.ts";
export { readStoreSummaries, type StoreSummary } from "./store.ts";
export type { DecryptedHandler } from "./waiting.ts";
