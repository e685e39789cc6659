package image

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protowire"
)

// Format is an output encoding.
type Format string

// The formats `build -o` accepts.
const (
	FormatBinary Format = "binpb"
	FormatJSON   Format = "json"
	FormatText   Format = "txtpb"
)

// ParseOutput splits an -o value into a path and a format. The format comes
// from an explicit "#format=<f>" suffix or from the extension; "-" means
// binary on standard output.
func ParseOutput(output string) (path string, format Format, err error) {
	path = output
	if i := strings.LastIndex(output, "#"); i >= 0 {
		path = output[:i]
		opt := output[i+1:]
		f, ok := strings.CutPrefix(opt, "format=")
		if !ok {
			return "", "", fmt.Errorf("invalid output %q: only the format=<binpb|json|txtpb> option is supported after #", output)
		}
		format, err = parseFormat(f)
		if err != nil {
			return "", "", fmt.Errorf("invalid output %q: %w", output, err)
		}
		return path, format, nil
	}
	switch {
	case path == "-" || path == "/dev/null":
		return path, FormatBinary, nil
	case strings.HasSuffix(path, ".binpb"), strings.HasSuffix(path, ".bin"):
		return path, FormatBinary, nil
	case strings.HasSuffix(path, ".json"):
		return path, FormatJSON, nil
	case strings.HasSuffix(path, ".txtpb"):
		return path, FormatText, nil
	case strings.HasSuffix(path, ".yaml"), strings.HasSuffix(path, ".yml"):
		return "", "", fmt.Errorf("invalid output %q: protomod does not write YAML images; use .json (the same field names) or .txtpb", output)
	}
	return "", "", fmt.Errorf("invalid output %q: cannot tell the format from the extension; use .binpb, .json or .txtpb, or add #format=binpb|json|txtpb", output)
}

func parseFormat(s string) (Format, error) {
	switch s {
	case "binpb", "bin":
		return FormatBinary, nil
	case "json":
		return FormatJSON, nil
	case "txtpb":
		return FormatText, nil
	}
	return "", fmt.Errorf("unknown format %q: must be binpb, json or txtpb", s)
}

// WriteBinary writes the image (or, with asFileDescriptorSet, a plain
// FileDescriptorSet) in the binary wire format. Files are encoded in
// parallel and written in order.
func (img *Image) WriteBinary(w io.Writer, asFileDescriptorSet bool) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	encoded := make([][]byte, len(img.Files))
	ready := make([]chan struct{}, len(img.Files))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	spawned := make(chan struct{})
	go func() {
		defer close(spawned)
		for i, f := range img.Files {
			g.Go(func() error {
				defer close(ready[i])
				b, err := f.marshal(asFileDescriptorSet)
				encoded[i] = b
				return err
			})
		}
	}()
	var head []byte
	for i := range img.Files {
		<-ready[i]
		b := encoded[i]
		if b == nil {
			break // an encoding error; g.Wait reports it
		}
		head = protowire.AppendTag(head[:0], 1, protowire.BytesType)
		head = protowire.AppendVarint(head, uint64(len(b)))
		if _, err := bw.Write(head); err != nil {
			return err
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
		encoded[i] = nil
	}
	<-spawned
	if err := g.Wait(); err != nil {
		return err
	}
	return bw.Flush()
}
