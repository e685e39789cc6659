module example.test/gen/go/acme/weather/acme/plain

go 1.22.3
