#!/usr/bin/env bash
# Makes a throwaway CA and, signed by it, the broker's certificate (for 127.0.0.1 only, so a client that
# connects by another name fails hostname verification) and a client certificate for mutual TLS.
# Usage: certs.sh <dir>. Keys are unencrypted PKCS#8 PEM, readable by the owner only; skipped when present.
set -euo pipefail
out="${1:?usage: certs.sh <dir>}"
[[ -f "$out/ca.pem" && -f "$out/broker.pem" && -f "$out/client.pem" ]] && exit 0
command -v openssl >/dev/null || { echo "certs.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
umask 077
mkdir -p "$out"
cd "$out"
ssl() { openssl "$@" 2>/dev/null; }

ssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=tracehouse test CA" \
  -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

issue() { # name subject extensions
  ssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" >"$1.ext"
  ssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -sha256 \
    -extfile "$1.ext" -out "$1.crt"
  cat "$1.key" "$1.crt" >"$1.pem"
  rm -f "$1.csr" "$1.ext"
}
issue broker "/CN=127.0.0.1" "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
issue client "/CN=tracehouse-client" "extendedKeyUsage=clientAuth"
rm -f ca.key ca.srl
chmod 644 ca.pem
