version: v1beta1
deps:
  - buf.build/acme/geo:v2
  - buf.build/acme/zone
