#!/usr/bin/env bash
# Builds the three corpus workspaces of ../shared/corpora with buf (v1.75.0 on
# PATH) and with protomod, under every combination of --exclude-source-info,
# --exclude-imports and --as-file-descriptor-set, and compares the images byte
# for byte. Exits 1 if any differs.
#
#   scripts/compare-corpora.sh [WORKSPACE...]     (default: all three)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpora="$root/../shared/corpora/bench-workspaces.tar.zst"
[ -f "$corpora" ] || { echo "no corpora at $corpora" >&2; exit 1; }
command -v buf >/dev/null || { echo "buf is not on PATH: go install github.com/bufbuild/buf/cmd/buf@v1.75.0" >&2; exit 1; }
workspaces=("$@"); [ ${#workspaces[@]} -gt 0 ] || workspaces=(bsr-googleapis envoy-multi googleapis-full)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar --zstd -xf "$corpora" -C "$work"
go build -o "$work/protomod" "$root/cmd/protomod"
export BUF_CACHE_DIR="$work/cache"

fail=0
for ws in "${workspaces[@]}"; do
  for flags in "" "--exclude-source-info" "--exclude-imports" "--as-file-descriptor-set" \
      "--exclude-source-info --exclude-imports" "--exclude-source-info --as-file-descriptor-set" \
      "--exclude-imports --as-file-descriptor-set" "--exclude-source-info --exclude-imports --as-file-descriptor-set"; do
    (cd "$work/$ws" && buf build $flags -o "$work/buf.binpb" && "$work/protomod" build $flags -o "$work/protomod.binpb")
    size=$(wc -c < "$work/buf.binpb")
    if cmp -s "$work/buf.binpb" "$work/protomod.binpb"; then
      printf 'identical  %-16s %10d bytes  %s\n' "$ws" "$size" "${flags:-(no flags)}"
    else
      printf 'DIFFERENT  %-16s %10d bytes  %s\n' "$ws" "$size" "${flags:-(no flags)}"
      fail=1
    fi
  done
done
exit $fail
