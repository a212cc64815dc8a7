// Every request to the homeserver passes this gate: at most `maxConcurrent` at once (so sockets
// and memory stay bounded however many rooms wait), each with its own timeout that starts when
// the request really goes out, and a circuit breaker: when the homeserver stops answering, all
// rooms pause together and one probe request at a time finds out when it is back, instead of a
// retry loop per room hammering a server that is down.
import { Agent, fetch as undiciFetch } from "undici";
import { jittered } from "../util/retry.ts";

export interface GateOptions {
  maxConcurrent: number;
  requestTimeoutMs: number;
  /** First pause after the homeserver stopped answering; doubles (with jitter) up to maxPauseMs. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Called on every change of what is in flight, waiting, and whether the breaker is open. */
  onChange?(state: GateState): void;
  /** Called when the breaker opens (the homeserver stopped answering) or closes again. */
  onBreaker?(open: boolean, err?: unknown): void;
}

export interface GateState {
  inFlight: number;
  waiting: number;
  open: boolean;
}

interface Waiter {
  resolve(probe: boolean): void;
  reject(err: Error): void;
  done: boolean;
}

const abortError = (what: string): DOMException => new DOMException(what, "AbortError");

/** What a failed fetch says about the homeserver: `undefined` when it says nothing (aborted). */
function reachedServer(err: unknown, timedOut: boolean, aborted: boolean): boolean | undefined {
  if (timedOut) return false;
  if (aborted) return undefined;
  return !(err instanceof TypeError);
}

export class HomeserverGate {
  private readonly opts: GateOptions;
  private readonly queue: Waiter[] = [];
  private head = 0;
  private inFlight = 0;
  private state: "closed" | "open" | "half-open" = "closed";
  private probing = false;
  private pauseMs: number;
  private reopen: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();
  /** Its own connection pool, so that a stop can close every socket to the homeserver. */
  private readonly agent: Agent;

  constructor(opts: GateOptions) {
    this.opts = opts;
    this.pauseMs = opts.firstPauseMs;
    this.agent = new Agent({ connections: opts.maxConcurrent, headersTimeout: 0, bodyTimeout: 0 });
  }

  get snapshot(): GateState {
    return { inFlight: this.inFlight, waiting: this.queue.length - this.head, open: this.state !== "closed" };
  }

  /** A `fetch` that waits its turn at the gate. Pass it to every client of the homeserver. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const probe = await this.acquire(init.signal ?? undefined);
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs);
    const signals = [timeout, this.stopped.signal, ...(init.signal ? [init.signal] : [])];
    try {
      const res = await undiciFetch(input as string, { ...(init as object), signal: AbortSignal.any(signals), dispatcher: this.agent }) as unknown as Response;
      this.settle(probe, true);
      return res;
    } catch (err) {
      const timedOut = timeout.aborted;
      this.settle(probe, reachedServer(err, timedOut, this.stopped.signal.aborted || init.signal?.aborted === true), err);
      throw describe(err, input, init.method, timedOut, this.opts.requestTimeoutMs);
    } finally {
      this.inFlight--;
      this.pump();
    }
  };

  /** Cuts short every request in flight and every one waiting, closes the sockets; later requests fail at once. */
  stop(): void {
    // Destroy the pool before aborting: sockets whose request was aborted first stay open.
    void this.agent.destroy(abortError("Loket is stopping")).catch(() => undefined);
    this.stopped.abort(abortError("Loket is stopping"));
    clearTimeout(this.reopen);
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]?.reject(abortError("Loket is stopping"));
    this.queue.length = 0;
    this.head = 0;
    this.changed();
  }

  private acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.stopped.signal.aborted) return Promise.reject(abortError("Loket is stopping"));
    if (signal?.aborted) return Promise.reject(abortError("request aborted"));
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = (): void => { waiter.reject(abortError("request aborted")); };
      const waiter: Waiter = {
        done: false,
        resolve: (probe) => { waiter.done = true; signal?.removeEventListener("abort", onAbort); resolve(probe); },
        reject: (err) => { waiter.done = true; signal?.removeEventListener("abort", onAbort); reject(err); },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Lets waiting requests through while there is room and the breaker allows it. */
  private pump(): void {
    while (this.inFlight < this.opts.maxConcurrent && this.state !== "open" && !this.probing) {
      const waiter = this.next();
      if (!waiter) break;
      const probe = this.state === "half-open";
      if (probe) this.probing = true;
      this.inFlight++;
      waiter.resolve(probe);
    }
    this.changed();
  }

  private next(): Waiter | undefined {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (w && !w.done) return w;
    }
    return undefined;
  }

  /** `reached`: the homeserver answered (true), did not (false), or we cannot tell (undefined). */
  private settle(probe: boolean, reached: boolean | undefined, err?: unknown): void {
    if (probe) this.probing = false;
    if (reached === true && this.state !== "closed") {
      this.state = "closed";
      this.pauseMs = this.opts.firstPauseMs;
      this.opts.onBreaker?.(false);
    } else if (reached === false && (this.state === "closed" || probe)) {
      if (this.state === "closed") this.opts.onBreaker?.(true, err);
      this.state = "open";
      clearTimeout(this.reopen);
      this.reopen = setTimeout(() => {
        this.state = "half-open";
        this.pump();
      }, jittered(this.pauseMs));
      this.pauseMs = Math.min(this.pauseMs * 2, this.opts.maxPauseMs);
    }
    // A probe cut short tells nothing: the breaker stays half-open and the next request probes.
  }

  private changed(): void {
    this.opts.onChange?.(this.snapshot);
  }
}

/** Failures that name what failed: the homeserver URL and the endpoint, never the query. */
function describe(err: unknown, input: string | URL | Request, method: string | undefined, timedOut: boolean, timeoutMs: number): unknown {
  const raw = input instanceof Request ? input.url : String(input);
  let where = raw;
  try {
    const url = new URL(raw);
    where = `${url.origin}${url.pathname}`;
  } catch { /* keep it as it is */ }
  if (timedOut) return new TypeError(`the homeserver did not answer ${method ?? "GET"} ${where} within ${timeoutMs} ms`);
  if (err instanceof TypeError) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return new TypeError(`could not reach the homeserver: ${method ?? "GET"} ${where}: ${cause?.code ?? cause?.message ?? err.message}`);
  }
  return err;
}
