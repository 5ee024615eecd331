// Package harness runs the end-to-end tools for xsigner's tests: the pinned
// notation CLI, a distribution registry and oras (built into .tools/bin by
// `make tools`), plus the project's own binaries (built into bin/ by
// `make build`).
//
// It is meant for tests only; every function takes a testing.TB and ties what
// it starts to that test's lifetime:
//
//   - [Tools] and [ExternalTools] locate the binaries relative to the module
//     root and fail the test with the make target to run when one is missing.
//   - [StartProcess] starts a long-running process in its own process group,
//     captures its output, shows it when the test fails and kills the whole
//     group in t.Cleanup.
//   - [StartRegistry] runs a registry with in-memory storage on a free
//     loopback port.
//   - [StartEmulator] runs bin/xsigner-emulator with a world file on a free
//     loopback port and reads its admin API: the journal of calls, the root
//     CA (for a signingAuthority trust store) and certificate revocation.
//   - [NewEnv] gives each test its own notation configuration, cache, HOME and
//     docker config, and a minimal environment that inherits nothing (no AWS_*
//     or XSIGNER_* variables leak in from the caller).
//
// Command lines are logged with t.Logf; environment values never are, so a
// test may put secrets in an [Env] without them reaching the test output.
package harness
