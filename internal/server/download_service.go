package server

import (
	"context"
	"slices"
	"strings"

	"buf.build/gen/go/bufbuild/registry/connectrpc/go/buf/registry/module/v1/modulev1connect"
	modulev1 "buf.build/gen/go/bufbuild/registry/protocolbuffers/go/buf/registry/module/v1"
	"connectrpc.com/connect"

	"github.com/protomod/protomod/internal/digest"
	"github.com/protomod/protomod/internal/store"
)

type downloadService struct {
	modulev1connect.UnimplementedDownloadServiceHandler
	s *Server
}

// Download returns the files of each referenced commit, in request order:
// exactly the files the commit's digest covers, unless file types or paths
// narrow them.
func (h *downloadService) Download(ctx context.Context, req *connect.Request[modulev1.DownloadRequest]) (*connect.Response[modulev1.DownloadResponse], error) {
	values := req.Msg.GetValues()
	if err := checkRefCount(len(values), "download values"); err != nil {
		return nil, err
	}
	out := make([]*modulev1.DownloadResponse_Content, len(values))
	for i, v := range values {
		c, _, err := h.s.resolveCommit(ctx, v.GetResourceRef())
		if err != nil {
			return nil, err
		}
		refs, err := h.s.store.CommitFiles(ctx, c.ID)
		if err != nil {
			return nil, h.s.internal(ctx, "read commit files", err)
		}
		refs, err = filterFiles(c.ID, refs, v.GetFileTypes(), v.GetPaths(), v.GetPathsAllowNotExist())
		if err != nil {
			return nil, err
		}
		files := make([]*modulev1.File, len(refs))
		for j, f := range refs {
			data, err := h.s.store.Blob(ctx, f.SHA256)
			if err != nil {
				return nil, h.s.internal(ctx, "read file "+f.Path+" of commit "+c.ID, err)
			}
			files[j] = &modulev1.File{Path: f.Path, Content: data}
		}
		out[i] = &modulev1.DownloadResponse_Content{Commit: commitProto(c), Files: files}
	}
	return connect.NewResponse(&modulev1.DownloadResponse{Contents: out}), nil
}

func fileTypeOf(path string) modulev1.FileType {
	switch {
	case strings.HasSuffix(path, ".proto"):
		return modulev1.FileType_FILE_TYPE_PROTO
	case path == digest.LicensePath:
		return modulev1.FileType_FILE_TYPE_LICENSE
	default:
		return modulev1.FileType_FILE_TYPE_DOC
	}
}

// filterFiles keeps the files of the given types under the given paths (a
// path matches itself and, as a directory, everything below it). Each path
// must match something unless allowNotExist.
func filterFiles(commitID string, files []store.FileRef, types []modulev1.FileType, paths []string, allowNotExist bool) ([]store.FileRef, error) {
	if len(types) == 0 && len(paths) == 0 {
		return files, nil
	}
	matched := make([]bool, len(paths))
	var out []store.FileRef
	for _, f := range files {
		if len(types) > 0 && !slices.Contains(types, fileTypeOf(f.Path)) {
			continue
		}
		keep := len(paths) == 0
		for i, p := range paths {
			p = strings.TrimSuffix(p, "/")
			if f.Path == p || strings.HasPrefix(f.Path, p+"/") {
				matched[i], keep = true, true
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	if !allowNotExist {
		for i, ok := range matched {
			if !ok {
				return nil, notFoundf("path %q matches no file in commit %s", paths[i], commitID)
			}
		}
	}
	return out, nil
}
