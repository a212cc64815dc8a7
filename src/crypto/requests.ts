// Sends the OlmMachine's outgoing requests to the homeserver and reports the answers back.
import {
  KeysBackupRequest, KeysClaimRequest, KeysQueryRequest, KeysUploadRequest, RequestType, RoomMessageRequest,
  SignatureUploadRequest, ToDeviceRequest, type OlmMachine,
} from "@matrix-org/matrix-sdk-crypto-wasm";
import { enc, type DeviceHttp } from "./http.ts";

type Outgoing = Awaited<ReturnType<OlmMachine["outgoingRequests"]>>[number];

/** The HTTP call for one request; resolves with the response body as JSON text. */
export async function send(http: DeviceHttp, req: Outgoing, signal?: AbortSignal): Promise<string> {
  const call = (method: string, path: string, body: string, query?: Record<string, string>): Promise<unknown> =>
    http.request(method, path, { body, signal, query });
  let res: unknown;
  if (req instanceof KeysUploadRequest) res = await call("POST", "/v3/keys/upload", req.body);
  else if (req instanceof KeysQueryRequest) res = await call("POST", "/v3/keys/query", req.body);
  else if (req instanceof KeysClaimRequest) res = await call("POST", "/v3/keys/claim", req.body);
  else if (req instanceof SignatureUploadRequest) res = await call("POST", "/v3/keys/signatures/upload", req.body);
  else if (req instanceof ToDeviceRequest) res = await call("PUT", `/v3/sendToDevice/${enc(req.event_type)}/${enc(req.txn_id)}`, req.body);
  else if (req instanceof RoomMessageRequest) {
    res = await call("PUT", `/v3/rooms/${enc(req.room_id)}/send/${enc(req.event_type)}/${enc(req.txn_id)}`, req.body);
  } else if (req instanceof KeysBackupRequest) res = await call("PUT", "/v3/room_keys/keys", req.body, { version: req.version });
  else throw new Error("unknown outgoing crypto request");
  return JSON.stringify(res);
}

export function requestId(req: Outgoing): string | undefined {
  return req.id;
}

export function isKeysUpload(req: Outgoing): boolean {
  return req.type === RequestType.KeysUpload;
}

export type { Outgoing };
