#!/bin/sh
# Starts Envoy from a config template. Each placeholder ${NAME:-default} in the template becomes the
# value of the environment variable NAME, or the default when NAME is unset or empty (the shell's
# rule), so a setting such as the canary weights follows the container's environment instead of an
# edited file. POSIX sh, grep and sed only: the envoy image has no envsubst.
#
#   start.sh TEMPLATE [ENVOY_OPTION...]   render TEMPLATE to /tmp/envoy.yaml, then exec envoy with it
#   start.sh --render TEMPLATE            print the rendered config and exit (scripts/set-weights.sh --dry-run)
set -eu

# What a placeholder may look like. Values (and defaults) are limited to the same characters, enough
# for names, numbers and host names and nothing that could change the YAML around them.
# shellcheck disable=SC2016 # a literal ${, for grep
PLACEHOLDER='\${[A-Za-z_][A-Za-z0-9_]*:-[A-Za-z0-9._:/-]*}'

fail() {
  echo "start.sh: $*" >&2
  exit 1
}

render() {
  [ -r "$1" ] || fail "cannot read template $1"
  script=''
  placeholders=$(grep -o "$PLACEHOLDER" "$1" | sort -u)
  while IFS= read -r placeholder; do
    [ -n "$placeholder" ] || continue
    name=${placeholder#??}
    name=${name%%:-*}
    default=${placeholder#*:-}
    default=${default%?}
    eval "value=\${$name:-}"
    [ -n "$value" ] || value=$default
    case $value in
      *[!A-Za-z0-9._:/-]*) fail "$name='$value' has characters a config value may not contain" ;;
    esac
    pattern=$(printf '%s\n' "$placeholder" | sed 's/[.$*[\^]/\\&/g')
    script="${script}s|${pattern}|${value}|g
"
  done <<EOF
$placeholders
EOF
  sed "$script" "$1"
}

# shellcheck disable=SC2016 # literal ${, for grep
leftovers() {
  if printf '%s\n' "$1" | grep -q '\${'; then
    fail "placeholders left unrendered: $(printf '%s\n' "$1" | grep -o '\${[^}]*}' | sort -u | tr '\n' ' ')"
  fi
}

if [ "${1:-}" = --render ]; then
  [ $# -eq 2 ] || fail 'usage: start.sh --render TEMPLATE'
  config=$(render "$2")
  leftovers "$config"
  printf '%s\n' "$config"
  exit 0
fi

[ $# -ge 1 ] || fail 'usage: start.sh TEMPLATE [ENVOY_OPTION...]'
template=$1
shift
config=$(render "$template")
leftovers "$config"
printf '%s\n' "$config" >/tmp/envoy.yaml
exec envoy --config-path /tmp/envoy.yaml "$@"
