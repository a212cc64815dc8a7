// E2EE against a real Synapse with a real client (matrix-js-sdk, Rust crypto): the citizen writes
// in an encrypted DM, the bot's crypto service decrypts; the bot answers encrypted and the
// client decrypts; the service restarts with the same device and catches up; late keys hand the
// waiting event on; a second service is refused the store.
import { pino } from "pino";
import { MatrixEvent, MsgType, Preset } from "matrix-js-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CryptoStoreLockedError, startCrypto, type BotCryptoStatus, type CryptoService, type DecryptedEvent } from "../../src/crypto/index.ts";
import type { RawEvent } from "../../src/matrix/events.ts";
import type { UserId } from "../../src/matrix/ids.ts";
import { waitForEvent, type TestUser } from "../harness/client.ts";
import { asBot, newCryptoUser, waitForDecrypted } from "../harness/crypto-client.ts";
import { inboxEvents } from "../harness/inbox.ts";
import { SERVER_NAME } from "../harness/stack.ts";
import { useStack } from "../harness/use-stack.ts";
import { eventually } from "../harness/wait.ts";

const fixture = useStack();
const bot = `@gemeente_testdorp:${SERVER_NAME}` as UserId;
const ENCRYPTION = { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } };

describe("E2EE crypto service", () => {
  let citizen: TestUser;
  let roomId: string;
  let service: CryptoService | undefined;
  const handedOn: DecryptedEvent[] = [];
  let txn = 0;

  const start = (opts: { sync?: "loop" | "manual" } = {}): Promise<CryptoService> => {
    const { stack } = fixture;
    return startCrypto({
      db: stack.loket.database,
      config: { ...stack.config, crypto: { enabled: true, store_key: "integration-test-store-key", device_display_name: "Loket", sync_timeout_ms: 10_000 } },
      log: pino({ level: "silent" }),
      bots: [bot],
      onDecrypted: (ev) => { handedOn.push(ev); return Promise.resolve(); },
      sync: opts.sync ?? "manual",
    });
  };
  const svc = (): CryptoService => {
    if (!service) throw new Error("the crypto service is not running");
    return service;
  };
  const botStatus = async (): Promise<BotCryptoStatus> => {
    const [first] = (await svc().status()).bots;
    if (!first) throw new Error("no bot device");
    return first;
  };
  const as = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    asBot<T>(fixture.stack.synapse.baseUrl, fixture.stack.config.appservice.as_token, bot, method, path, body);

  /** The citizen's encrypted message as Loket's inbox received it from Synapse. */
  const fromInbox = (eventId: string): Promise<RawEvent> => eventually(async () =>
    (await inboxEvents(fixture.stack.loket.database)).find((r) => r.event.event_id === eventId)?.event, `event ${eventId} in the inbox`);

  const citizenSays = async (body: string, opts: { newSession?: boolean } = {}): Promise<RawEvent> => {
    if (opts.newSession) await citizen.client.getCrypto()?.forceDiscardSession(roomId);
    const { event_id } = await citizen.client.sendMessage(roomId, { msgtype: MsgType.Text, body });
    const raw = await fromInbox(event_id);
    expect(raw.type).toBe("m.room.encrypted");
    return raw;
  };

  beforeAll(async () => {
    await as("POST", "/v3/register", { type: "m.login.application_service", username: "gemeente_testdorp", inhibit_login: true });
    service = await start();
    citizen = await newCryptoUser(fixture.stack.synapse, "burger");
    ({ room_id: roomId } = await citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat, initial_state: [ENCRYPTION] }));
    // Loket's greeting capability joins the bot.
    await waitForEvent(citizen.client, roomId, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "join");
  });
  afterAll(async () => {
    await service?.stop();
    citizen.client.stopClient();
  });

  it("has a cross-signed device of its own that the citizen's homeserver lists", async () => {
    const status = await botStatus();
    const device = status.deviceId;
    const keys = await citizen.client.http.authedRequest<{
      device_keys: Record<string, Record<string, { signatures: Record<string, Record<string, string>> }>>;
      master_keys?: Record<string, unknown>;
      self_signing_keys?: Record<string, { keys: Record<string, string> }>;
    }>("POST" as never, "/keys/query", undefined, { device_keys: { [bot]: [] } });
    expect(Object.keys(keys.device_keys[bot] ?? {})).toEqual([device]);
    expect(keys.master_keys?.[bot]).toBeDefined();
    const ssk = Object.keys(keys.self_signing_keys?.[bot]?.keys ?? {})[0];
    expect(ssk).toBeDefined();
    expect(Object.keys(keys.device_keys[bot]?.[device]?.signatures[bot] ?? {})).toContain(ssk);
    expect(status.crossSigning).toMatchObject({ master: true, selfSigning: true, userSigning: true });
  });

  it("decrypts what the citizen writes, and the citizen decrypts the bot's encrypted answer", async () => {
    const raw = await citizenSays("Hallo gemeente, ik wil een paspoort aanvragen");
    await svc().syncNow();
    const res = await svc().decrypt(raw);
    expect(res).toMatchObject({ status: "decrypted", event: { type: "m.room.message", content: { body: "Hallo gemeente, ik wil een paspoort aanvragen" }, encrypted: { type: "m.room.encrypted" } } });

    const encrypted = await svc().encrypt(bot, roomId, "m.room.message", { msgtype: "m.notice", body: "Goedemiddag, waarmee kan ik helpen?" });
    const { event_id } = await as<{ event_id: string }>("PUT", `/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/crypto-test-${++txn}`, encrypted.content);
    const ev = await waitForDecrypted(citizen.client, roomId, event_id);
    expect(ev.isDecryptionFailure()).toBe(false);
    expect(ev.getType()).toBe("m.room.message");
    expect(ev.getContent().body).toBe("Goedemiddag, waarmee kan ik helpen?");
  });

  it("hands on an event whose room key arrives late, when it arrives", async () => {
    const raw = await citizenSays("Dit bericht heeft een nieuwe sleutel", { newSession: true });
    // The key is waiting in the bot device's to-device inbox: not synced yet.
    expect(await svc().decrypt(raw)).toMatchObject({ status: "waiting" });
    expect((await svc().status()).waitingEvents).toBe(1);
    await svc().syncNow();
    await eventually(() => Promise.resolve(handedOn.find((e) => e.event_id === raw.event_id)), "the late event handed on");
    expect(handedOn.filter((e) => e.event_id === raw.event_id)).toHaveLength(1);
    expect(handedOn.find((e) => e.event_id === raw.event_id)?.content).toMatchObject({ body: "Dit bericht heeft een nieuwe sleutel" });
    expect((await svc().status()).waitingEvents).toBe(0);
  });

  it("shares keys with a member who joins and rotates them when a member leaves", async () => {
    // The municipality's own staff member (anyone else joining a DM makes the bot leave it).
    const staff = await newCryptoUser(fixture.stack.synapse, "medewerker", { exact: true });
    try {
      await citizen.client.invite(roomId, staff.userId);
      await staff.client.joinRoom(roomId);
      const sessionOf = (c: { content: Record<string, unknown> }): unknown => c.content.session_id;
      const first = await svc().encrypt(bot, roomId, "m.room.message", { msgtype: "m.notice", body: "Een medewerker kijkt mee" });
      const { event_id } = await as<{ event_id: string }>("PUT", `/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/crypto-test-${++txn}`, first.content);
      expect((await waitForDecrypted(staff.client, roomId, event_id)).getContent().body).toBe("Een medewerker kijkt mee");
      const same = await svc().encrypt(bot, roomId, "m.room.message", { msgtype: "m.notice", body: "nog steeds" });
      expect(sessionOf(same)).toBe(sessionOf(first));

      await staff.client.leave(roomId);
      await waitForEvent(citizen.client, roomId, (ev) => ev.getStateKey() === staff.userId && ev.getContent().membership === "leave");
      const afterLeave = await svc().encrypt(bot, roomId, "m.room.message", { msgtype: "m.notice", body: "De medewerker is weg" });
      expect(sessionOf(afterLeave)).not.toBe(sessionOf(first));
    } finally {
      staff.client.stopClient();
    }
  });

  it("a staff member the bot invites after ten encrypted messages can read those ten (MSC4268)", async () => {
    const { room_id: dm } = await citizen.client.createRoom({ is_direct: true, invite: [bot], preset: Preset.TrustedPrivateChat, initial_state: [ENCRYPTION] });
    await waitForEvent(citizen.client, dm, (ev) => ev.getType() === "m.room.member" && ev.getStateKey() === bot && ev.getContent().membership === "join");
    const sent: string[] = [];
    for (let i = 1; i <= 10; i++) sent.push((await citizen.client.sendMessage(dm, { msgtype: MsgType.Text, body: `Vraag ${i} over mijn aanvraag` })).event_id);
    await svc().syncNow();

    // Room history goes to cross-signed devices only (matrix-sdk-crypto enforces it for MSC4268).
    const staff = await newCryptoUser(fixture.stack.synapse, "medewerker", { crossSign: true });
    try {
      expect(await svc().shareHistory(bot, dm, staff.userId)).toBe("shared");
      await as("POST", `/v3/rooms/${encodeURIComponent(dm)}/invite`, { user_id: staff.userId });
      await eventually(() => Promise.resolve(staff.client.getRoom(dm)?.getMyMembership() === "invite" ? true : undefined), "the invite at the staff client");
      await staff.client.joinRoom(dm);
      const bodies = await eventually(async () => {
        const out: string[] = [];
        for (const id of sent) {
          const ev = new MatrixEvent(await staff.client.fetchRoomEvent(dm, id));
          await staff.client.decryptEventIfNeeded(ev);
          if (ev.isDecryptionFailure()) return undefined;
          out.push(String(ev.getContent().body));
        }
        return out;
      }, "the staff member decrypting the history");
      expect(bodies).toEqual(sent.map((_, i) => `Vraag ${i + 1} over mijn aanvraag`));
    } finally {
      staff.client.stopClient();
    }
  });

  it("refuses a second service on the same store while the first runs", async () => {
    await expect(start()).rejects.toBeInstanceOf(CryptoStoreLockedError);
  });

  it("restarts with the same device and identity key, and decrypts what was sent while it was down", async () => {
    const before = await botStatus();
    // Waiting when the service stops: its key is still in Synapse's to-device inbox.
    const pending = await citizenSays("Sleutel nog onderweg bij het stoppen", { newSession: true });
    expect(await svc().decrypt(pending)).toMatchObject({ status: "waiting" });
    await svc().stop();
    service = undefined;

    const whileDown = [
      [await citizenSays("Bericht terwijl Loket uit staat", { newSession: true }), "Bericht terwijl Loket uit staat"],
      [await citizenSays("Nog een bericht terwijl Loket uit staat"), "Nog een bericht terwijl Loket uit staat"],
    ] as const;
    service = await start();
    const after = await botStatus();
    expect(after.deviceId).toBe(before.deviceId);
    expect(after.identityKeys).toEqual(before.identityKeys);
    expect(after.crossSigning.masterKey).toBe(before.crossSigning.masterKey);
    const devices = await as<{ devices: { device_id: string }[] }>("GET", "/v3/devices");
    expect(devices.devices.map((d) => d.device_id)).toEqual([before.deviceId]);

    for (const [raw, body] of whileDown) {
      expect(await service.decrypt(raw)).toMatchObject({ status: "decrypted", event: { content: { body } } });
    }
    // The event that was waiting at the stop went on at start, once.
    expect(handedOn.filter((e) => e.event_id === pending.event_id).map((e) => e.content)).toEqual([expect.objectContaining({ body: "Sleutel nog onderweg bij het stoppen" })]);
    expect((await service.status()).waitingEvents).toBe(0);

    // And the citizen still reads the restarted bot.
    const encrypted = await service.encrypt(bot, roomId, "m.room.message", { msgtype: "m.notice", body: "Weer bereikbaar" });
    const { event_id } = await as<{ event_id: string }>("PUT", `/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.encrypted/crypto-test-${++txn}`, encrypted.content);
    expect((await waitForDecrypted(citizen.client, roomId, event_id)).getContent().body).toBe("Weer bereikbaar");
  });

  it("in loop mode, keys reach the bot without anyone asking", async () => {
    await svc().stop();
    service = undefined;
    service = await start({ sync: "loop" });
    const raw = await citizenSays("Via de lange poll", { newSession: true });
    const first = await service.decrypt(raw);
    // Decrypted at once if the long poll was quicker than this call, else handed on when it is.
    if (first.status !== "decrypted") {
      expect(first.status).toBe("waiting");
      await eventually(() => Promise.resolve(handedOn.find((e) => e.event_id === raw.event_id)), "the event handed on by the sync loop");
    }
    expect((await botStatus()).synced).toBe(true);
  });
});
