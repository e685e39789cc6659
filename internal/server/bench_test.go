package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"
)

// BenchmarkDownload downloads a 50-file module (about 2 KiB a file) from
// parallel clients over loopback. The load program in loadbench/ is the
// full measurement; this one is for profiling.
func BenchmarkDownload(b *testing.B) {
	e := newEnv(b)
	c := e.client(e.user("alice"))
	c.createModule(b, "alice", "m", modulev1.ModuleVisibility_MODULE_VISIBILITY_PUBLIC)
	files := map[string]string{}
	for i := range 50 {
		files[fmt.Sprintf("m/v1/f%02d.proto", i)] = "syntax = \"proto3\";\n" + strings.Repeat("// padding padding padding\n", 75)
	}
	id := c.mustPush(b, nil, content{owner: "alice", module: "m", files: files})[0].Id
	req := &modulev1.DownloadRequest{Values: []*modulev1.DownloadRequest_Value{{ResourceRef: idRef(id)}}}
	anon := e.client("")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := anon.download.Download(context.Background(), connect.NewRequest(req))
			if err != nil {
				b.Error(err)
				return
			}
			if len(resp.Msg.Contents[0].Files) != 50 {
				b.Error("wrong file count")
			}
		}
	})
}
