#!/usr/bin/env bash
# The circuit-breaker demo of the video script, end to end: make backend v2 fail every API call
# (the backend's own fault injection; its health probes stay green, so only the mesh can react),
# drive load through the frontend, count the answers, and read the frontend sidecar's
# outlier-detection statistics. Then put things back.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/circuit-breaker.sh [--target k8s|compose] [options]

  1. route: k8s: the canary-50 stage (or, with --all-pods, one pool of all four backend pods);
     compose: the stage the sidecars run (canary-10 unless promoted)
  2. fault on: backend v2 answers every API call with 503
       k8s:     kubectl -n mesh-demo set env deployment/backend-v2 FAULT_ERROR_RATE=1
       compose: BACKEND_V2_FAULT_ERROR_RATE=1 docker compose up -d --wait backend-v2
  3. load: N requests to $BASE_URL/api/version, status codes counted
  4. ejections: the frontend sidecar's outlier_detection statistics for the backend
  5. restore: fault off (and, in k8s, the canary stage given by --restore-stage)

Options:
  --target T          k8s (default) or compose
  -n, --requests N    requests in step 3 (default 100, at most 10000)
  --all-pods          k8s: apply k8s/demos/virtual-service-backend-all-pods.yaml instead of canary-50,
                      so the failing pod is ejected from a shared pool and callers see 200s
  --restore-stage S   k8s: canary stage to go back to at the end (10, 50 or 100; default 10)
  --keep              leave the fault on at the end
  --dry-run           print the commands and change nothing (no cluster or Docker needed)
  -h, --help          show this help

Environment:
  BASE_URL   the frontend (default http://localhost:8080: skaffold's port-forward, or compose)
  KUBECTL    kubectl command (default kubectl)      NAMESPACE  k8s namespace (default mesh-demo)
  COMPOSE    compose command (default docker compose)

Exit status: 0 the demo ran; 1 a command failed; 2 bad usage or a missing tool.
EOF
}

fail() {
  echo "circuit-breaker.sh: $*" >&2
  exit 2
}

target=k8s
requests=100
all_pods=0
restore_stage=10
keep=0
dry_run=0

while [ $# -gt 0 ]; do
  case $1 in
    --target)
      if [ $# -lt 2 ]; then fail "--target needs k8s or compose"; fi
      target=$2
      shift 2
      ;;
    -n | --requests)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^[1-9][0-9]*$ ]] || [ "$2" -gt 10000 ]; then
        fail "$1 needs a whole number from 1 to 10000"
      fi
      requests=$2
      shift 2
      ;;
    --all-pods) all_pods=1; shift ;;
    --restore-stage)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^(10|50|100)$ ]]; then fail "--restore-stage needs 10, 50 or 100"; fi
      restore_stage=$2
      shift 2
      ;;
    --keep) keep=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
case $target in
  k8s | compose) ;;
  *) fail "--target: '$target' is not k8s or compose" ;;
esac
if [ "$all_pods" -eq 1 ] && [ "$target" = compose ]; then
  fail "--all-pods is for k8s: compose ejects v2's single container already (always_eject_one_host)"
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
base_url=${BASE_URL:-http://localhost:8080}
base_url=${base_url%/}
namespace=${NAMESPACE:-mesh-demo}
read -r -a kubectl <<<"${KUBECTL:-kubectl}"
read -r -a compose <<<"${COMPOSE:-docker compose}"

if [ "$dry_run" -eq 0 ]; then
  command -v curl >/dev/null || fail "curl is required"
  if [ "$target" = k8s ]; then
    command -v "${kubectl[0]}" >/dev/null || fail "${kubectl[0]} is required"
  else
    command -v "${compose[0]}" >/dev/null || fail "${compose[0]} is required"
  fi
fi

# show ARG...: the command as one would type it, quoting what the shell would otherwise split or expand.
show() {
  local out=+ arg
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
      out+=" $arg"
    elif [[ $arg == *"'"* ]]; then
      out+=" $(printf '%q' "$arg")"
    else
      out+=" '$arg'"
    fi
  done
  echo "$out"
}

# run DESCRIPTION COMMAND...: prints the command; runs it unless --dry-run.
run() {
  local what=$1
  shift
  echo "# $what"
  show "$@"
  if [ "$dry_run" -eq 0 ]; then "$@" || { echo "circuit-breaker.sh: '$*' failed" >&2; exit 1; }; fi
}

# The stage's backend VirtualService only, as scripts/promote.sh and docs/kubernetes.md apply it.
apply_stage() {
  local stage=$1
  echo "# route: canary-$stage"
  echo "+ ${kubectl[*]} kustomize k8s/overlays/canary-$stage | ${kubectl[*]} apply -l traffic-split=backend -f -"
  if [ "$dry_run" -eq 0 ]; then
    "${kubectl[@]}" kustomize "k8s/overlays/canary-$stage" | "${kubectl[@]}" apply -l traffic-split=backend -f - ||
      { echo "circuit-breaker.sh: applying canary-$stage failed" >&2; exit 1; }
  fi
}

drive_load() {
  echo "# load: $requests requests to $base_url/api/version, status codes counted"
  # shellcheck disable=SC2016 # the loop is printed for the reader, not run here
  printf '+ for i in $(seq 1 %s); do curl -s -o /dev/null -w %s %s/api/version; done | sort | uniq -c\n' \
    "$requests" "'%{http_code}\n'" "$base_url"
  if [ "$dry_run" -eq 0 ]; then
    for ((i = 1; i <= requests; i++)); do
      curl -s -m 10 -o /dev/null -w '%{http_code}\n' "$base_url/api/version" || true
    done | sort | uniq -c
  fi
}

ejection_stats() {
  if [ "$target" = compose ]; then
    # The v2 subset's cluster has Istio's name, outbound|80|v2|backend.mesh-demo.svc.cluster.local (the
    # stats filter is a regular expression: '.' stands for '|').
    run 'outlier detection at the frontend sidecar (Envoy admin, inside the container)' \
      "${compose[@]}" exec -T frontend-envoy bash /etc/envoy/admin.sh 'stats?filter=outbound.80.v2.backend.*outlier_detection'
    echo "# the v2 host, flagged failed_outlier_check while it is ejected"
    echo "+ ${compose[*]} exec -T frontend-envoy bash /etc/envoy/admin.sh clusters | grep 'outbound|80|v2|backend.*health_flags'"
    if [ "$dry_run" -eq 0 ]; then
      "${compose[@]}" exec -T frontend-envoy bash /etc/envoy/admin.sh clusters | grep 'outbound|80|v2|backend.*health_flags' || true
    fi
    return
  fi
  echo "# the frontend's sidecar: outlier detection for the backend cluster"
  echo "+ POD=\$(${kubectl[*]} get pod -n $namespace -l app=frontend -o jsonpath='{.items[0].metadata.name}')"
  echo "+ ${kubectl[*]} exec -n $namespace \"\$POD\" -c istio-proxy -- pilot-agent request GET stats | grep 'outbound|80||backend' | grep outlier_detection"
  if [ "$dry_run" -eq 0 ]; then
    local pod
    pod=$("${kubectl[@]}" get pod -n "$namespace" -l app=frontend -o jsonpath='{.items[0].metadata.name}') || exit 1
    "${kubectl[@]}" exec -n "$namespace" "$pod" -c istio-proxy -- pilot-agent request GET stats |
      grep 'outbound|80||backend' | grep outlier_detection || echo "(no outlier_detection statistics yet)"
    if command -v istioctl >/dev/null; then
      istioctl proxy-config endpoints "$pod" -n "$namespace" \
        --cluster "outbound|80||backend.$namespace.svc.cluster.local" || true
    fi
  fi
}

echo "circuit breaker demo ($target)"
if [ "$target" = k8s ]; then
  if [ "$all_pods" -eq 1 ]; then
    run 'route: one pool of all backend pods, so outlier detection can eject the failing one' \
      "${kubectl[@]}" apply -f k8s/demos/virtual-service-backend-all-pods.yaml
  else
    apply_stage 50
  fi
  run 'fault on: backend v2 fails every API call with 503 (health probes stay green)' \
    "${kubectl[@]}" -n "$namespace" set env deployment/backend-v2 FAULT_ERROR_RATE=1
  run 'wait for the new v2 pod' "${kubectl[@]}" -n "$namespace" rollout status deployment/backend-v2 --timeout=180s
else
  echo "# fault on: backend v2 fails every API call with 503 (its health check stays green)"
  echo "+ BACKEND_V2_FAULT_ERROR_RATE=1 ${compose[*]} up -d --wait backend-v2"
  if [ "$dry_run" -eq 0 ]; then
    BACKEND_V2_FAULT_ERROR_RATE=1 "${compose[@]}" up -d --wait backend-v2 || exit 1
  fi
fi

drive_load
ejection_stats

if [ "$keep" -eq 1 ]; then
  echo "# --keep: the fault stays on"
  exit 0
fi
if [ "$target" = k8s ]; then
  run 'fault off' "${kubectl[@]}" -n "$namespace" set env deployment/backend-v2 FAULT_ERROR_RATE- FAULT_DELAY_MS-
  apply_stage "$restore_stage"
else
  run 'fault off: v2 recreated without the variable' "${compose[@]}" up -d --wait backend-v2
fi
