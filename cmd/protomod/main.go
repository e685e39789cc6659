// Command protomod is a local-first, buf-compatible Protobuf module tool and
// a self-hostable schema registry.
package main

import (
	"os"

	"github.com/protomod/protomod/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
