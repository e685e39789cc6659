#!/usr/bin/env bash
# Measures generated Go SDKs served by `protomod serve`: `go get` of the
# protocolbuffers/go SDK of bsr-googleapis (one module) and of envoy (whose
# SDK requires the SDKs of its 6 dependency modules), first when the
# registry generates the SDKs and then when it serves them from its store,
# each time with an empty module cache; then the latency of downloading a
# stored zip. Usage:
#
#   scripts/bench/sdk.sh [GETS]
#
# The modules are pushed as public modules <registry>/bench/<name>:
# bsr-googleapis as bench/bsr-googleapis, and the 7 modules of envoy-multi in
# dependency order as in dep-update.sh (each declares the registry modules
# its imports need). SDK module paths start with 127.0.0.1 (the public host
# without its port).
#
# Each go get is `go get <sdk>/...@latest`: it loads every package of the
# SDK, so the SDKs it imports are downloaded (and generated) too. Public
# modules (google.golang.org/protobuf) come from a module cache filled
# before the timed runs (a file:// GOPROXY entry), and GOSUMDB is off, so
# the timings do not include the internet. GOCACHE is the user's.
#
# Printed: per go get, the wall time, the registry's CPU time (utime+stime
# from /proc/<pid>/stat) and the number of SDKs it generated; then the
# p50/p90 of GETS (default 100) sequential curl downloads of each stored
# zip (time_total).
#
# Needs ../shared/corpora/bench-workspaces.tar.zst and the go command;
# without the corpora the script says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
gets=${1:-100}
corpora="$root/../shared/corpora/bench-workspaces.tar.zst"
if [ ! -f "$corpora" ]; then
  echo "skipped: no corpora at $corpora (bsr-googleapis and envoy-multi are needed)"
  exit 0
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

tar --zstd -xf "$corpora" -C "$work" envoy-multi bsr-googleapis
go build -o "$work/protomod" "$root/cmd/protomod"
(cd "$root" && go build -o "$work/protoc-gen-connect-go" connectrpc.com/connect/cmd/protoc-gen-connect-go)
pm="$work/protomod"

# A registry on a free port, with a user and a token.
"$pm" serve user create bench --data-dir "$work/data" >/dev/null
token=$("$pm" serve token create --user bench --data-dir "$work/data")
"$pm" serve --data-dir "$work/data" --addr 127.0.0.1:0 --addr-file "$work/addr" \
  --connect-go "$work/protoc-gen-connect-go" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 300); do [ -s "$work/addr" ] && break; sleep 0.05; done
[ -s "$work/addr" ] || { echo "protomod serve did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
host=$(cat "$work/addr")
sdkhost=${host%:*}

# A clean CLI environment talking plain HTTP to the registry.
mkdir -p "$work/config" "$work/home"
printf 'version: v1\ntls:\n  use: false\n' > "$work/config/config.yaml"
gocache=$(go env GOCACHE)
export HOME="$work/home" BUF_CONFIG_DIR="$work/config" BUF_TOKEN="$token" NETRC="$work/home/.netrc"
export BUF_CACHE_DIR="$work/push-cache" XDG_CACHE_HOME="$work/home/.cache"
push() { (cd "$1" && "$pm" push --create --create-visibility public >/dev/null); }

# bsr-googleapis: one module.
dir="$work/push/bsr-googleapis"
mkdir -p "$dir"
cp -r "$work/bsr-googleapis/proto/." "$dir/"
printf 'version: v2\nname: %s/bench/bsr-googleapis\n' "$host" > "$dir/buf.yaml"
push "$dir"

# envoy-multi: the 7 modules, dependencies first (as dep-update.sh does).
order=(googleapis protoc-gen-validate cel-spec client-model opentelemetry xds envoy)
pushed=()
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
    {
      echo "version: v2"
      echo "name: $host/bench/$m"
      if grep -q 'name:' "$dir/buf.lock"; then
        echo "deps:"
        grep '  - name:' "$dir/buf.lock" | sed 's/  - name: /  - /'
      fi
    } > "$dir/buf.yaml"
  fi
  push "$dir"
  pushed+=("$m")
done
echo "pushed bench/bsr-googleapis and the ${#order[@]} modules of envoy-multi to $host"

# Public modules for the timed runs, fetched once.
public="$work/public-modcache"
mkdir -p "$work/warm"
(cd "$work/warm" && printf 'module warm\n\ngo 1.25\n' > go.mod &&
  GOMODCACHE="$public" GOFLAGS=-modcacherw GOPATH="$work/gopath" go mod download -x google.golang.org/protobuf@v1.36.12 2>/dev/null)

ticks=$(getconf CLK_TCK)
cpu() { # the server's utime+stime in seconds
  awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$server_pid/stat"
}
generated() { grep -c 'generated SDK' "$work/server.log" || true; }

results=()
goget() { # label sdk-module-path
  local consumer="$work/consumer-$RANDOM"
  mkdir -p "$consumer"
  printf 'module consumer\n\ngo 1.25\n' > "$consumer/go.mod"
  local cpu0 cpu1 gen0 gen1 start end
  cpu0=$(cpu); gen0=$(generated)
  start=$(date +%s.%N)
  (cd "$consumer" && env GOPROXY="http://$host/gen/go,file://$public/cache/download" GOSUMDB=off GONOSUMDB="$sdkhost" \
    GOMODCACHE="$work/modcache-$RANDOM" GOPATH="$work/gopath" GOCACHE="$gocache" GOFLAGS=-modcacherw \
    GOTOOLCHAIN=local GOWORK=off GOTELEMETRY=off GOAUTH=off GOPRIVATE= GONOPROXY= \
    go get "$2/...@latest" >"$work/goget.log" 2>&1) || { cat "$work/goget.log" >&2; tail -n 20 "$work/server.log" >&2; exit 1; }
  end=$(date +%s.%N)
  cpu1=$(cpu); gen1=$(generated)
  results+=("$(printf '| %-40s | %8.2f | %10.2f | %9d |' "$1" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" \
    "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" $((gen1 - gen0)))")
}

gapis="$sdkhost/gen/go/bench/bsr-googleapis/protocolbuffers/go"
envoy="$sdkhost/gen/go/bench/envoy/protocolbuffers/go"
goget "bsr-googleapis, first (generates)" "$gapis"
goget "bsr-googleapis, second (stored)" "$gapis"
goget "envoy + 6 deps, first (generates)" "$envoy"
goget "envoy + 6 deps, second (stored)" "$envoy"

echo
echo "| go get <sdk>/...@latest, empty module cache | wall (s) | server CPU (s) | SDKs generated |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${results[@]}"

# Latency of stored zips.
echo
echo "| stored .zip, $gets sequential GETs | bytes | p50 (ms) | p90 (ms) |"
echo "|---|---:|---:|---:|"
for path in "$gapis" "$envoy"; do
  version=$(curl -sf "http://$host/gen/go/$path/@latest" | sed 's/.*"Version":"\([^"]*\)".*/\1/')
  url="http://$host/gen/go/$path/@v/$version.zip"
  size=$(curl -sf "$url" | wc -c)
  for _ in $(seq "$gets"); do curl -sf -o /dev/null -w '%{time_total}\n' "$url"; done | sort -n > "$work/times"
  p50=$(awk -v n="$gets" 'NR == int((n + 1) / 2) { printf "%.2f", $1 * 1000 }' "$work/times")
  p90=$(awk -v n="$gets" 'NR == int(n * 0.9) { printf "%.2f", $1 * 1000 }' "$work/times")
  printf '| %s@%s | %d | %s | %s |\n' "${path#"$sdkhost"/gen/go/}" "$version" "$size" "$p50" "$p90"
done
