version: v1
name: buf.build/acme/old
