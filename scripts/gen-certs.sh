#!/usr/bin/env bash
# Development PKI for the Envoy sidecars of docker-compose.yml: a CA and one certificate per mesh
# identity (service account), with the SPIFFE ID Istio gives the workload,
# spiffe://cluster.local/ns/mesh-demo/sa/<service account>: the identities the rendered sidecar configs
# expect of their peers and the AuthorizationPolicies name. Dev only: the keys are unencrypted and
# readable by the containers' users; envoy/certs/ is gitignored.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/gen-certs.sh [--out DIR] [--days N] [--force]

Creates a development CA and one certificate per mesh identity for the sidecars in docker-compose.yml:

  identity      SAN URI                                             SAN DNS (the names peers dial)
  frontend      spiffe://cluster.local/ns/mesh-demo/sa/frontend     frontend-envoy
  backend       spiffe://cluster.local/ns/mesh-demo/sa/backend      backend-v1-envoy, backend-v2-envoy
  thumbnailer   spiffe://cluster.local/ns/mesh-demo/sa/thumbnailer  thumbnailer-envoy
  minio         spiffe://cluster.local/ns/mesh-demo/sa/minio        minio  (client certificate of its webhook)

Files: ca.crt, ca.key and <identity>.crt, <identity>.key (PEM, EC P-256). Every certificate serves
for both ends of mutual TLS (serverAuth and clientAuth).

Options:
  --out DIR   where to write (default: envoy/certs beside this script's folder, where compose mounts them)
  --days N    validity of the identity certificates in days (default: 365; the CA gets 10 years)
  --force     replace existing files (otherwise existing certificates are kept and nothing is written)
  -h, --help  show this help
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/envoy/certs"
days=365
force=0

while [ $# -gt 0 ]; do
  case $1 in
    --out)
      [ $# -ge 2 ] || { echo "gen-certs.sh: --out needs a directory" >&2; exit 2; }
      out=$2
      shift 2
      ;;
    --days)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "gen-certs.sh: --days needs a positive whole number" >&2; exit 2; }
      days=$2
      shift 2
      ;;
    --force) force=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gen-certs.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "gen-certs.sh: openssl is required" >&2; exit 1; }

# Istio's default trust domain and the namespace of k8s/base.
trust_domain=cluster.local
namespace=mesh-demo
# identity:DNS names, comma separated
identities=(
  'frontend:frontend-envoy'
  'backend:backend-v1-envoy,backend-v2-envoy'
  'thumbnailer:thumbnailer-envoy'
  'minio:minio'
)

files=(ca.crt ca.key)
for entry in "${identities[@]}"; do files+=("${entry%%:*}.crt" "${entry%%:*}.key"); done

mkdir -p "$out"
if [ "$force" -eq 0 ]; then
  present=0
  for f in "${files[@]}"; do [ -e "$out/$f" ] && present=$((present + 1)); done
  if [ "$present" -eq "${#files[@]}" ]; then
    echo "Certificates already in $out (use --force to replace them)."
    exit 0
  fi
  if [ "$present" -gt 0 ]; then
    echo "gen-certs.sh: $out holds only some of the certificates; run again with --force" >&2
    exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A config file rather than -addext, so LibreSSL (macOS) works as well as OpenSSL.
cat >"$work/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
O = mesh-demo development
CN = mesh-demo development CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

new_key() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null
}

serial() {
  echo "0x$(openssl rand -hex 16)"
}

umask 077
new_key "$work/ca.key"
openssl req -new -x509 -config "$work/ca.cnf" -extensions ca -key "$work/ca.key" -sha256 \
  -days 3650 -set_serial "$(serial)" -out "$work/ca.crt"

for entry in "${identities[@]}"; do
  id=${entry%%:*}
  san="URI:spiffe://$trust_domain/ns/$namespace/sa/$id"
  IFS=, read -ra names <<<"${entry#*:}"
  for name in "${names[@]}"; do san="$san, DNS:$name"; done
  cat >"$work/$id.cnf" <<EOF
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = $san
EOF
  new_key "$work/$id.key"
  openssl req -new -key "$work/$id.key" -subj "/O=mesh-demo development/CN=$id" -out "$work/$id.csr"
  openssl x509 -req -in "$work/$id.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "$(serial)" \
    -days "$days" -sha256 -extfile "$work/$id.cnf" -extensions leaf -out "$work/$id.crt" 2>/dev/null
  echo "  $id: $san"
done

# Certificates are public. Identity keys must be readable by the sidecars' user (envoy runs unprivileged
# with a uid of its own image), so they are world-readable like everything else in this dev-only folder;
# the CA key never leaves the host and stays private.
chmod 0644 "$work"/*.crt "$work"/*.key
chmod 0600 "$work/ca.key"
for f in "${files[@]}"; do mv -f "$work/$f" "$out/$f"; done
echo "Wrote a dev CA and ${#identities[@]} identities to $out (the CA is valid 10 years, identities $days days)."
