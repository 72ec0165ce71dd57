#!/usr/bin/env bash
# Moves the canary in docker compose, the twin of applying a stage's VirtualService in Istio: renders
# the sidecar configs of that stage (k8s/istio plus the overlay k8s/overlays/<stage>) with the
# project's renderer, as istiod would push them, and recreates only the sidecars whose config changed.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/set-weights.sh [--dry-run] V1 V2
       scripts/set-weights.sh [--dry-run] --canary STAGE

Moves docker compose to the canary stage whose overlay (k8s/overlays/canary-*) sends V1% of the backend
calls to v1 and V2% to v2 (today 90 10, 50 50 and 0 100), or to k8s/overlays/canary-STAGE. The weights
live in the overlays only; this picks one. It renders that stage's sidecar configs into envoy/stage/

  npm run -s render-envoy -- --stage canary-STAGE --out envoy/stage

and recreates the sidecars whose config changed (the frontend's, when only the weights move):

  ENVOY_CONFIG_DIR=./envoy/stage docker compose up -d --no-deps --force-recreate --wait frontend-envoy

The stage lasts until those sidecars are recreated without ENVOY_CONFIG_DIR: a later plain
`docker compose up` goes back to the configs in envoy/ (canary-10) unless ENVOY_CONFIG_DIR=./envoy/stage
is exported or set in .env. Rendering needs Node.js and `npm ci` (the renderer is packages/mesh).

Options:
  --canary STAGE  the stage k8s/overlays/canary-STAGE, e.g. 50
  --dry-run       print the stage, what changes in each sidecar config (diff -u) and the command to
                  run; change nothing
  -h, --help      show this help

Exit status: 0 done; 1 the render or docker compose failed; 2 bad usage.
EOF
}

fail() {
  echo "set-weights.sh: $*" >&2
  exit 2
}

dry_run=0
canary=
weights=()
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1; shift ;;
    --canary)
      [ $# -ge 2 ] || fail "--canary needs a stage, e.g. 50"
      canary=$2
      shift 2
      ;;
    -*) fail "unknown option '$1' (see --help)" ;;
    *) weights+=("$1"); shift ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
render() { npm run -s render-envoy -- "$@"; }

if [ -n "$canary" ]; then
  [ ${#weights[@]} -eq 0 ] || fail "give --canary STAGE or V1 V2, not both"
  [[ $canary =~ ^[0-9]+$ ]] || fail "--canary: '$canary' is not a stage such as 10, 50 or 100"
  stage=canary-$canary
  [ -d "k8s/overlays/$stage" ] || fail "k8s/overlays/$stage does not exist"
else
  [ ${#weights[@]} -eq 2 ] || fail "expected two weights, V1 and V2, or --canary STAGE (see --help)"
  for w in "${weights[@]}"; do
    [[ $w =~ ^(0|[1-9][0-9]*)$ && $w -le 100 ]] || fail "'$w' is not a whole number from 0 to 100"
  done
  v1=${weights[0]}
  v2=${weights[1]}
  [ $((v1 + v2)) -eq 100 ] || fail "weights must add up to 100, got $v1 + $v2 = $((v1 + v2))"
  # One line per stage, e.g. "canary-10 v1=90 v2=10".
  splits=$(render --splits backend) || exit 1
  stage=$(awk -v want="v1=$v1 v2=$v2" '{ name = $1; $1 = ""; sub(/^ /, ""); if ($0 == want) { print name; exit } }' <<<"$splits")
  [ -n "$stage" ] || fail "no stage under k8s/overlays/ splits the backend $v1/$v2; the stages: $(tr '\n' ';' <<<"$splits" | sed 's/;$//; s/;/; /g')"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render --stage "$stage" --out "$work" >/dev/null || exit 1

# What the sidecars run now: the last stage set here, else the committed configs.
live=envoy/stage
running=envoy
[ -d "$live" ] && running=$live
# A config changed when its YAML did; the header comment names the stage and does not count.
same_config() { [ -f "$2" ] && cmp -s <(grep -v '^#' "$1") <(grep -v '^#' "$2"); }
changed=()
for file in "$work"/*.yaml; do
  name=$(basename "$file" .yaml)
  same_config "$file" "$running/$name.yaml" || changed+=("$name")
done
if [ ${#changed[@]} -eq 0 ]; then
  if [ "$dry_run" -eq 1 ]; then
    echo "# stage $stage (k8s/overlays/$stage): no sidecar config changes, nothing to recreate"
  else
    mkdir -p "$live"
    cp "$work"/*.yaml "$live"/
    echo "The sidecars already run $stage."
  fi
  exit 0
fi
sidecars=()
for name in "${changed[@]}"; do sidecars+=("$name-envoy"); done
command=(docker compose up -d --no-deps --force-recreate --wait "${sidecars[@]}")

if [ "$dry_run" -eq 1 ]; then
  echo "# stage $stage (k8s/overlays/$stage), compared with the configs in $running/"
  for name in "${changed[@]}"; do
    diff -u --label "$running/$name.yaml" --label "$live/$name.yaml" "$running/$name.yaml" "$work/$name.yaml" || true
  done
  echo "# would run: ENVOY_CONFIG_DIR=./$live ${command[*]}"
  exit 0
fi

mkdir -p "$live"
cp "$work"/*.yaml "$live"/
if ! ENVOY_CONFIG_DIR=./$live "${command[@]}"; then
  # Forget what did not start, so the next run recreates those sidecars again.
  for name in "${changed[@]}"; do rm -f "$live/$name.yaml"; done
  exit 1
fi
echo "docker compose now runs $stage (k8s/overlays/$stage): recreated ${sidecars[*]}."
