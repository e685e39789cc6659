module example.test/gen/go/acme/weather/protocolbuffers/go

go 1.23

require (
	example.test/gen/go/acme/units/protocolbuffers/go v1.36.12-20260101120000-0190a1b2c3d4.1
	google.golang.org/protobuf v1.36.12
)
