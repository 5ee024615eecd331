// Package e2e holds xsigner's end-to-end tests: the real notation CLI, a real
// OCI registry, oras, the plugin binary and the emulator, run as processes by
// package harness.
//
// The tests carry the build tag e2e, so `go test ./...` skips them. Run them
// with `make e2e`, which needs `make tools` (the pinned notation, registry and
// oras in .tools/bin) and `make build` (bin/notation-xsigner and
// bin/xsigner-emulator):
//
//	bash internal/tools/install-tools.sh
//	go test -race -count=1 -tags e2e ./internal/e2e/...
package e2e
