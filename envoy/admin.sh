#!/usr/bin/env bash
# Reads this sidecar's admin endpoint, which listens on 127.0.0.1:9901 inside the container only.
# The envoy image ships no curl, so this speaks HTTP/1.0 over bash's /dev/tcp. Prints the body and
# fails unless the answer is 200, which makes `admin.sh ready` the container's health check.
#
#   admin.sh ready                               LIVE once listeners and clusters are up
#   admin.sh 'stats?filter=outlier_detection'    ejections of the canary subsets
#   admin.sh clusters                            hosts, health flags and circuit-breaker state
set -euo pipefail

path=${1:-ready}
port=${ENVOY_ADMIN_PORT:-9901} # the admin address of every config in this folder
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /%s HTTP/1.0\r\nHost: localhost\r\n\r\n' "${path#/}" >&3

IFS= read -r status <&3
while IFS= read -r header <&3 && [ "${header%$'\r'}" != '' ]; do :; done
cat <&3
exec 3<&-

[[ $status == *' 200 '* ]] || {
  echo "admin.sh: /${path#/} answered ${status%$'\r'}" >&2
  exit 1
}
