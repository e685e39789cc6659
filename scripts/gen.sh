#!/usr/bin/env bash
# Regenerates internal/gen from proto/ (the alpha AuthnService that is not
# published as Go code). Needs Go and the buf CLI (BUF, default: buf on PATH,
# then ~/go/bin/buf). The code generators are installed at the versions of
# google.golang.org/protobuf and connectrpc.com/connect that go.mod pins, into
# a temporary directory, so the output matches the runtime libraries.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

buf="${BUF:-}"
if [[ -z "$buf" ]]; then
  if command -v buf >/dev/null 2>&1; then
    buf="$(command -v buf)"
  elif [[ -x "$HOME/go/bin/buf" ]]; then
    buf="$HOME/go/bin/buf"
  else
    echo "gen.sh: buf CLI not found; install it or set BUF=/path/to/buf" >&2
    exit 1
  fi
fi

modversion() {
  # The version go.mod requires for module $1.
  go list -m -f '{{.Version}}' "$1"
}

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
GOBIN="$tools" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$(modversion google.golang.org/protobuf)"
GOBIN="$tools" go install "connectrpc.com/connect/cmd/protoc-gen-connect-go@$(modversion connectrpc.com/connect)"

rm -rf internal/gen
"$buf" generate proto --template '{
  "version": "v2",
  "plugins": [
    {"local": "'"$tools"'/protoc-gen-go", "out": "internal/gen", "opt": ["paths=source_relative"]},
    {"local": "'"$tools"'/protoc-gen-connect-go", "out": "internal/gen", "opt": ["paths=source_relative"]}
  ]
}'
gofmt -l internal/gen
