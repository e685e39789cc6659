#!/usr/bin/env bash
# Compares `protomod build` with protoc on a corpus workspace, side by side in
# one run: the two tools alternate, RUNS times each, and the medians of wall
# time and peak RSS are compared. Usage:
#
#   scripts/bench/build-vs-protoc.sh [WORKSPACE] [RUNS]
#
# WORKSPACE defaults to googleapis-full from ../shared/corpora (unpacked into a
# temp dir); RUNS defaults to 5. Needs protoc (apt-get install protobuf-compiler)
# and GNU time (apt-get install time).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ws_name=${1:-googleapis-full}
runs=${2:-5}

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time not found: apt-get install time" >&2; exit 1; }

corpora="$root/../shared/corpora/bench-workspaces.tar.zst"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -d "$ws_name" ]; then
  ws=$(cd "$ws_name" && pwd)
else
  [ -f "$corpora" ] || { echo "no workspace $ws_name and no corpora at $corpora" >&2; exit 1; }
  tar --zstd -xf "$corpora" -C "$work"   # whole archive: the workspaces share files through hard links
  ws="$work/$ws_name"
fi

go build -o "$work/protomod" "$root/cmd/protomod"

# protoc needs every module directory as an include path and every file as input.
mods=$(cd "$ws" && "$work/protomod" ls-files | awk -F/ '{print $1}' | sort -u)
includes=(); for m in $mods; do includes+=(-I "$ws/$m"); done
(cd "$ws" && "$work/protomod" ls-files) | sed 's|^[^/]*/||' > "$work/files.txt"
nfiles=$(wc -l < "$work/files.txt")

measure() { # label, command... ; appends "wall rss" to $work/<label>
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  cat "$work/t" >> "$work/$label"
}

for mode in exclude-source-info with-source-info; do
  pflags=(); mflags=(--exclude-source-info)
  if [ "$mode" = with-source-info ]; then pflags=(--include_source_info); mflags=(); fi
  rm -f "$work/protoc" "$work/protomod.m"
  for i in $(seq "$runs"); do
    (cd "$ws" && measure protoc protoc "${includes[@]}" --include_imports "${pflags[@]}" -o "$work/protoc.binpb" $(cat "$work/files.txt"))
    (cd "$ws" && measure protomod.m "$work/protomod" build "${mflags[@]}" -o "$work/protomod.binpb")
  done
  median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  pw=$(awk '{print $1}' "$work/protoc" | median); pr=$(awk '{print $2}' "$work/protoc" | median)
  mw=$(awk '{print $1}' "$work/protomod.m" | median); mr=$(awk '{print $2}' "$work/protomod.m" | median)
  echo "$ws_name ($nfiles files), $mode, median of $runs runs:"
  printf '  protoc    %6.2f s  %7.0f MiB\n' "$pw" "$(echo "$pr/1024" | bc -l)"
  printf '  protomod  %6.2f s  %7.0f MiB\n' "$mw" "$(echo "$mr/1024" | bc -l)"
  printf '  ratio     %6.2fx wall  %5.2fx peak RSS\n' "$(echo "$mw/$pw" | bc -l)" "$(echo "$mr/$pr" | bc -l)"
done
