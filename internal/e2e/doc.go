// Package e2e holds xsigner's end-to-end tests: the real notation CLI, a real
// OCI registry, oras, the plugin binary and the emulator, run as processes by
// package harness.
//
// Each test starts its own emulator (the two-account example world, edited
// per test where a case needs it), its own registry and its own notation
// environment, installs the plugin (bin/notation-xsigner, or the archive of
// `make package`) as xsigner and under the AWS Signer plugin's name, pushes
// with oras, signs with `notation sign --plugin xsigner`, and verifies with a
// signingAuthority trust store holding the emulator's root. Account A's
// revocations go through the Signer API with the AWS SDK (and the admin API
// for certificates). TestDemo runs internal/demo/demo.sh, what `make demo`
// runs.
//
// The tests carry the build tag e2e, so `go test ./...` skips them. Run them
// with `make e2e`, which first builds what they need (`make build package
// tools`: the pinned notation, registry and oras in .tools/bin, the plugin
// and emulator in bin/, the archives in dist/):
//
//	make build package tools
//	CGO_ENABLED=1 go test -race -count=1 -tags e2e ./internal/e2e/...
package e2e
