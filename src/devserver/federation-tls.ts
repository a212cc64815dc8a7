// A throwaway certificate authority and one server certificate per host name, for Synapses that
// federate over TLS on loopback (tests, demos). Made with Python's `cryptography`, which every
// Synapse venv has (Synapse needs it), so no openssl binary is required.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./venv.ts";

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

export interface FederationCertificates {
  /** PEM of the CA: give it to each Synapse as `federation_custom_ca_list`. */
  caFile: string;
  /** Certificate and key per host name (the certificate's only subjectAltName). */
  servers: Record<string, ServerCertificate>;
}

const SCRIPT = `
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out, hosts = sys.argv[1], sys.argv[2:]
now = datetime.datetime.now(datetime.timezone.utc)
usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False,
             key_agreement=False, encipher_only=False, decipher_only=False)

def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def write(path, data):
    with open(path, "wb") as f:
        f.write(data)

def write_key(key, path):
    write(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))

def builder(subject, issuer, key):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30)))

ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = name("Loket throwaway test CA")
ca = (builder(ca_name, ca_name, ca_key)
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), critical=True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
      .sign(ca_key, hashes.SHA256()))
write(out + "/ca.pem", ca.public_bytes(serialization.Encoding.PEM))

for host in hosts:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (builder(name(host), ca_name, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    write(out + "/" + host + ".crt", cert.public_bytes(serialization.Encoding.PEM))
    write_key(key, out + "/" + host + ".key")
`;

/** Writes ca.pem plus `<host>.crt` and `<host>.key` for each host into `dir`. */
export async function makeFederationCertificates(
  python: string,
  dir: string,
  hosts: readonly string[],
): Promise<FederationCertificates> {
  for (const host of hosts) {
    if (!/^[a-z0-9.-]+$/.test(host)) throw new Error(`not a plain host name: ${host}`);
  }
  await mkdir(dir, { recursive: true });
  const res = await runCommand(python, ["-c", SCRIPT, dir, ...hosts]);
  if (res.code !== 0) throw new Error(`making test certificates failed:\n${res.output}`);
  const servers = Object.fromEntries(
    hosts.map((h) => [h, { certFile: join(dir, `${h}.crt`), keyFile: join(dir, `${h}.key`) }]),
  );
  return { caFile: join(dir, "ca.pem"), servers };
}
