#!/usr/bin/env bash
# The video script's tracing demo, checked: make some GET /api/products calls, then ask Jaeger's
# HTTP API for the frontend's traces and print the newest one that holds the whole chain
# frontend -> backend -> database as a tree, the way the Jaeger UI shows it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/traces.sh [options]

Sends N requests to $BASE_URL/api/products, then queries $JAEGER_URL/api/traces?service=frontend
and prints, as a tree, the newest trace in which a server span of the frontend leads to a server span
of the backend, which leads to a DynamoDB call (a span of the backend with db.system=dynamodb or an
operation named DynamoDB.*). Spans arrive in batches, so it keeps asking until --wait runs out.
When the frontend names the trace each request joined (the W3C traceresponse header, as this
project's services send it), only those traces count; otherwise any trace that started after the
first request (less a minute, for clocks that differ).

  kubectl port-forward -n istio-system svc/jaeger 16686:16686 &
  scripts/traces.sh

Options:
  -n, --requests N    requests to make first, 0 to only look (default 20, at most 10000)
  --service NAME      the frontend's service name in Jaeger (default frontend)
  --backend NAME      the backend's service name in Jaeger (default backend)
  --since S           with -n 0: look at traces that started in the last S seconds (default 900)
  --limit N           traces to fetch per query (default 20)
  --wait S            seconds to keep asking while spans arrive (default 30)
  -h, --help          show this help

Environment:
  BASE_URL    the frontend (default http://localhost:8080)
  JAEGER_URL  Jaeger's query service (default http://localhost:16686)

Exit status: 0 the chain is there; 1 it is not (or Jaeger did not answer); 2 bad usage or a missing
tool (curl, jq).
EOF
}

fail() {
  echo "traces.sh: $*" >&2
  exit 2
}

requests=20
service=frontend
backend=backend
since=900
limit=20
wait_s=30

whole() {
  if [[ ! $2 =~ ^(0|[1-9][0-9]*)$ ]] || [ "$2" -gt "$3" ]; then fail "$1: '$2' is not a whole number from 0 to $3"; fi
}

while [ $# -gt 0 ]; do
  case $1 in
    -n | --requests) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 10000; requests=$2; shift 2 ;;
    --service) if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a name"; fi; service=$2; shift 2 ;;
    --backend) if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a name"; fi; backend=$2; shift 2 ;;
    --since) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 604800; since=$2; shift 2 ;;
    --limit) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 1000; limit=$2; shift 2 ;;
    --wait) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 600; wait_s=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
for tool in curl jq; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done

base_url=${BASE_URL:-http://localhost:8080}
jaeger_url=${JAEGER_URL:-http://localhost:16686}
base_url=${base_url%/}
jaeger_url=${jaeger_url%/}

start_us=$((($(date +%s) - since) * 1000000))
# The trace ids the requests' answers named (traceresponse: 00-<trace id>-<span id>-<flags>).
mine=()
if [ "$requests" -gt 0 ]; then
  start_us=$((($(date +%s) - 60) * 1000000))
  echo "traces: $requests requests to $base_url/api/products"
  ok=0
  for ((i = 1; i <= requests; i++)); do
    answer=$(curl -sS -m 10 -o /dev/null -D - -w '%{http_code}' "$base_url/api/products" 2>/dev/null) || answer=000
    status=${answer##*$'\n'}
    if [[ $status =~ ^2 ]]; then ok=$((ok + 1)); fi
    if [[ $answer =~ [Tt][Rr][Aa][Cc][Ee][Rr][Ee][Ss][Pp][Oo][Nn][Ss][Ee]:\ *[0-9a-f]{2}-([0-9a-f]{32})- ]]; then
      mine+=("${BASH_REMATCH[1]}")
    fi
  done
  echo "  $ok of $requests answered 2xx, ${#mine[@]} named their trace"
fi
mine_json=$(printf '%s\n' "${mine[@]}" | jq -R 'select(length > 0) | sub("^0+"; "")' | jq -s .)

# Reads one Jaeger /api/traces answer; prints the chain's trace as a tree, or nothing.
# Each span gets its service (from the trace's processes), its parent (the CHILD_OF reference, or
# the first reference) and its kind (the span.kind tag Jaeger keeps from OpenTelemetry).
read -r -d '' FIND_CHAIN <<'JQ' || true
def tag($key): ((.tags // []) | map(select(.key == $key)) | .[0].value) // "";
def ancestors($byId; $id; $depth):
  ($byId[$id].parent) as $p
  | if $p == null or $byId[$p] == null or $depth > 200 then [] else [$p] + ancestors($byId; $p; $depth + 1) end;
def indent($n): [range(0; $n)] | map("   ") | join("");
def tree($spans; $id; $depth; $marks):
  ($spans | map(select(.id == $id)) | .[0]) as $s
  | (indent($depth) + (if $depth > 0 then "└─ " else "" end) + $s.service + "  " + $s.op
      + "  " + (($s.duration / 1000 * 10 | round) / 10 | tostring) + " ms"
      + (if ($marks | index($id)) != null then "   <- " + ($marks | index($id) | ["frontend", "backend", "database"][.]) else "" end)),
    ($spans | map(select(.parent == $id)) | sort_by(.start) | .[] | tree($spans; .id; $depth + 1; $marks));

[ (.data // [])[]
  # Jaeger writes a trace id without its leading zeros.
  | (.traceID | sub("^0+"; "")) as $id
  | select(($mine | length) == 0 or ($mine | index($id)) != null)
  | . as $trace
  | [ .spans[] | {
        id: .spanID,
        parent: (((.references // []) | map(select(.refType == "CHILD_OF")) | .[0].spanID)
                 // ((.references // []) | .[0].spanID)),
        service: ($trace.processes[.processID].serviceName // "?"),
        op: .operationName,
        start: .startTime,
        duration: .duration,
        kind: tag("span.kind"),
        db: tag("db.system")
      } ] as $spans
  | ($spans | map({ key: .id, value: . }) | from_entries) as $byId
  | [ $spans[] | select(.service == $frontend and .kind == "server") ] as $fronts
  | [ $spans[] | select(.service == $backend and .kind == "server") ] as $backs
  | [ $spans[] | select(.service == $backend and (.db == "dynamodb" or (.op | test("^DynamoDB")))) ] as $dbs
  | first(
      $fronts[] as $f | $backs[] as $b | $dbs[] as $d
      | select((ancestors($byId; $b.id; 0) | index($f.id)) != null and (ancestors($byId; $d.id; 0) | index($b.id)) != null)
      | { traceID: $trace.traceID, start: ($spans | map(.start) | min), spans: $spans, marks: [$f.id, $b.id, $d.id] }
    ) // empty
]
| sort_by(-.start)
| .[0] // empty
| "trace " + .traceID + " (" + (.spans | length | tostring) + " spans)",
  (. as $hit | ($hit.spans | map(.id)) as $ids
   | $hit.spans | map(. as $s | select($s.parent == null or ($ids | index($s.parent)) == null))
   | sort_by(.start) | .[] | tree($hit.spans; .id; 0; $hit.marks))
JQ

deadline=$((SECONDS + wait_s))
last_error=
while :; do
  query="service=$(jq -rn --arg s "$service" '$s | @uri')&start=$start_us&limit=$limit"
  if answer=$(curl -sS -m 10 -w '\n%{http_code}' "$jaeger_url/api/traces?$query" 2>&1); then
    status=${answer##*$'\n'}
    body=${answer%$'\n'*}
    if [ "$status" = 200 ]; then
      if tree=$(jq -r --arg frontend "$service" --arg backend "$backend" --argjson mine "$mine_json" "$FIND_CHAIN" <<<"$body" 2>&1); then
        if [ -n "$tree" ]; then
          echo
          echo "$tree"
          echo
          echo "PASS: $service -> $backend -> DynamoDB is one trace in Jaeger."
          exit 0
        fi
        if [ "${#mine[@]}" -gt 0 ]; then
          last_error="none of the ${#mine[@]} traces the requests joined holds $service -> $backend -> DynamoDB yet"
        else
          last_error="no trace of $service yet holds $service -> $backend -> DynamoDB"
        fi
      else
        last_error="Jaeger's answer is not the expected JSON: ${tree:0:200}"
      fi
    else
      last_error="Jaeger answered $status: ${body:0:200}"
    fi
  else
    last_error="Jaeger at $jaeger_url did not answer: ${answer%%$'\n'*}"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then break; fi
  sleep 2
done
echo "FAIL: $last_error (after ${wait_s}s)"
exit 1
