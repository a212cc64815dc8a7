#!/bin/sh
# loket-init (runs as root, once per `docker compose up`): generates the appservice tokens the
# first time (kept in the secrets volume, readable by Loket's user only) and writes the
# registration that Synapse loads (readable by Synapse's user only). Later runs keep the tokens.
set -eu
umask 077
for token in as_token hs_token; do
  if [ ! -s "/secrets/$token" ]; then
    node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex'))" > "/secrets/$token"
    echo "generated /secrets/$token"
  fi
done
chown 10001:10001 /secrets/as_token /secrets/hs_token
node /app/bin/loket.js config check -c /etc/loket/config.yaml
node /app/bin/loket.js registration -c /etc/loket/config.yaml -o /registration/loket-registration.yaml
# Synapse runs as uid/gid 991 in its official image.
chown 991:991 /registration/loket-registration.yaml
