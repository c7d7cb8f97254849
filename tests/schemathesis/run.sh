#!/usr/bin/env bash
# Schemathesis against a running `helpline serve` (the simulator, SQLite): every check, every role.
# The OpenAPI document is the one the server serves (generated from the handlers); any failure fails
# the run. Usage: tests/schemathesis/run.sh [path-to-helpline-binary]  (default: target/debug/helpline)
#
# Needs python3 with venv; the venv is kept in target/schemathesis-venv between runs. Knobs:
# SCHEMATHESIS_MAX_EXAMPLES (per operation, default 25), SCHEMATHESIS_ROLES (default all five).
# Not yet in .ci/run: it does not report 0 failures yet (SECURITY.md says what is left).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/helpline}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
roles="${SCHEMATHESIS_ROLES:-admin supervisor agent officer integration}"
venv="${CARGO_TARGET_DIR:-target}/schemathesis-venv"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
cat > "$work/helpline.toml" <<TOML
[database]
url = "sqlite://$work/helpline.db"
[storage]
journal_dir = "$work/journal"
recordings_dir = "$work/recordings"
[http]
listen = "127.0.0.1:$port"
# Schemathesis sends hundreds of requests a second from one address.
rate_limit_per_second = 0
TOML
export HELPLINE_CONFIG="$work/helpline.toml"

"$bin" serve --sim > "$work/serve.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fs "$base/api/v1/openapi.json" > /dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/api/v1/openapi.json" > /dev/null || { cat "$work/serve.log"; exit 1; }

# One account (and token) per role, made with the command line as an operator would.
printf 'schemathesis-password-1\n' > "$work/password"
token_for() {
  local role="$1"
  if [ "$role" = integration ]; then
    "$bin" token create --integration schemathesis --scope tickets:file --scope tickets:read_own \
      --scope tickets:status --scope tickets:personal_data --expires-in 1h
  else
    local extra=()
    [ "$role" = officer ] && extra=(--department JSV)
    "$bin" user add "st-$role" --name "Schemathesis $role" --role "$role" "${extra[@]}" \
      --password-file "$work/password" > /dev/null
    "$bin" token create --user "st-$role" --expires-in 1h
  fi | grep -o 'hl_[0-9a-f]*' | head -n1
}

failed=0
for role in $roles; do
  token="$(token_for "$role")"
  [ -n "$token" ] || { echo "no token for $role"; exit 1; }
  printf '\n==> schemathesis as %s\n' "$role"
  # From the scratch folder: schemathesis keeps its cache (.schemathesis/) where it runs.
  if ! (cd "$work" && "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
      --url "$base/api/v1" \
      --checks all \
      --max-examples "$max_examples" \
      --header "Authorization: Bearer $token" \
      --exclude-path /centre/events \
      --request-timeout 10 \
      --no-color); then
    failed=1
  fi
done
exit "$failed"
