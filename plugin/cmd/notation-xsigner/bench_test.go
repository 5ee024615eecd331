package main

import (
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// BenchmarkMetadataProcess measures what notation pays for every plugin
// discovery: starting the executable and answering get-plugin-metadata (no
// AWS configuration is loaded, no file or network I/O happens).
func BenchmarkMetadataProcess(b *testing.B) {
	exe := plugintest.Binary(b)
	env := plugintest.Env(b)
	for b.Loop() {
		r := plugintest.Run(b, exe, env, "{}", "get-plugin-metadata")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, `"name":"xsigner"`) {
			b.Fatalf("get-plugin-metadata: %+v", r)
		}
	}
}

// BenchmarkVersionProcess measures a bare start of the executable (the
// framework's version command), the floor under every protocol command.
func BenchmarkVersionProcess(b *testing.B) {
	exe := plugintest.Binary(b)
	env := plugintest.Env(b)
	for b.Loop() {
		if r := plugintest.Run(b, exe, env, nil, "version"); r.ExitCode != 0 {
			b.Fatalf("version: %+v", r)
		}
	}
}
