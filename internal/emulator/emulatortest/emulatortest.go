// Package emulatortest starts xsigner-emulator in-process for tests of other
// packages: a real HTTP server on 127.0.0.1 that real SDK clients talk to.
package emulatortest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// RegistryBinary returns the path of the distribution registry that `make
// tools` builds (<module root>/.tools/bin/registry), or "" when it is not
// there.
func RegistryBinary(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(data), "module github.com/xsigner/xsigner\n") {
			p := filepath.Join(d, ".tools", "bin", "registry")
			if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
				return p
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// StartRegistryUpstream starts the real distribution registry of `make
// tools` with in-memory storage on a free loopback port, for
// emulator.Options.RegistryUpstream, and returns its base URL. It skips the
// test, saying to run `make tools`, when the binary is missing. The process
// is killed in t.Cleanup.
func StartRegistryUpstream(t testing.TB) string {
	t.Helper()
	bin := RegistryBinary(t)
	if bin == "" {
		t.Skip("skipped: .tools/bin/registry is missing; run `make tools` to build the distribution registry")
	}
	for attempt := 0; ; attempt++ {
		u, err := startRegistry(t, bin)
		if err == nil {
			return u
		}
		if attempt == 2 {
			t.Fatalf("emulatortest: starting registry: %v", err)
		}
	}
}

func startRegistry(t testing.TB, bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	_ = l.Close()
	dir := t.TempDir()
	config := "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  inmemory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: " + addr + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o600); err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir, "REGISTRY_HTTP_SECRET=" + rand.Text()}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(base + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("Docker-Distribution-Api-Version") == "registry/2.0" {
				t.Cleanup(stop)
				return base, nil
			}
		}
		select {
		case <-exited:
			return "", fmt.Errorf("registry exited: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("registry on %s not ready after 15s: %s", addr, stderr.String())
		}
	}
}
