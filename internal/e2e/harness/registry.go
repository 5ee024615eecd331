package harness

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// registryReadyTimeout bounds the wait for a started registry to say where
// it listens and to answer there. It answers in about 50 ms on the project's
// build machines.
const registryReadyTimeout = 15 * time.Second

// Registry is a running distribution registry started by [StartRegistry].
type Registry struct {
	// Host is "127.0.0.1:PORT", for references such as Host+"/repo:tag".
	Host string
	// Process is the registry process; the test's cleanup stops it.
	Process *Process
}

// StartRegistry starts a distribution registry with in-memory storage on
// 127.0.0.1 port 0, reads the port the kernel gave it from its log, and
// waits until GET /v2/ answers 200 there. Letting the registry bind port 0
// itself leaves no moment in which another process (such as a parallel
// test's registry) could take a port chosen for it. The registry (its whole
// process group) is killed in t.Cleanup, even when the test fails, and its
// log is shown on failure.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	tools := ExternalTools(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, []byte(registryConfig("127.0.0.1:0")), 0o600); err != nil {
		t.Fatalf("writing registry config: %v", err)
	}
	proc := StartProcess(t, ProcessSpec{
		Name: "registry",
		Path: tools.Registry,
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
	ctx, cancel := context.WithTimeout(context.Background(), registryReadyTimeout)
	defer cancel()
	host, err := waitListening(ctx, proc)
	if err == nil {
		err = waitRegistryReady(ctx, proc, host)
	}
	if err != nil {
		proc.Stop()
		t.Fatalf("starting registry: %v\n--- registry stderr ---\n%s", err, proc.Stderr())
	}
	return &Registry{Host: host, Process: proc}
}

// listeningPattern matches the registry's log line naming the address it
// bound, msg="listening on 127.0.0.1:PORT".
var listeningPattern = regexp.MustCompile(`msg="listening on (127\.0\.0\.1:[0-9]+)"`)

// waitListening waits for the registry's "listening on" log line and
// returns the address in it.
func waitListening(ctx context.Context, proc *Process) (string, error) {
	for {
		if m := listeningPattern.FindStringSubmatch(proc.Stderr()); m != nil {
			return m[1], nil
		}
		select {
		case <-proc.Done():
			return "", fmt.Errorf("registry exited before listening: %s", proc.exitDescription())
		case <-ctx.Done():
			return "", fmt.Errorf("registry logged no listening address after %s", registryReadyTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
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

// waitRegistryReady polls http://host/v2/ with a short, growing backoff until
// the registry answers 200 with its API version header, the process exits, or
// ctx ends.
func waitRegistryReady(ctx context.Context, proc *Process, host string) error {
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
