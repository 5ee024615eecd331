// Package emulatortest starts xsigner-emulator in-process for tests of other
// packages: a real HTTP server on 127.0.0.1 that real SDK clients talk to.
package emulatortest

import (
	"net/http/httptest"
	"testing"

	"github.com/xsigner/xsigner/internal/emulator"
)

// Server is a running emulator. URL is its base URL (http://127.0.0.1:PORT),
// for BaseEndpoint / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SIGNER.
type Server struct {
	URL string
	*emulator.Emulator
}

// Start parses worldJSON, starts an emulator with in-memory state and
// registers its shutdown with t.Cleanup. It fails the test on any error.
func Start(t testing.TB, worldJSON string) *Server {
	t.Helper()
	return StartWithOptions(t, worldJSON, emulator.Options{})
}

// StartWithOptions is Start with emulator options (state dir, clock, log).
func StartWithOptions(t testing.TB, worldJSON string, opts emulator.Options) *Server {
	t.Helper()
	w, err := emulator.ParseWorld([]byte(worldJSON))
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	e, err := emulator.New(w, opts)
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	hs := httptest.NewServer(e)
	t.Cleanup(func() {
		_ = e.Close() // release hung requests first, or hs.Close would wait for them
		hs.Close()
	})
	return &Server{URL: hs.URL, Emulator: e}
}
