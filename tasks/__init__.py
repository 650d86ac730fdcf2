"""runenv: build portable Python run environments with doit."""

BUILDER_VERSION = "0.1.0"
