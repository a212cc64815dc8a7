// The appservice ping (MSC2659) at start-up and after recovery: Loket asks the homeserver to
// call it back, which proves the whole loop (homeserver.url, tokens, registration, public_url)
// and makes Synapse retry its backed-off transactions at once. A failed ping is tried again
// with back-off: Synapse 1.163 answers 502 "AlreadyCalled" when the ping races its own retry
// timer, and a homeserver that starts after Loket (docker-compose) needs a moment. The log names
// what actually failed: Loket reaching the homeserver, or the homeserver reaching Loket.
import { setTimeout as sleep } from "node:timers/promises";
import type { Metrics } from "../http/metrics.ts";
import type { Logger } from "../logging.ts";
import type { PingResult } from "./client.ts";

export interface PingOptions {
  ping: () => Promise<PingResult>;
  homeserverUrl: string;
  publicUrl: string;
  metrics: Pick<Metrics, "homeserverPings">;
  log: Logger;
  signal: AbortSignal;
  /** Pings in all, the first included (default 5). */
  attempts?: number;
  /** Delay before the second ping, doubling after each (default 1 s: 1, 2, 4, 8 s). */
  firstDelayMs?: number;
}

/** Answers that retrying does not mend: the homeserver does not accept Loket's as_token. */
const LASTING = new Set(["M_UNKNOWN_TOKEN", "M_FORBIDDEN", "M_URL_NOT_SET"]);

/** What failed, in the operator's terms: which key to check. */
export function describePingFailure(res: PingResult, homeserverUrl: string, publicUrl: string): string {
  const detail = `${res.errcode ?? "M_UNKNOWN"}: ${res.error ?? "no details"}`;
  switch (res.errcode) {
    case "CONNECTION_FAILED":
      return `Loket cannot reach the homeserver at homeserver.url ${homeserverUrl} (${res.error ?? "no answer"}): check homeserver.url and that the homeserver runs`;
    case "M_UNKNOWN_TOKEN":
    case "M_FORBIDDEN":
      return `the homeserver at ${homeserverUrl} refused Loket's as_token (${detail}): is the registration file in its app_service_config_files (restart it after changes), and do the registration's tokens match appservice.as_token?`;
    case "M_CONNECTION_FAILED":
    case "M_CONNECTION_TIMEOUT":
      return `the homeserver answered the ping with an error: it cannot reach Loket at appservice.public_url ${publicUrl} (${detail}); check appservice.public_url, appservice.bind_address and the firewall`;
    case "M_BAD_STATUS":
      return `the homeserver answered the ping with an error: Loket at ${publicUrl} refused its call (${detail}); check that the registration's hs_token matches appservice.hs_token`;
    default:
      return `the homeserver answered the ping with an error (${detail}): check appservice.public_url ${publicUrl}, the tokens and the registration file`;
  }
}

/** Pings until one succeeds, the attempts run out, or the failure will not pass; true when ok. */
export async function pingHomeserver(opts: PingOptions): Promise<boolean> {
  const attempts = opts.attempts ?? 5;
  let delay = opts.firstDelayMs ?? 1_000;
  for (let attempt = 1; ; attempt++) {
    const res = await opts.ping();
    opts.metrics.homeserverPings.inc({ outcome: res.ok ? "ok" : "failed" });
    if (res.ok) {
      opts.log.info({ durationMs: res.durationMs, attempt }, "the homeserver reaches Loket (appservice ping)");
      return true;
    }
    const message = describePingFailure(res, opts.homeserverUrl, opts.publicUrl);
    const fields = { errcode: res.errcode, homeserverUrl: opts.homeserverUrl, publicUrl: opts.publicUrl, attempt };
    if (attempt >= attempts || LASTING.has(res.errcode ?? "") || opts.signal.aborted) {
      opts.log.error(fields, message);
      return false;
    }
    opts.log.warn({ ...fields, retryInMs: delay }, `${message}; pinging again`);
    try {
      await sleep(delay, undefined, { signal: opts.signal });
    } catch {
      return false;
    }
    delay *= 2;
  }
}
