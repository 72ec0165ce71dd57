#!/usr/bin/env bash
# Uploads images through the frontend and waits for each thumbnail, the event pipeline from a user's
# side: POST /api/images stores the file under uploads/, the object store's event reaches the
# thumbnailer (or the Lambda imageProcessor), and GET /api/images/<id>/thumbnail turns from 404 into
# 200. Reports how long each upload took to get its thumbnail, and the percentiles.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/upload.sh [options] [IMAGE...]

Uploads images to $BASE_URL/api/images, polls $BASE_URL/api/images/<id>/thumbnail until it answers
200, says the thumbnail failed (a damaged image: 404 with "thumbnail": "failed"), or the deadline
passes, and prints each upload's latency (upload start to thumbnail ready) and
the p50/p90/p99/max over all of them. Without IMAGE a small built-in PNG is uploaded.

Options:
  -n, --count N         uploads in total, cycling through the images (default: one per IMAGE,
                        or 10 with the built-in image); at most 10000
  -c, --concurrency N   uploads in flight at once (default 4, at most 64)
  --timeout S           deadline in seconds for each thumbnail, counted from its upload (default 30)
  --poll MS             milliseconds between polls for a thumbnail (default 100)
  -o, --out DIR         save the thumbnails there
  -h, --help            show this help

Environment:
  BASE_URL   the frontend (default http://localhost:8080)

Percentiles are nearest-rank over the uploads that got their thumbnail. Works with either thumbnail
maker: npm start runs the thumbnailer by default, --thumbnails=lambda runs the imageProcessor.

Exit status: 0 every thumbnail arrived in time; 1 an upload failed, a thumbnail failed or missed its deadline;
2 bad usage or a missing tool (curl, jq, awk, base64).
EOF
}

fail() {
  echo "upload.sh: $*" >&2
  exit 2
}

# 64x48 PNG, four colours: enough for the pipeline, small enough to live here.
SAMPLE_PNG='iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwAgMAAADcJZSMAAAADFBMVEX/fw7WJygfd7QsoCye9c6gAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAKElEQVQoz2NYBQQMQPAfCEKBgGEICyBzYJJDVWC4+AMEkDkgySEsAADC336QFX319AAAAABJRU5ErkJggg=='

count=
concurrency=4
timeout=30
poll_ms=100
out=
images=()

whole() {
  if [[ ! $2 =~ ^[1-9][0-9]*$ ]] || [ "$2" -gt "$3" ]; then fail "$1: '$2' is not a whole number from 1 to $3"; fi
}

while [ $# -gt 0 ]; do
  case $1 in
    -n | --count) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 10000; count=$2; shift 2 ;;
    -c | --concurrency) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 64; concurrency=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 3600; timeout=$2; shift 2 ;;
    --poll) [ $# -ge 2 ] || fail "$1 needs a value"; whole "$1" "$2" 60000; poll_ms=$2; shift 2 ;;
    -o | --out) [ $# -ge 2 ] || fail "$1 needs a directory"; out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; images+=("$@"); break ;;
    -*) fail "unknown option '$1' (see --help)" ;;
    *) images+=("$1"); shift ;;
  esac
done

for tool in curl jq awk base64; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done
if [ "${BASH_VERSINFO[0]}" -lt 4 ] || { [ "${BASH_VERSINFO[0]}" -eq 4 ] && [ "${BASH_VERSINFO[1]}" -lt 3 ]; }; then
  fail "bash 4.3 or later is required (wait -n)"
fi

base_url=${BASE_URL:-http://localhost:8080}
base_url=${base_url%/}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ${#images[@]} -eq 0 ]; then
  base64 -d <<<"$SAMPLE_PNG" >"$work/sample.png"
  images=("$work/sample.png")
  count=${count:-10}
fi
for image in "${images[@]}"; do
  if [ ! -f "$image" ] || [ ! -r "$image" ]; then fail "'$image' is not a readable file"; fi
done
count=${count:-${#images[@]}}
if [ -n "$out" ]; then mkdir -p "$out"; fi

# Milliseconds since the epoch, without a fork where bash has EPOCHREALTIME (5.0 and later).
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
  else
    date +%s%3N
  fi
}

poll_s=$(awk -v ms="$poll_ms" 'BEGIN { printf "%.3f", ms / 1000 }')

# One upload: writes "ok|fail <n> <upload ms> <total ms> <key> <detail>" to $work/result.<n>.
upload_one() {
  local n=$1 image=$2 started uploaded answer status body id key deadline reason
  started=$(now_ms)
  if ! answer=$(curl -sS -m "$timeout" -w '\n%{http_code}' -F "file=@$image" "$base_url/api/images" 2>&1); then
    echo "fail $n 0 0 - upload: ${answer%%$'\n'*}" >"$work/result.$n"
    return
  fi
  uploaded=$(now_ms)
  status=${answer##*$'\n'}
  body=${answer%$'\n'*}
  id=$(jq -r '.id // empty' <<<"$body" 2>/dev/null || true)
  key=$(jq -r '.key // empty' <<<"$body" 2>/dev/null || true)
  if [ "$status" != 201 ] || [ -z "$id" ]; then
    echo "fail $n $((uploaded - started)) 0 - upload answered $status: ${body:0:120}" >"$work/result.$n"
    return
  fi
  key=${key// /_}
  deadline=$((started + timeout * 1000))
  while :; do
    status=$(curl -sS -m "$timeout" -o "$work/thumbnail.$n" -w '%{http_code}' "$base_url/api/images/$id/thumbnail" 2>/dev/null) ||
      status=000
    if [ "$status" = 200 ]; then
      if [ -n "$out" ]; then mv "$work/thumbnail.$n" "$out/$n-$(basename "$image")"; fi
      echo "ok $n $((uploaded - started)) $(($(now_ms) - started)) $key $(basename "$image")" >"$work/result.$n"
      return
    fi
    # A 404 that says "failed": there will be no thumbnail (a damaged image), so stop waiting.
    reason=$(jq -r 'select(.thumbnail == "failed") | .error' "$work/thumbnail.$n" 2>/dev/null || true)
    if [ "$status" = 404 ] && [ -n "$reason" ]; then
      echo "fail $n $((uploaded - started)) 0 $key $reason" >"$work/result.$n"
      return
    fi
    if [ "$status" != 404 ] && [ "$status" != 000 ]; then
      echo "fail $n $((uploaded - started)) 0 $key thumbnail answered $status" >"$work/result.$n"
      return
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      echo "fail $n $((uploaded - started)) 0 $key no thumbnail within ${timeout}s" >"$work/result.$n"
      return
    fi
    sleep "$poll_s"
  done
}

echo "upload: $count upload(s) of ${#images[@]} image(s) to $base_url/api/images, $concurrency at a time"
running=0
for ((i = 1; i <= count; i++)); do
  upload_one "$i" "${images[$(((i - 1) % ${#images[@]}))]}" &
  running=$((running + 1))
  if [ "$running" -ge "$concurrency" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

printf '\n  %5s  %9s  %9s  %s\n' '#' 'upload ms' 'total ms' 'key (spaces as _), image'
failed=0
for ((i = 1; i <= count; i++)); do
  if [ ! -f "$work/result.$i" ]; then echo "fail $i 0 0 - the upload's job ended without a result" >"$work/result.$i"; fi
  read -r outcome n upload_ms total_ms key detail <"$work/result.$i"
  if [ "$outcome" = ok ]; then
    printf '  %5d  %9d  %9d  %s  %s\n' "$n" "$upload_ms" "$total_ms" "$key" "$detail"
    echo "$total_ms" >>"$work/latencies"
  else
    failed=$((failed + 1))
    printf '  %5d  %9s  %9s  %s  FAILED: %s\n' "$n" "$upload_ms" '-' "$key" "$detail"
  fi
done

echo
if [ -s "$work/latencies" ]; then
  sort -n "$work/latencies" | awk '
    { v[NR] = $1 }
    function rank(p,   r) { r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; return v[r] }
    END { printf "latency (upload start to thumbnail, ms) over %d: p50 %d  p90 %d  p99 %d  max %d\n", NR, rank(50), rank(90), rank(99), v[NR] }'
fi
if [ "$failed" -gt 0 ]; then
  echo "FAIL: $failed of $count uploads did not get a thumbnail in time"
  exit 1
fi
echo "PASS: $count of $count thumbnails ready within ${timeout}s each"
