version: v1
foo: 1
