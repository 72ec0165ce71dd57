#!/usr/bin/env bash
# Moves the canary one stage: 90/10 -> 50/50 -> 0/100 between backend v1 and v2. In Kubernetes it
# applies only the backend's VirtualService of the stage's overlay (the objects labelled
# traffic-split=backend), leaving the running Deployments alone; in docker compose
# scripts/set-weights.sh renders the stage's sidecar configs and recreates the sidecars that changed.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/promote.sh [--target k8s|compose] [--dry-run] [--verify] STAGE

Sends STAGE percent of the frontend's backend calls to v2 (2.0.0), the rest to v1 (1.0.0):

  STAGE   10 (90/10), 50 (50/50) or 100 (0/100); canary-10, canary-50, canary-100 also work

  k8s      kubectl kustomize k8s/overlays/canary-STAGE | kubectl apply -l traffic-split=backend -f -
  compose  scripts/set-weights.sh --canary STAGE (renders the stage's sidecar configs into envoy/stage/)

Options:
  --target T   k8s (default) or compose
  --dry-run    print what would be applied and change nothing: for k8s the rendered VirtualService,
               for compose what changes in the sidecar configs (diff -u)
  --verify     afterwards, run scripts/canary.sh --expect V1/V2 against BASE_URL
  -h, --help   show this help

Environment:
  KUBECTL    the kubectl command to use (default kubectl), e.g. "kubectl --context kind-mesh-demo"
  BASE_URL   for --verify (default http://localhost:8080)

Exit status: 0 applied (and, with --verify, the split fits); 1 kubectl, docker or the check failed;
2 bad usage or a missing tool.
EOF
}

fail() {
  echo "promote.sh: $*" >&2
  exit 2
}

target=k8s
dry_run=0
verify=0
stage=

while [ $# -gt 0 ]; do
  case $1 in
    --target)
      if [ $# -lt 2 ]; then fail "--target needs k8s or compose"; fi
      target=$2
      shift 2
      ;;
    --dry-run) dry_run=1; shift ;;
    --verify) verify=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) fail "unknown option '$1' (see --help)" ;;
    *)
      if [ -n "$stage" ]; then fail "one STAGE only, got '$stage' and '$1'"; fi
      stage=$1
      shift
      ;;
  esac
done

case $target in
  k8s | compose) ;;
  *) fail "--target: '$target' is not k8s or compose" ;;
esac
if [ -z "$stage" ]; then fail "which STAGE: 10, 50 or 100? (see --help)"; fi
stage=${stage#canary-}
case $stage in
  10) v1=90; v2=10 ;;
  50) v1=50; v2=50 ;;
  100) v1=0; v2=100 ;;
  *) fail "STAGE '$stage' is not 10, 50 or 100" ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "$target" = compose ]; then
  if [ "$dry_run" -eq 1 ]; then
    exec scripts/set-weights.sh --dry-run --canary "$stage"
  fi
  scripts/set-weights.sh --canary "$stage" || exit 1
else
  read -r -a kubectl <<<"${KUBECTL:-kubectl}"
  command -v "${kubectl[0]}" >/dev/null || fail "${kubectl[0]} is required"
  overlay="k8s/overlays/canary-$stage"
  [ -d "$overlay" ] || fail "$overlay does not exist"
  rendered=$("${kubectl[@]}" kustomize "$overlay") || exit 1
  if [ "$dry_run" -eq 1 ]; then
    echo "# Would run: ${kubectl[*]} kustomize $overlay | ${kubectl[*]} apply -l traffic-split=backend -f -"
    echo "# v1 (1.0.0) $v1%, v2 (2.0.0) $v2%. Objects labelled traffic-split=backend in the overlay:"
    # The documents of the rendered stream whose labels include traffic-split: backend.
    awk '
      function flush() { if (doc != "" && doc ~ /\n[ ]+traffic-split: backend\n/) printf "---\n%s", doc; doc = "" }
      /^---$/ { flush(); next }
      { doc = doc $0 "\n" }
      END { flush() }
    ' <<<"$rendered"
    exit 0
  fi
  "${kubectl[@]}" apply -l traffic-split=backend -f - <<<"$rendered" || exit 1
  echo "backend VirtualService now sends $v1% of calls to v1 (1.0.0) and $v2% to v2 (2.0.0)."
fi

if [ "$verify" -eq 1 ]; then
  # Envoy picks up the new routes within a moment; the check starts after a short pause.
  sleep 2
  exec scripts/canary.sh --expect "$v1/$v2"
fi
