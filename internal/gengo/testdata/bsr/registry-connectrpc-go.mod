module buf.build/gen/go/bufbuild/registry/connectrpc/go

go 1.25

require (
	buf.build/gen/go/bufbuild/bufplugin/connectrpc/go v1.20.0-20250718181942-e35f9b667443.1
	buf.build/gen/go/bufbuild/protovalidate/connectrpc/go v1.20.0-20250717185734-6c6e0d3c608e.1
	buf.build/gen/go/bufbuild/registry/protocolbuffers/go v1.36.11-20260831211851-b4432e12a6e7.1
	connectrpc.com/connect v1.20.0
)
