#!/usr/bin/env bash
# Measures `protomod dep update` against a local `protomod serve`, cold (empty
# module cache) and warm (run again), on the 7 modules of the envoy-multi
# corpus workspace. Usage:
#
#   scripts/bench/dep-update.sh [RUNS]
#
# Each module of envoy-multi is pushed as its own named module
# (<registry>/bench/<module>), in dependency order; instead of the
# workspace's sibling modules, each depends on registry modules: it first
# declares every module pushed before it, then dep update + dep prune keep
# exactly what its imports need, and buf.yaml's deps are set to that.
# Then a consumer that depends on all 7 runs `dep update` RUNS times cold and
# RUNS times warm (default 3).
#
# Printed per run: wall time and the HTTP requests the registry received,
# counted from its request log (one "msg=request" line per request; the
# script waits until the log stops growing before counting).
#
# Needs ../shared/corpora/bench-workspaces.tar.zst; without it the script
# says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3}
corpora="$root/../shared/corpora/bench-workspaces.tar.zst"
if [ ! -f "$corpora" ]; then
  echo "skipped: no corpora at $corpora (envoy-multi is needed)"
  exit 0
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# envoy-multi hard-links files of bsr-googleapis: unpack both.
tar --zstd -xf "$corpora" -C "$work" envoy-multi bsr-googleapis
go build -o "$work/protomod" "$root/cmd/protomod"
pm="$work/protomod"

# A registry on a free port, with a user and a token.
"$pm" serve user create bench --data-dir "$work/data" >/dev/null
token=$("$pm" serve token create --user bench --data-dir "$work/data")
"$pm" serve --data-dir "$work/data" --addr 127.0.0.1:0 --addr-file "$work/addr" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 300); do [ -s "$work/addr" ] && break; sleep 0.05; done
[ -s "$work/addr" ] || { echo "protomod serve did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
host=$(cat "$work/addr")

# A clean CLI environment talking plain HTTP to the registry.
mkdir -p "$work/config" "$work/home"
printf 'version: v1\ntls:\n  use: false\n' > "$work/config/config.yaml"
export HOME="$work/home" BUF_CONFIG_DIR="$work/config" BUF_TOKEN="$token" NETRC="$work/home/.netrc"
export BUF_CACHE_DIR="$work/push-cache" XDG_CACHE_HOME="$work/home/.cache"

requests() { grep -c 'msg=request' "$work/server.log" || true; }
# settle waits until the request log stops growing (lines are written as
# each request ends).
settle() {
  local before after
  after=$(requests)
  while :; do sleep 0.1; before=$after; after=$(requests); [ "$before" = "$after" ] && break; done
}
procedures() { tail -n "$1" "$work/server.log" | grep 'msg=request' | sed 's/.*procedure=[^ ]*\.\([A-Za-z]*Service\/[A-Za-z]*\).*/\1/' | tr '\n' ' '; }

# Push the modules, dependencies first.
order=(googleapis protoc-gen-validate cel-spec client-model opentelemetry xds envoy)
pushed=()
nfiles=0
for m in "${order[@]}"; do
  dir="$work/push/$m"
  mkdir -p "$dir"
  cp -r "$work/envoy-multi/$m/." "$dir/"
  {
    echo "version: v2"
    echo "name: $host/bench/$m"
    if [ ${#pushed[@]} -gt 0 ]; then
      echo "deps:"
      for p in "${pushed[@]}"; do echo "  - $host/bench/$p"; done
    fi
  } > "$dir/buf.yaml"
  if [ ${#pushed[@]} -gt 0 ]; then
    (cd "$dir" && "$pm" dep update 2>/dev/null && "$pm" dep prune 2>/dev/null)
    # Declare exactly what the imports need: the pruned buf.lock's modules.
    {
      echo "version: v2"
      echo "name: $host/bench/$m"
      if grep -q 'name:' "$dir/buf.lock"; then
        echo "deps:"
        grep '  - name:' "$dir/buf.lock" | sed 's/  - name: /  - /'
      fi
    } > "$dir/buf.yaml"
  fi
  (cd "$dir" && "$pm" push --create >/dev/null)
  nfiles=$((nfiles + $(find "$dir" -name '*.proto' | wc -l)))
  pushed+=("$m")
done
echo "pushed ${#order[@]} modules ($nfiles .proto files) of envoy-multi to $host"

# The consumer depends on all 7 and imports one file of each.
consumer="$work/consumer"
mkdir -p "$consumer"
{
  echo "version: v2"
  echo "deps:"
  for m in "${order[@]}"; do echo "  - $host/bench/$m"; done
} > "$consumer/buf.yaml"
{
  echo 'syntax = "proto3";'
  echo 'package consumer;'
  for m in "${order[@]}"; do
    f=$(cd "$work/envoy-multi/$m" && find . -name '*.proto' | sort | head -n 1 | sed 's|^\./||')
    echo "import \"$f\";"
  done
} > "$consumer/consumer.proto"

export BUF_CACHE_DIR="$work/consumer-cache"
run() { # label
  settle
  local before start end after
  before=$(requests)
  start=$(date +%s.%N)
  (cd "$consumer" && "$pm" dep update 2>"$work/err") || { cat "$work/err" >&2; exit 1; }
  end=$(date +%s.%N)
  settle
  after=$(requests)
  printf '%-5s dep update: %s s, %d requests: %s\n' "$1" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%6.2f", b - a }')" $((after - before)) "$(procedures $((after - before)))"
}
for i in $(seq "$runs"); do
  rm -rf "$BUF_CACHE_DIR" "$consumer/buf.lock"
  run cold
done
for i in $(seq "$runs"); do
  run warm
done
