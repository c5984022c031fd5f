#!/usr/bin/env bash
# Makes the certificates examples/bosh/gannet.conf refers to, with the openssl CLI:
# a CA, the NATS server certificate and one client certificate per BOSH identity
# (director, health monitor, two agents), as BOSH's director issues them.
#
# Usage: examples/bosh/make-certs.sh [OUT_DIR [NAME=CN ...]]
#   OUT_DIR   default: examples/bosh/certs
#   NAME=CN   one more client certificate, NAME.pem and NAME-key.pem, for CN
#             (e.g. bench=default.bench.bosh-internal)
#
# BOSH's subjects are "C=USA, O=Cloud Foundry, CN=<cn>". The openssl CLI refuses a
# three-letter country (countryName must be 2 characters), so these use C=US; the
# fork-style certificate_clients config only reads the CN, so nothing else changes.
# (An upstream verify_and_map setup maps the whole DN: write users with C=US then.)
set -euo pipefail

out="${1:-$(dirname "$0")/certs}"
(($#)) && shift
mkdir -p "$out"
cd "$out"

# Agent ids: a BOSH agent's CN is <agent id>.agent.bosh-internal.
AGENT_1=0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e
AGENT_2=9b1c2d3e-2222-4c5d-8e9f-0a1b2c3d4e5f
DAYS=730   # BOSH issues agent certificates for 2 years

subject() { printf '/C=US/O=Cloud Foundry/CN=%s' "$1"; }

cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF

# RSA 3072, as BOSH's director generates for agents.
new_key() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1-key.pem" 2>/dev/null
    chmod 600 "$1-key.pem"
}

# issue NAME CN server|client
issue() {
    new_key "$1"
    openssl req -new -config openssl.cnf -key "$1-key.pem" -subj "$(subject "$2")" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem \
        -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -sha256 \
        -extfile openssl.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
    echo "  $1.pem  CN=$2"
}

echo "writing certificates to $out"
new_key ca
openssl req -x509 -new -config openssl.cnf -extensions ca -key ca-key.pem \
    -subj "$(subject bosh-nats-example-ca)" -days 3650 -sha256 -out ca.pem
echo "  ca.pem  CN=bosh-nats-example-ca (ca-key.pem signs more agents; keep it secret)"
issue server   default.nats.bosh-internal            server
issue director default.director.bosh-internal        client
issue hm       default.hm.bosh-internal              client
issue agent-1  "$AGENT_1.agent.bosh-internal"        client
issue agent-2  "$AGENT_2.agent.bosh-internal"        client
for extra in "$@"; do
    issue "${extra%%=*}" "${extra#*=}" client
done
rm -f openssl.cnf
