// Homeserver calls of the crypto module, through an injected fetch-compatible function (the
// application can pass its gated fetch). Every call is made with the as_token and masquerades as
// one bot device: ?user_id= (appservice identity assertion) and ?device_id= (MSC4326, stable
// since Synapse 1.141).

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  baseUrl: string;
  asToken: string;
  fetch?: FetchLike;
}

export class HomeserverRequestError extends Error {
  readonly status: number;
  readonly errcode: string;
  constructor(status: number, errcode: string, message: string) {
    super(message);
    this.name = "HomeserverRequestError";
    this.status = status;
    this.errcode = errcode;
  }
}

export interface RequestOpts {
  query?: Record<string, string | undefined>;
  body?: string | object;
  signal?: AbortSignal;
}

/** The client-server API as one bot device. */
export class DeviceHttp {
  readonly opts: HttpOptions;
  readonly userId: string;
  readonly deviceId: string | undefined;

  constructor(opts: HttpOptions, userId: string, deviceId?: string) {
    this.opts = opts;
    this.userId = userId;
    this.deviceId = deviceId;
  }

  /** `path` below /_matrix/client (e.g. "/v3/keys/upload"); resolves with the parsed JSON body. */
  async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const url = new URL(`${this.opts.baseUrl.replace(/\/$/, "")}/_matrix/client${path}`);
    url.searchParams.set("user_id", this.userId);
    if (this.deviceId !== undefined) url.searchParams.set("device_id", this.deviceId);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${this.opts.asToken}`, "content-type": "application/json" },
      signal: opts.signal ?? null,
    };
    if (opts.body !== undefined) init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    const res = await (this.opts.fetch ?? fetch)(url.toString(), init);
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? {} : JSON.parse(text);
    } catch {
      json = {};
    }
    if (!res.ok) {
      const body = json as { errcode?: string; error?: string };
      throw new HomeserverRequestError(res.status, body.errcode ?? "M_UNKNOWN", `${method} ${path}: ${res.status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim());
    }
    return json as T;
  }
}

/** Uploads bytes to the media repository as the bot; resolves with the mxc:// URI. */
export async function uploadMedia(opts: HttpOptions, userId: string, bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
  const url = new URL(`${opts.baseUrl.replace(/\/$/, "")}/_matrix/media/v3/upload`);
  url.searchParams.set("user_id", userId);
  const res = await (opts.fetch ?? fetch)(url.toString(), {
    method: "POST",
    headers: { authorization: `Bearer ${opts.asToken}`, "content-type": "application/octet-stream" },
    body: bytes,
    signal: signal ?? null,
  });
  const body = await res.json().catch(() => ({})) as { content_uri?: string; errcode?: string };
  if (!res.ok || typeof body.content_uri !== "string") {
    throw new HomeserverRequestError(res.status, body.errcode ?? "M_UNKNOWN", `media upload: ${res.status} ${body.errcode ?? ""}`.trim());
  }
  return body.content_uri;
}

export const enc = encodeURIComponent;
