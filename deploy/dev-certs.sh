#!/usr/bin/env bash
# Development certificates for the worker server's TLS/mTLS (a CA, a server and a client pair) with openssl.
# For trying things out and for the tests; in a cluster use your PKI or cert-manager instead.
#
#   deploy/dev-certs.sh [--days N] [--ca-dir DIR] OUT_DIR NAME_OR_IP...
#
# Writes OUT_DIR/ca.{crt,key} (unless --ca-dir names an existing CA to sign with),
# OUT_DIR/server.{crt,key} valid for every NAME_OR_IP given (subjectAltName), and
# OUT_DIR/client.{crt,key} (for mTLS: the host's certificate). --days defaults to 365;
# a negative number makes certificates that have already expired (for tests).
set -euo pipefail

days=365
ca_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --days) days="$2"; shift 2 ;;
    --ca-dir) ca_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ $# -lt 2 ]]; then
  echo "usage: $0 [--days N] [--ca-dir DIR] OUT_DIR NAME_OR_IP..." >&2
  exit 2
fi
out="$1"; shift
mkdir -p "$out"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ -z "$ca_dir" ]]; then
  ca_dir="$out"
  if [[ ! -f "$ca_dir/ca.key" ]]; then
    newkey "$ca_dir/ca.key"
    openssl req -x509 -new -key "$ca_dir/ca.key" -out "$ca_dir/ca.crt" -days 3650 \
      -subj "/CN=snakepit-dev-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  fi
elif [[ "$ca_dir" != "$out" ]]; then
  cp "$ca_dir/ca.crt" "$out/ca.crt"
fi

sans=()
for name in "$@"; do
  if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then sans+=("IP:$name"); else sans+=("DNS:$name"); fi
done
san_line="$(IFS=,; echo "${sans[*]}")"

# sign NAME CN EXTENSIONS: NAME.key, NAME.crt signed by the CA
sign() {
  local name="$1" cn="$2" ext="$3" extfile
  extfile="$(mktemp)"
  printf '%s\n' "$ext" > "$extfile"
  newkey "$out/$name.key"
  openssl req -new -key "$out/$name.key" -subj "/CN=$cn" 2>/dev/null |
    openssl x509 -req -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
      -days "$days" -extfile "$extfile" -out "$out/$name.crt" 2>/dev/null
  rm -f "$extfile"
}

sign server "$1" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san_line"
sign client snakepit-host "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
echo "$out: ca.crt, server.{crt,key} for $san_line, client.{crt,key} (valid $days days)"
