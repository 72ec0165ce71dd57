#!/usr/bin/env bash
# Moves the canary one stage: 90/10 -> 50/50 -> 0/100 between backend v1 and v2, or rolls it back to
# 100/0. In Kubernetes it
# applies only the backend's VirtualService of the stage's overlay (the objects labelled
# traffic-split=backend), leaving the running Deployments alone; in docker compose
# scripts/set-weights.sh renders the stage's sidecar configs and recreates the sidecars that changed;
# under npm start it asks the local data plane to take the stage's overlay, as istiod would push it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/promote.sh [--target k8s|compose|local] [--dry-run] [--verify] STAGE

Sends STAGE percent of the frontend's backend calls to v2 (2.0.0), the rest to v1 (1.0.0):

  STAGE   10 (90/10), 50 (50/50) or 100 (0/100); 0 (100/0) rolls the canary back, v2 keeps
          running; canary-0, canary-10, canary-50, canary-100 also work

  k8s      kubectl kustomize k8s/overlays/canary-STAGE | kubectl apply -l traffic-split=backend -f -
  compose  scripts/set-weights.sh --canary STAGE (renders the stage's sidecar configs into envoy/stage/)
  local    curl -X POST $MESH_ADMIN_URL/stage -d canary-STAGE   (npm start's local data plane)

Options:
  --target T   k8s (default), compose or local
  --dry-run    print what would be applied and change nothing: for k8s the rendered VirtualService,
               for compose what changes in the sidecar configs (diff -u)
  --verify     afterwards, run scripts/canary.sh --expect V1/V2 against BASE_URL
  -h, --help   show this help

Environment:
  KUBECTL         the kubectl command to use (default kubectl), e.g. "kubectl --context kind-mesh-demo"
  MESH_ADMIN_URL  the local data plane's admin endpoint (default http://localhost:15000)
  BASE_URL        for --verify (default http://localhost:8080)

Exit status: 0 applied (and, with --verify, the split fits); 1 kubectl, docker, the data plane or
the check failed (the data plane names the file and field it refused);
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
      if [ $# -lt 2 ]; then fail "--target needs k8s, compose or local"; fi
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
  k8s | compose | local) ;;
  *) fail "--target: '$target' is not k8s, compose or local" ;;
esac
if [ -z "$stage" ]; then fail "which STAGE: 10, 50, 100, or 0 to roll back? (see --help)"; fi
stage=${stage#canary-}
case $stage in
  0) v1=100; v2=0 ;;
  10) v1=90; v2=10 ;;
  50) v1=50; v2=50 ;;
  100) v1=0; v2=100 ;;
  *) fail "STAGE '$stage' is not 0, 10, 50 or 100" ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "$target" = local ]; then
  admin=${MESH_ADMIN_URL:-http://localhost:15000}
  admin=${admin%/}
  echo "# curl -sS -X POST $admin/stage -d canary-$stage"
  if [ "$dry_run" -eq 1 ]; then exit 0; fi
  command -v curl >/dev/null || fail "curl is required"
  if ! answer=$(curl -sS -m 10 -w '\n%{http_code}' -X POST "$admin/stage" -d "canary-$stage" 2>&1); then
    echo "promote.sh: the local data plane did not answer at $admin (is npm start running?): ${answer%%$'\n'*}" >&2
    exit 1
  fi
  status=${answer##*$'\n'}
  body=${answer%$'\n'*}
  if [ "$status" != 200 ]; then
    echo "promote.sh: the local data plane refused canary-$stage (HTTP $status):" >&2
    if command -v jq >/dev/null; then
      jq -r '.refused.problems[]? | "  \(.file): \(.field): \(.message)"' <<<"$body" >&2 || echo "$body" >&2
    else
      echo "$body" >&2
    fi
    exit 1
  fi
  echo "backend VirtualService now sends $v1% of calls to v1 (1.0.0) and $v2% to v2 (2.0.0) (local data plane)."
elif [ "$target" = compose ]; then
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
