#!/usr/bin/env bash
# The mTLS part of the video script, checked in the cluster: the frontend's sidecar holds an
# Istio-issued workload certificate (SPIFFE identity of its ServiceAccount), a plaintext call from a
# pod without a sidecar is refused by the backend's sidecar (PeerAuthentication STRICT), and a
# caller inside the mesh with another identity is refused by the backend's AuthorizationPolicy.
# With --target local the same three checks run against npm start's local data plane.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/mtls-check.sh [--target k8s|local] [--dry-run] [options]

  1. certificates: istioctl proxy-config secret <frontend pod> -o json: the "default" workload
     certificate must name spiffe://<trust domain>/ns/<namespace>/sa/frontend, and a ROOTCA be there
  2. plaintext: a curl pod in a namespace without sidecar injection calls http://backend.<namespace>/version;
     STRICT mTLS must refuse it (connection reset, no answer)
  3. identity: the thumbnailer (in the mesh, but not the frontend) calls the backend; the
     AuthorizationPolicy must answer 403

  local: the same against npm start's local data plane (MESH_ADMIN_URL, default
  http://localhost:15000): the frontend sidecar's certificate from its /certs, a plaintext call
  to a backend pod's sidecar, the thumbnailer sidecar's call to the backend

Options:
  --target T        k8s (default) or local
  --namespace NS    the application's namespace (default mesh-demo)
  --probe-ns NS     namespace without sidecar injection for step 2 (default default)
  --image IMAGE     the curl image for step 2 (default curlimages/curl:8.11.1)
  --dry-run         print the commands and change nothing (no cluster needed)
  -h, --help        show this help

Environment:
  KUBECTL    kubectl command (default kubectl)     ISTIOCTL   istioctl command (default istioctl)

Exit status: 0 all three checks hold; 1 one does not (or a command failed); 2 bad usage or a missing
tool (kubectl, istioctl, jq).
EOF
}

fail() {
  echo "mtls-check.sh: $*" >&2
  exit 2
}

namespace=mesh-demo
probe_ns=default
target=k8s
image=curlimages/curl:8.11.1
dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    --namespace | --probe-ns | --image)
      if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a value"; fi
      case $1 in
        --namespace) namespace=$2 ;;
        --probe-ns) probe_ns=$2 ;;
        --image) image=$2 ;;
      esac
      shift 2
      ;;
    --target)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^(k8s|local)$ ]]; then fail "--target needs k8s or local"; fi
      target=$2
      shift 2
      ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
for name in "$namespace" "$probe_ns"; do
  [[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || fail "'$name' is not a Kubernetes namespace name"
done
if [ "$namespace" = "$probe_ns" ]; then fail "--probe-ns must differ from --namespace (it needs no sidecar)"; fi

read -r -a kubectl <<<"${KUBECTL:-kubectl}"
read -r -a istioctl <<<"${ISTIOCTL:-istioctl}"
probe_pod="mtls-probe-$$"
get_pod=("${kubectl[@]}" get pod -n "$namespace" -l app=frontend -o jsonpath='{.items[0].metadata.name}')
# What the thumbnailer runs to call the backend: Node's fetch, as the service itself would.
identity_call="fetch('http://backend/version').then(async (r) => console.log(r.status, await r.text()), (e) => { console.log('error', e.cause?.code ?? e.message); })"

indent() {
  local line
  while IFS= read -r line; do echo "   $line"; done <<<"$1"
}

failures=0
check() {
  if [ "$1" = pass ]; then echo "PASS: $2"; else echo "FAIL: $2"; failures=$((failures + 1)); fi
}

# Step 2's verdict on the answer to a plaintext call: under STRICT mTLS the backend gives none.
check_plaintext_refused() {
  indent "$1"
  if grep -q '"service"' <<<"$1"; then
    check fail "the backend answered a plaintext call: STRICT mTLS is not in force"
  else
    check pass "the plaintext call got no answer"
  fi
}

# The summary and the exit status: 1 when any check failed.
finish() {
  echo
  if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "mTLS and the authorization policy hold."
  exit 0
}

if [ "$target" = local ]; then
  admin=${MESH_ADMIN_URL:-http://localhost:15000}
  admin=${admin%/}
  if [ "$dry_run" -eq 1 ]; then
    echo "# 1. the frontend sidecar's certificates"
    echo "+ curl -s $admin/proxies/frontend/certs | jq '.certificates[0].cert_chain[0].subject_alt_names'"
    echo "#    expect spiffe://cluster.local/ns/$namespace/sa/frontend, and the local CA's root"
    echo "# 2. plaintext to a backend pod's sidecar (its inbound port from $admin/proxies)"
    echo "+ curl -sS -m 5 http://127.0.0.1:<inbound port>/version"
    echo "#    expect no answer (PeerAuthentication STRICT closes the connection)"
    echo "# 3. the thumbnailer's sidecar calling the backend"
    echo "+ curl -s http://127.0.0.1:<thumbnailer's outbound port for backend>/version"
    echo "#    expect 403 RBAC: access denied"
    exit 0
  fi
  for tool in curl jq; do command -v "$tool" >/dev/null || fail "$tool is required"; done
  proxies=$(curl -sS -m 10 -f "$admin/proxies") || { echo "mtls-check.sh: no local data plane at $admin (is npm start running?)" >&2; exit 1; }
  echo "1. certificates in the frontend's sidecar"
  certs=$(curl -sS -m 10 -f "$admin/proxies/frontend/certs") || exit 1
  san=$(jq -r '.certificates[0].cert_chain[0].subject_alt_names[0].uri // empty' <<<"$certs")
  jq -r '.certificates[0].cert_chain[0] | "   serial \(.serial_number), valid \(.valid_from) to \(.expiration_time)"' <<<"$certs"
  if command -v openssl >/dev/null; then
    indent "$(jq -r '.certificates[0].cert_chain[0].pem' <<<"$certs" | openssl x509 -noout -issuer -ext subjectAltName 2>/dev/null || true)"
  fi
  if [ "$san" = "spiffe://cluster.local/ns/$namespace/sa/frontend" ] && jq -e '.certificates[0].ca_cert[0].pem' <<<"$certs" >/dev/null; then
    check pass "workload certificate for $san, and the mesh's root CA"
  else
    check fail "the certificate names '${san:-nothing}', not spiffe://cluster.local/ns/$namespace/sa/frontend"
  fi

  echo
  inbound=$(jq -r '[.[] | select(.labels.app == "backend")][0] | "\(.name) \(.listeners.inbound)"' <<<"$proxies")
  echo "2. plaintext call to ${inbound% *}'s sidecar (127.0.0.1:${inbound#* })"
  check_plaintext_refused "$(curl -sS -m 5 "http://127.0.0.1:${inbound#* }/version" 2>&1 || true)"

  echo
  outbound=$(jq -r '.[] | select(.name == "thumbnailer") | .listeners.outbound.backend // empty' <<<"$proxies")
  echo "3. the thumbnailer's identity calling the backend (its sidecar, 127.0.0.1:$outbound)"
  answer=$(curl -sS -m 10 -w '\nHTTP %{http_code}' "http://127.0.0.1:$outbound/version" 2>&1 || true)
  indent "$answer"
  if grep -q '^HTTP 403' <<<"$answer" && grep -q 'RBAC: access denied' <<<"$answer"; then
    check pass "the AuthorizationPolicy refused the thumbnailer (403)"
  else
    check fail "expected 403 RBAC: access denied for a caller other than the frontend"
  fi
  finish
fi

if [ "$dry_run" -eq 1 ]; then
  echo "# 1. the frontend sidecar's certificates"
  echo "+ POD=\$(${kubectl[*]} get pod -n $namespace -l app=frontend -o jsonpath='{.items[0].metadata.name}')"
  echo "+ ${istioctl[*]} proxy-config secret \"\$POD\" -n $namespace -o json | jq '.dynamicActiveSecrets'"
  echo "#    expect a \"default\" certificate for spiffe://cluster.local/ns/$namespace/sa/frontend and a ROOTCA"
  echo "# 2. plaintext from a pod without a sidecar (namespace $probe_ns)"
  echo "+ ${kubectl[*]} run $probe_pod -n $probe_ns --rm -i --restart=Never --image=$image -- curl -sS -m 5 http://backend.$namespace/version"
  echo "#    expect no answer (connection reset by the backend's sidecar: PeerAuthentication STRICT)"
  echo "# 3. the thumbnailer's identity calling the backend"
  echo "+ ${kubectl[*]} exec -n $namespace deploy/thumbnailer -c thumbnailer -- node -e \"$identity_call\""
  echo "#    expect 403 (RBAC: access denied; only the frontend may call the backend)"
  exit 0
fi

for tool in "${kubectl[0]}" "${istioctl[0]}" jq; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done


echo "1. certificates in the frontend's sidecar"
pod=$("${get_pod[@]}") || exit 1
[ -n "$pod" ] || { echo "FAIL: no frontend pod in $namespace"; exit 1; }
secrets=$("${istioctl[@]}" proxy-config secret "$pod" -n "$namespace" -o json) || exit 1
jq -r '.dynamicActiveSecrets[]? | "   \(.name)  \(.versionInfo // "")"' <<<"$secrets"
chain=$(jq -r '[.dynamicActiveSecrets[]? | select(.name == "default")][0].secret.tlsCertificate.certificateChain.inlineBytes // empty' <<<"$secrets")
has_root=$(jq -r '[.dynamicActiveSecrets[]? | select(.name == "ROOTCA")] | length' <<<"$secrets")
if [ -z "$chain" ]; then
  check fail "the sidecar holds no \"default\" workload certificate"
elif command -v openssl >/dev/null; then
  details=$(base64 -d <<<"$chain" | openssl x509 -noout -subject -enddate -ext subjectAltName 2>/dev/null || true)
  indent "$details"
  if grep -q "URI:spiffe://.*/ns/$namespace/sa/frontend" <<<"$details" && [ "$has_root" -gt 0 ]; then
    check pass "workload certificate for the frontend's SPIFFE identity, and the mesh's root CA"
  else
    check fail "the certificate does not name .../ns/$namespace/sa/frontend, or the ROOTCA is missing"
  fi
else
  if [ "$has_root" -gt 0 ]; then
    check pass "a workload certificate and the mesh's root CA (install openssl to read the identity)"
  else
    check fail "no ROOTCA in the sidecar"
  fi
fi

echo
echo "2. plaintext call from $probe_ns (no sidecar) to backend.$namespace"
check_plaintext_refused "$("${kubectl[@]}" run "$probe_pod" -n "$probe_ns" --rm -i --restart=Never --quiet \
  --image="$image" -- curl -sS -m 5 "http://backend.$namespace/version" 2>&1 || true)"

echo
echo "3. the thumbnailer's identity calling the backend"
answer=$("${kubectl[@]}" exec -n "$namespace" deploy/thumbnailer -c thumbnailer -- node -e "$identity_call" 2>&1 || true)
indent "$answer"
if grep -q '^403' <<<"$answer"; then
  check pass "the AuthorizationPolicy refused the thumbnailer (403)"
else
  check fail "expected 403 for a caller other than the frontend"
fi

finish
