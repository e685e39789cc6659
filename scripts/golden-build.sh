#!/usr/bin/env bash
# Regenerates the golden images under testdata/golden/build with the reference
# CLI (buf v1.75.0 on PATH). Each workspace of testdata/workspaces is built with
# every flag combination that internal/cli's golden test checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v buf >/dev/null || { echo "buf is not on PATH: go install github.com/bufbuild/buf/cmd/buf@v1.75.0" >&2; exit 1; }
buf --version | grep -qx '1.75.0' || echo "warning: buf $(buf --version) is not 1.75.0" >&2
for ws in "$root"/testdata/workspaces/*/; do
  name=$(basename "$ws")
  out="$root/testdata/golden/build/$name"
  mkdir -p "$out"
  (cd "$ws" &&
    buf build -o "$out/default.binpb" &&
    buf build --exclude-source-info -o "$out/exclude-source-info.binpb" &&
    buf build --exclude-imports -o "$out/exclude-imports.binpb" &&
    buf build --as-file-descriptor-set -o "$out/as-file-descriptor-set.binpb" &&
    buf build -o "$out/default.json" &&
    buf build --exclude-source-info -o "$out/exclude-source-info.txtpb")
  echo "wrote $out"
done
