#!/usr/bin/env bash
# Checks a canary split the way the video script does (a curl loop over /api/version, counted per
# version), and then decides whether the counts fit the weights the mesh was given: a chi-square
# goodness-of-fit test, since each request is routed at random and 100 requests at 90/10 rarely
# come out exactly 90 and 10.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/canary.sh [options]

Sends N requests to $BASE_URL/api/version, counts the backend versions that answered, and tests the
counts against the expected weights with a chi-square goodness-of-fit test. v1 is 1.0.0, v2 is 2.0.0.

  BASE_URL=http://localhost:8080 scripts/canary.sh --expect 90/10

Options:
  -n, --requests N   requests to send, 1 to 100000 (default 100)
  --expect W1/W2     expected weights of v1/v2 (default 90/10); e.g. 50/50, 0/100. More than two
                     weights go with as many --versions.
  --versions A,B     the version strings of v1, v2, ... (default 1.0.0,2.0.0)
  --alpha A          significance level: the split is "off" when p < A (default 0.01)
  --max-errors N     failed requests tolerated: no answer, non-2xx, or a version not listed (default 0)
  --timeout S        seconds per request (default 5)
  -h, --help         show this help

Environment:
  BASE_URL   the frontend (default http://localhost:8080)

A version expected at weight 0 that answers even once fails the check. With fewer than 5 requests
expected for some version the chi-square approximation is rough: send more requests.

Exit status: 0 the counts fit the weights; 1 they do not, or more requests failed than allowed;
2 bad usage or a missing tool (curl, jq, awk).
EOF
}

fail() {
  echo "canary.sh: $*" >&2
  exit 2
}

base_url=${BASE_URL:-http://localhost:8080}
requests=100
expect=90/10
versions=1.0.0,2.0.0
alpha=0.01
max_errors=0
timeout=5

need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then fail "$1 needs a value (see --help)"; fi
}

while [ $# -gt 0 ]; do
  case $1 in
    -n | --requests) need_value "$@"; requests=$2; shift 2 ;;
    --expect) need_value "$@"; expect=$2; shift 2 ;;
    --versions) need_value "$@"; versions=$2; shift 2 ;;
    --alpha) need_value "$@"; alpha=$2; shift 2 ;;
    --max-errors) need_value "$@"; max_errors=$2; shift 2 ;;
    --timeout) need_value "$@"; timeout=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

for tool in curl jq awk; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done

if [[ ! $requests =~ ^[1-9][0-9]*$ ]] || [ "$requests" -gt 100000 ]; then
  fail "--requests: '$requests' is not a whole number from 1 to 100000"
fi
[[ $max_errors =~ ^(0|[1-9][0-9]*)$ ]] || fail "--max-errors: '$max_errors' is not a whole number"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || fail "--timeout: '$timeout' is not a whole number of seconds"
if [[ ! $alpha =~ ^0?\.[0-9]+$ ]] || ! awk -v a="$alpha" 'BEGIN { exit !(a > 0 && a < 1) }'; then
  fail "--alpha: '$alpha' is not a number between 0 and 1"
fi

IFS=/ read -r -a weights <<<"$expect"
IFS=, read -r -a names <<<"$versions"
[ ${#weights[@]} -ge 1 ] || fail "--expect: no weights"
[ ${#weights[@]} -eq ${#names[@]} ] ||
  fail "--expect has ${#weights[@]} weights but --versions names ${#names[@]} versions"
weight_sum=0
for w in "${weights[@]}"; do
  [[ $w =~ ^(0|[1-9][0-9]*)$ ]] || fail "--expect: '$w' is not a whole number"
  weight_sum=$((weight_sum + w))
done
[ "$weight_sum" -gt 0 ] || fail "--expect: the weights add up to 0"

url="${base_url%/}/api/version"
echo "canary: $requests requests to $url, expecting ${names[*]} at $expect"

declare -A counts=()
for name in "${names[@]}"; do counts[$name]=0; done
errors=0
error_kinds=()
for ((i = 1; i <= requests; i++)); do
  # -w puts the status code on a line of its own after the body.
  if ! answer=$(curl -sS -m "$timeout" -w '\n%{http_code}' "$url" 2>&1); then
    errors=$((errors + 1))
    error_kinds+=("no answer: ${answer%%$'\n'*}")
    continue
  fi
  status=${answer##*$'\n'}
  body=${answer%$'\n'*}
  if [[ ! $status =~ ^2 ]]; then
    errors=$((errors + 1))
    error_kinds+=("HTTP $status")
    continue
  fi
  version=$(jq -r '.version // empty' <<<"$body" 2>/dev/null || true)
  if [ -n "$version" ] && [ -n "${counts[$version]+set}" ]; then
    counts[$version]=$((counts[$version] + 1))
  else
    errors=$((errors + 1))
    error_kinds+=("unexpected answer: ${body:0:80}")
  fi
done

answered=$((requests - errors))
printf '\n  %-10s %8s %10s %10s\n' version count observed expected
observed_list=()
for idx in "${!names[@]}"; do
  name=${names[$idx]}
  observed_list+=("${counts[$name]}")
  awk -v name="$name" -v n="${counts[$name]}" -v total="$answered" -v w="${weights[$idx]}" -v sum="$weight_sum" \
    'BEGIN { printf "  %-10s %8d %9.1f%% %9.1f%%\n", name, n, total ? 100 * n / total : 0, 100 * w / sum }'
done
printf '  %-10s %8d\n' errors "$errors"
if [ "$errors" -gt 0 ]; then
  printf '%s\n' "${error_kinds[@]}" | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /'
fi
echo

if [ "$errors" -gt "$max_errors" ]; then
  echo "FAIL: $errors of $requests requests failed (at most $max_errors allowed)"
  exit 1
fi
if [ "$answered" -eq 0 ]; then
  echo "FAIL: no version answered"
  exit 1
fi

# Pearson's chi-square over the versions expected at a weight above 0, with df = those versions - 1,
# and its p-value from the chi-square survival function: for even df a finite sum, for odd df erfc
# plus a finite sum (erfc by Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).
verdict=$(awk -v observed="${observed_list[*]}" -v weights="${weights[*]}" -v names="${names[*]}" \
  -v n="$answered" -v alpha="$alpha" -v expect="$expect" '
  function erfc(x,   z, t, r) {
    z = x < 0 ? -x : x
    t = 1 / (1 + 0.5 * z)
    r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + \
        t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + \
        t * (-0.82215223 + t * 0.17087277)))))))))
    return x >= 0 ? r : 2 - r
  }
  function chi2_sf(x, df,   h, term, sum, i) {
    if (df <= 0) return 1
    if (x <= 0) return 1
    h = x / 2
    if (df % 2 == 0) {
      term = 1; sum = 1
      for (i = 1; i < df / 2; i++) { term *= h / i; sum += term }
      return exp(-h) * sum
    }
    sum = erfc(sqrt(h))
    term = sqrt(h) / (sqrt(atan2(0, -1)) / 2) * exp(-h)
    for (i = 1; i <= (df - 1) / 2; i++) { sum += term; term *= h / (i + 0.5) }
    return sum
  }
  BEGIN {
    k = split(observed, o, " "); split(weights, w, " "); split(names, v, " ")
    total = 0; for (i = 1; i <= k; i++) total += w[i]
    chi = 0; df = -1; small = 0
    for (i = 1; i <= k; i++) {
      e = n * w[i] / total
      if (w[i] == 0) {
        if (o[i] > 0) { printf "off: %s answered %d times but is expected at weight 0\n", v[i], o[i]; exit }
        continue
      }
      df++
      if (e < 5) small = 1
      chi += (o[i] - e) ^ 2 / e
    }
    p = chi2_sf(chi, df)
    note = small ? " (some expected counts are below 5: the test is rough, send more requests)" : ""
    printf "%s: chi-square = %.3f, df = %d, p = %.4g %s alpha %s%s\n", \
      (p < alpha ? "off" : "fits"), chi, df, p, (p < alpha ? "<" : ">="), alpha, note
  }')

case $verdict in
  fits:*)
    echo "PASS: the split fits $expect (${verdict#fits: })"
    ;;
  *)
    echo "FAIL: the split is off from $expect (${verdict#off: })"
    exit 1
    ;;
esac
