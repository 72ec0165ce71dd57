#!/usr/bin/env bash
# The circuit-breaker demo of the video script, end to end: make backend v2 fail every API call
# (the backend's own fault injection; its health probes stay green, so only the mesh can react),
# drive load through the frontend, count the answers, and read the frontend sidecar's
# outlier-detection statistics. Then put things back. Under npm start (--target local) the fault is
# the video's own: the v2 pod's process is stopped with kill -STOP, and the local data plane ejects it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/circuit-breaker.sh [--target k8s|compose|local] [options]

  1. route: k8s: the canary-50 stage (or, with --all-pods, one pool of all four backend pods);
     compose: the stage the sidecars run (canary-10 unless promoted)
     local:   k8s/demos/virtual-service-backend-all-pods.yaml applied to npm start's data plane
  2. fault on: backend v2 answers every API call with 503
       k8s:     kubectl -n mesh-demo set env deployment/backend-v2 FAULT_ERROR_RATE=1
       compose: BACKEND_V2_FAULT_ERROR_RATE=1 docker compose up -d --wait backend-v2
       local:   kill -STOP <pid of the pod> (default backend-v2-0): it answers nothing at all
  3. load: N requests to $BASE_URL/api/version, status codes counted (local: and those over 1 s)
  4. ejections: the frontend sidecar's outlier_detection statistics for the backend
  5. restore: fault off (and, in k8s, the canary stage given by --restore-stage; locally the stage
     in force before, after --wait-return seconds for the pod to be returned, if given)

Options:
  --target T          k8s (default), compose or local
  -n, --requests N    requests in step 3 (default 100, at most 10000)
  --all-pods          k8s: apply k8s/demos/virtual-service-backend-all-pods.yaml instead of canary-50,
                      so the failing pod is ejected from a shared pool and callers see 200s
  --restore-stage S   k8s: canary stage to go back to at the end (10, 50 or 100; default 10)
  --pod NAME          local: the pod to stop (default backend-v2-0)
  --wait-return S     local: after kill -CONT, wait up to S seconds for the pod to be returned
                      (baseEjectionTime, then the next sweep) and show it
  --keep              leave the fault on at the end
  --dry-run           print the commands and change nothing (no cluster or Docker needed)
  -h, --help          show this help

Environment:
  BASE_URL   the frontend (default http://localhost:8080: skaffold's port-forward, compose, npm start)
  MESH_ADMIN_URL  local: the data plane's admin endpoint (default http://localhost:15000)
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
pod=backend-v2-0
wait_return=0

while [ $# -gt 0 ]; do
  case $1 in
    --target)
      if [ $# -lt 2 ]; then fail "--target needs k8s, compose or local"; fi
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
    --pod)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^backend-v[12]-[0-9]+$ ]]; then fail "--pod needs a backend pod name, e.g. backend-v1-0"; fi
      pod=$2
      shift 2
      ;;
    --wait-return)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^[1-9][0-9]{0,2}$ ]]; then fail "--wait-return needs a whole number of seconds (1-999)"; fi
      wait_return=$2
      shift 2
      ;;
    --keep) keep=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
case $target in
  k8s | compose | local) ;;
  *) fail "--target: '$target' is not k8s, compose or local" ;;
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
  elif [ "$target" = local ]; then
    command -v jq >/dev/null || fail "jq is required"
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
      curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}\n' "$base_url/api/version" || true
    done | awk '{ print $1, ($2 > 1 ? "over 1 s" : "") }' | sort | uniq -c
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

admin=${MESH_ADMIN_URL:-http://localhost:15000}
admin=${admin%/}

# admin_get PATH: the data plane's admin endpoint, or exit 1 saying it is not there.
admin_get() {
  curl -sS -m 10 -f "$admin$1" || { echo "circuit-breaker.sh: no local data plane at $admin (is npm start running?)" >&2; exit 1; }
}

# The local demo: the video's kill -STOP, outlier detection at work in npm start's data plane.
run_local() {
  local restore pid ejected_stat='outlier_detection'
  echo "circuit breaker demo (local)"
  echo "# route: one pool of all backend pods, so outlier detection can eject the stopped one"
  echo "+ curl -X POST $admin/apply --data-binary @k8s/demos/virtual-service-backend-all-pods.yaml"
  if [ "$dry_run" -eq 1 ]; then
    echo "+ kill -STOP <pid of $pod, from $admin/proxies>"
    drive_load
    echo "+ curl '$admin/proxies/frontend/stats?filter=$ejected_stat'"
    echo "+ kill -CONT <pid>; curl -X POST $admin/stage -d <the stage in force before>"
    return
  fi
  restore=$(admin_get /config | jq -r '.stage // empty')
  pid=$(admin_get /proxies | jq -r --arg pod "$pod" '.[] | select(.name == $pod) | .pid // empty')
  [ -n "$pid" ] || { echo "circuit-breaker.sh: no pod $pod with a PID in $admin/proxies" >&2; exit 1; }
  curl -sS -m 10 -f -X POST "$admin/apply?source=k8s/demos/virtual-service-backend-all-pods.yaml" \
    --data-binary @k8s/demos/virtual-service-backend-all-pods.yaml >/dev/null ||
    { echo "circuit-breaker.sh: the data plane refused the demo route" >&2; exit 1; }
  echo "# fault on: $pod (pid $pid) stopped; its sidecar still accepts connections, nothing answers"
  echo "+ kill -STOP $pid"
  kill -STOP "$pid" || exit 1
  # Whatever happens next, the pod runs again and the stage comes back.
  trap 'kill -CONT "$pid" 2>/dev/null; curl -sS -m 10 -o /dev/null -X POST "$admin/stage" -d "$restore"' EXIT
  drive_load
  echo "# ejections at the frontend's sidecar (Envoy's counters) and the pod's health flag"
  echo "+ curl '$admin/proxies/frontend/stats?filter=$ejected_stat'"
  admin_get "/proxies/frontend/stats?filter=$ejected_stat" | grep -v ': 0$' || echo "(no ejection yet)"
  admin_get /proxies/frontend/clusters | grep -E '^outbound.*::(hostname|health_flags)::' | sed 's/^/  /'
  if [ "$keep" -eq 1 ]; then
    trap - EXIT
    echo "# --keep: $pod stays stopped (kill -CONT $pid to resume it)"
    return
  fi
  echo "+ kill -CONT $pid"
  kill -CONT "$pid"
  if [ "$wait_return" -gt 0 ]; then
    echo "# waiting up to ${wait_return}s for $pod to be returned (baseEjectionTime, then the next sweep)"
    local deadline=$((SECONDS + wait_return)) active=1
    while [ "$SECONDS" -lt "$deadline" ]; do
      active=$(admin_get "/proxies/frontend/stats?filter=ejections_active" | awk -F': ' '{ s += $2 } END { print s + 0 }')
      [ "$active" -eq 0 ] && break
      sleep 1
    done
    if [ "$active" -eq 0 ]; then echo "$pod returned: no host ejected"; else echo "$pod still ejected after ${wait_return}s"; fi
  fi
  trap - EXIT
  echo "# restore: the stage in force before ($restore)"
  echo "+ curl -X POST $admin/stage -d $restore"
  curl -sS -m 10 -f -o /dev/null -X POST "$admin/stage" -d "$restore" || exit 1
}

if [ "$target" = local ]; then
  run_local
  exit 0
fi

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
