module example.test/gen/go/acme/weather/connectrpc/go

go 1.25

require (
	connectrpc.com/connect v1.21.1
	example.test/gen/go/acme/units/connectrpc/go v1.21.1-20251201000000-0123456789ab.1
	example.test/gen/go/acme/weather/protocolbuffers/go v1.36.12-20260101120000-abcdef123456.1
)
