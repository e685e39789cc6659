module example.test/gen/go/acme/weather/connectrpc/go/v2

go 1.26

require connectrpc.com/connect/v2 v2.0.0
