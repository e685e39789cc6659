module example.test/gen/go/acme/weather/connectrpc/go

go 1.25

require (
	connectrpc.com/connect v1.21.1
	example.test/gen/go/acme/units/connectrpc/go v1.21.1-20260101120000-0190a1b2c3d4.1
	example.test/gen/go/acme/weather/protocolbuffers/go v1.36.12-20260102093015-0190f00dcafe.1
)
