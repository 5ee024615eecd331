package harness

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	// registryReadyTimeout bounds the wait for a started registry to answer.
	// It answers in about 50 ms on the project's build machines.
	registryReadyTimeout = 15 * time.Second
	// registryStartAttempts is how often StartRegistry picks a new port when
	// another process took the free port it chose before the registry bound it.
	registryStartAttempts = 3
)

// Registry is a running distribution registry started by [StartRegistry].
type Registry struct {
	// Host is "127.0.0.1:PORT", for references such as Host+"/repo:tag".
	Host string
	// Process is the registry process; the test's cleanup stops it.
	Process *Process
}

// StartRegistry starts a distribution registry with in-memory storage on a
// free loopback port and waits until GET /v2/ answers 200. The registry (its
// whole process group) is killed in t.Cleanup, even when the test fails, and
// its log is shown on failure.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	tools := ExternalTools(t)
	var lastErr error
	for range registryStartAttempts {
		reg, err := startRegistry(t, tools.Registry)
		if err == nil {
			return reg
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("starting registry: %v", lastErr)
	return nil
}

// errPortTaken says the registry could not bind its port (taken in the
// moment between freeLoopbackPort closing it and the registry binding it).
var errPortTaken = errors.New("port already in use")

func startRegistry(t testing.TB, registryPath string) (*Registry, error) {
	t.Helper()
	dir := t.TempDir()
	host, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte(registryConfig(host)), 0o600); err != nil {
		return nil, fmt.Errorf("writing registry config: %w", err)
	}
	proc := StartProcess(t, ProcessSpec{
		Name: "registry " + host,
		Path: registryPath,
		Args: []string{"serve", config},
		Env: []string{
			"HOME=" + dir,
			"TMPDIR=" + dir,
			// Without a secret the registry logs a warning and makes one up;
			// a per-run random one keeps the log clean.
			"REGISTRY_HTTP_SECRET=" + rand.Text(),
		},
		Dir: dir,
	})
	if err := waitRegistryReady(proc, host); err != nil {
		proc.Stop()
		if strings.Contains(proc.Stderr(), "address already in use") {
			t.Logf("registry could not bind %s, retrying on another port", host)
			return nil, fmt.Errorf("%w: %s", errPortTaken, host)
		}
		return nil, fmt.Errorf("%w\n--- registry stderr ---\n%s", err, proc.Stderr())
	}
	return &Registry{Host: host, Process: proc}, nil
}

// registryConfig is a minimal registry configuration: in-memory storage,
// deletes allowed, no access log, no background upload purging.
func registryConfig(addr string) string {
	return `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  inmemory: {}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ` + addr + "\n"
}

// freeLoopbackAddr returns "127.0.0.1:PORT" for a port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	return addr, nil
}

// waitRegistryReady polls http://host/v2/ with a short, growing backoff until
// the registry answers 200 with its API version header, the process exits, or
// registryReadyTimeout passes. The header check makes sure it is our registry
// answering, not something else that took the port.
func waitRegistryReady(proc *Process, host string) error {
	ctx, cancel := context.WithTimeout(context.Background(), registryReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	url := "http://" + host + "/v2/"
	backoff := 5 * time.Millisecond
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("Docker-Distribution-Api-Version") == "registry/2.0" {
				return nil
			}
			err = fmt.Errorf("GET %s: status %s, API version header %q", url, resp.Status,
				resp.Header.Get("Docker-Distribution-Api-Version"))
		}
		lastErr = err
		select {
		case <-proc.Done():
			return fmt.Errorf("registry exited before answering: %s", proc.exitDescription())
		case <-ctx.Done():
			return fmt.Errorf("registry not ready after %s: %w", registryReadyTimeout, lastErr)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 200*time.Millisecond)
	}
}
