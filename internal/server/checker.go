package server

import (
	"context"

	"github.com/protomod/protomod/internal/store"
)

// CheckModule is one module given to a Checker.
type CheckModule struct {
	// Name is owner/name, for messages.
	Name string
	// Files are the module's files (.proto, LICENSE, doc file).
	Files []store.File
}

// Checker validates an upload before anything is stored: the uploaded
// modules must compile together with their dependencies. Imports resolve to
// the first module that has the path: uploaded modules in order, then deps
// in order, then the Well-Known Types. The default is CompileChecker; a
// test may inject another through Config.Checker.
type Checker interface {
	// Check returns the import paths declared by every .proto file of the
	// uploaded modules, keyed by file path (paths are unique across the
	// uploaded modules). Its error text is shown to the client after
	// "the upload does not compile: " (unless it already starts so).
	Check(ctx context.Context, uploaded []CheckModule, deps []CheckModule) (imports map[string][]string, err error)
}
