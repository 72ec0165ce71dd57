#!/usr/bin/env bash
# The video script's products CRUD, step by step with curl, against either twin: the mesh's frontend
# ($BASE_URL/api/products) or the Lambda function behind API Gateway ($API_URL/products). Each step
# prints the command, the status and the answer, and checks them; the product it creates is deleted
# at the end.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/products.sh [--target mesh|lambda] [--timeout S]

Walks through create, list, get, a rejected create and delete of a product:

  mesh    $BASE_URL/api/products   (BASE_URL default http://localhost:8080: npm start, compose, port-forward)
  lambda  $API_URL/products        (API_URL default http://localhost:3000/Prod: npm start's API Gateway
                                    emulation; or the ApiUrl output of the SAM stack, without the
                                    trailing slash)

Options:
  --target T    mesh (default) or lambda
  --timeout S   seconds per request (default 10)
  -h, --help    show this help

Exit status: 0 every step answered as expected; 1 a step did not (the script stops there);
2 bad usage or a missing tool (curl, jq).
EOF
}

fail() {
  echo "products.sh: $*" >&2
  exit 2
}

target=mesh
timeout=10
while [ $# -gt 0 ]; do
  case $1 in
    --target)
      if [ $# -lt 2 ]; then fail "--target needs mesh or lambda"; fi
      target=$2
      shift 2
      ;;
    --timeout)
      if [ $# -lt 2 ] || [[ ! $2 =~ ^[1-9][0-9]*$ ]]; then fail "--timeout needs a whole number of seconds"; fi
      timeout=$2
      shift 2
      ;;
    -h | --help) usage; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

case $target in
  mesh) products="${BASE_URL:-http://localhost:8080}"; products="${products%/}/api/products" ;;
  lambda) products="${API_URL:-http://localhost:3000/Prod}"; products="${products%/}/products" ;;
  *) fail "--target: '$target' is not mesh or lambda" ;;
esac
for tool in curl jq; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done

status=
body=
step=0

# call METHOD URL [JSON]: runs curl as a reader would type it, sets $status and $body.
call() {
  local method=$1 url=$2 data=${3:-}
  local args=(-sS -m "$timeout" -X "$method" -w '\n%{http_code}')
  step=$((step + 1))
  if [ -n "$data" ]; then
    args+=(-H 'Content-Type: application/json' -d "$data")
    printf '\n%d. curl -X %s %s -H "Content-Type: application/json" -d '"'"'%s'"'"'\n' "$step" "$method" "$url" "$data"
  else
    printf '\n%d. curl -X %s %s\n' "$step" "$method" "$url"
  fi
  local answer
  if ! answer=$(curl "${args[@]}" "$url" 2>&1); then
    echo "   no answer: ${answer%%$'\n'*}"
    echo "FAIL at step $step: is the $target twin running at ${url%%/products*}?"
    exit 1
  fi
  status=${answer##*$'\n'}
  body=${answer%$'\n'*}
  local shown
  shown=$(jq -c . <<<"$body" 2>/dev/null || printf '%s' "$body")
  if [ ${#shown} -gt 300 ]; then shown="${shown:0:300}..."; fi
  echo "   $status $shown"
}

# expect WHAT JQ_FILTER: the last answer's body must make the filter true.
expect() {
  if ! jq -e "$2" >/dev/null 2>&1 <<<"$body"; then
    echo "FAIL at step $step: expected $1"
    exit 1
  fi
}

expect_status() {
  if [ "$status" != "$1" ]; then
    echo "FAIL at step $step: expected HTTP $1, got $status"
    exit 1
  fi
}

echo "products walk-through against the $target twin: $products"

call POST "$products" '{"name":"Laptop","price":999.99}'
expect_status 201
expect 'the new product with an id' '.id and .name == "Laptop" and .price == 999.99 and .createdAt'
id=$(jq -r .id <<<"$body")

# The list is paginated; follow nextCursor (a bounded number of pages) until the product shows up.
found=0
cursor=
for ((page = 1; page <= 20; page++)); do
  query="limit=100${cursor:+&cursor=$(jq -rn --arg c "$cursor" '$c | @uri')}"
  call GET "$products?$query"
  expect_status 200
  expect 'a page of products' '.items | type == "array"'
  if jq -e --arg id "$id" 'any(.items[]; .id == $id)' >/dev/null <<<"$body"; then
    found=1
    break
  fi
  cursor=$(jq -r '.nextCursor // empty' <<<"$body")
  [ -n "$cursor" ] || break
done
if [ "$found" -ne 1 ]; then
  echo "FAIL at step $step: product $id is not in the list"
  exit 1
fi
echo "   (the list holds product $id)"

call GET "$products/$id"
expect_status 200
expect "product $id" ".id == \"$id\" and .name == \"Laptop\""

call POST "$products" '{"name":"Laptop","price":-1}'
expect_status 400
expect 'a JSON error naming the field' '.field == "price" and (.error | type == "string")'

call DELETE "$products/$id"
expect_status 204

call GET "$products/$id"
expect_status 404

echo
echo "PASS: create, list, get, validation and delete all answered as expected ($target twin)."
