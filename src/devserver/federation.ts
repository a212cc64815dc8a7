// What a throwaway Synapse needs to federate with its peers over TLS on loopback: host names
// under `.test` that resolve to 127.0.0.1 without root, trust in a throwaway CA, loopback allowed
// for outbound federation, and short back-off so that a peer that starts later is reached soon.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ServerCertificate } from "./federation-tls.ts";

/** Host names ending in this resolve to 127.0.0.1 inside Synapses started with the shim. */
export const LOOPBACK_SUFFIX = ".test";

// Python imports `sitecustomize` from sys.path (PYTHONPATH included) while starting up, before
// any Synapse module. That order matters: synapse/util/gai_resolver.py binds
// socket.getaddrinfo as a default argument when it is imported, so a later patch is not seen.
const SITECUSTOMIZE = `# Written by Loket's test harness: resolve every *${LOOPBACK_SUFFIX} host to 127.0.0.1.
import socket

_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if isinstance(name, str) and name.rstrip(".").lower().endswith("${LOOPBACK_SUFFIX}"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo
`;

/**
 * Writes the resolver shim into `dir` and returns the environment that puts it on a Synapse's
 * PYTHONPATH (pass it as `SynapseOptions.env`).
 */
export async function loopbackResolverEnv(dir: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "sitecustomize.py"), SITECUSTOMIZE);
  const inherited = process.env.PYTHONPATH;
  return { PYTHONPATH: inherited ? `${dir}:${inherited}` : dir };
}

export interface FederationSettings {
  caFile: string;
  certificate: ServerCertificate;
}

/** homeserver.yaml keys for TLS federation between test servers (merged over the base config). */
export function federationConfig(settings: FederationSettings): Record<string, unknown> {
  const relaxed = { window_size: 1000, sleep_limit: 10_000, sleep_delay: 10, reject_limit: 100_000, concurrent: 100 };
  return {
    tls_certificate_path: settings.certificate.certFile,
    tls_private_key_path: settings.certificate.keyFile,
    // Verify peers' certificates, against the throwaway CA only.
    federation_verify_certificates: true,
    federation_custom_ca_list: [settings.caFile],
    // Outbound requests to loopback are blocked by default (ip_range_blacklist).
    ip_range_whitelist: ["127.0.0.0/8", "::1/128"],
    // In milliseconds. The default is 10 minutes of back-off after one failed request to a peer.
    federation: { destination_min_retry_interval: 500, destination_max_retry_interval: 5_000 },
    rc_federation: relaxed,
    federation_rr_transactions_per_room_per_second: 10_000,
    // Keys come straight from each peer, never from matrix.org.
    trusted_key_servers: [],
    allow_public_rooms_over_federation: true,
  };
}
