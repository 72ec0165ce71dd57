#!/usr/bin/env bash
# Moves the canary in docker compose: sets how the frontend's sidecar splits requests between
# backend-v1 and backend-v2, the twin of applying another VirtualService in Istio. The sidecar is
# recreated with BACKEND_V1_WEIGHT / BACKEND_V2_WEIGHT, which envoy/start.sh renders into the
# weighted_clusters of envoy/frontend.yaml; nothing else restarts.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/set-weights.sh [--dry-run] V1 V2

Routes V1% of the frontend's backend calls to backend-v1 and V2% to backend-v2 (whole numbers that add
up to 100), e.g. 90 10, 50 50, 0 100. Runs, from the repository root:

  BACKEND_V1_WEIGHT=V1 BACKEND_V2_WEIGHT=V2 docker compose up -d --no-deps --wait frontend-envoy

The weights last until frontend-envoy is recreated without them: a later plain `docker compose up`
goes back to 90/10 unless BACKEND_V1_WEIGHT and BACKEND_V2_WEIGHT are exported or set in .env.

Options:
  --dry-run   print the Envoy config the sidecar would run with, and change nothing
  -h, --help  show this help
EOF
}

fail() {
  echo "set-weights.sh: $*" >&2
  exit 2
}

dry_run=0
weights=()
for arg in "$@"; do
  case $arg in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    -*) fail "unknown option '$arg' (see --help)" ;;
    *) weights+=("$arg") ;;
  esac
done

[ ${#weights[@]} -eq 2 ] || fail "expected two weights, V1 and V2 (see --help)"
for w in "${weights[@]}"; do
  [[ $w =~ ^(0|[1-9][0-9]*)$ && $w -le 100 ]] || fail "'$w' is not a whole number from 0 to 100"
done
v1=${weights[0]}
v2=${weights[1]}
[ $((v1 + v2)) -eq 100 ] || fail "weights must add up to 100, got $v1 + $v2 = $((v1 + v2))"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "$dry_run" -eq 1 ]; then
  BACKEND_V1_WEIGHT=$v1 BACKEND_V2_WEIGHT=$v2 sh envoy/start.sh --render envoy/frontend.yaml
  exit 0
fi

BACKEND_V1_WEIGHT=$v1 BACKEND_V2_WEIGHT=$v2 docker compose up -d --no-deps --wait frontend-envoy
echo "frontend-envoy now sends $v1% of backend calls to backend-v1 and $v2% to backend-v2."
