#!/usr/bin/env bash
# Checks the production dependencies against the npm advisory database and fails on any high or
# critical finding. It asks the registry (POST /-/npm/v1/security/advisories/bulk), so it is a
# check to run by hand or in CI with network access, not a test.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/audit.sh [--shipped]

  (no option)  npm audit --omit=dev over the whole workspace: everything `npm ci --omit=dev` installs,
               the local stack behind `npm start` (s3rver, dynalite) included
  --shipped    only what is deployed: the three services' images and the Lambda bundles, i.e. the
               workspaces below and their production dependencies

Exits non-zero when a high or critical advisory applies. The full report is printed either way.
USAGE
}

SHIPPED=(
  packages/observability
  packages/service-kit
  packages/products
  packages/thumbnails
  services/backend
  services/frontend
  services/thumbnailer
  lambda
)

cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  --shipped)
    args=()
    for workspace in "${SHIPPED[@]}"; do args+=(--workspace "$workspace"); done
    exec npm audit --omit=dev --audit-level=high "${args[@]}"
    ;;
  '')
    exec npm audit --omit=dev --audit-level=high
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
