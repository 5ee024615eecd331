package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emulatorReadyTimeout bounds the wait for a started emulator to print its URL.
const emulatorReadyTimeout = 15 * time.Second

// Emulator is a running xsigner-emulator started by [StartEmulator].
type Emulator struct {
	// URL is the base URL the emulator printed, "http://127.0.0.1:PORT":
	// the endpoint of both STS and Signer, and of the admin API under /_xsigner/.
	URL string
	// WorldFile is the world file it serves.
	WorldFile string
	// Process is the emulator process; the test's cleanup stops it.
	Process *Process

	client *http.Client
}

// Call is one entry of the emulator's journal (GET /_xsigner/calls).
type Call struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"requestId"`
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Caller    string    `json:"caller,omitempty"`
	Region    string    `json:"region,omitempty"`
	Status    int       `json:"status"`
	ErrorCode string    `json:"errorCode,omitempty"`
}

// StartEmulator writes world (a world file, JSON) to a temporary directory
// and starts bin/xsigner-emulator on a free loopback port with it, its state
// in memory. It returns once the emulator has printed its URL. The emulator
// (its whole process group) is killed in t.Cleanup, even when the test fails,
// and its log is shown on failure.
func StartEmulator(t testing.TB, world []byte) *Emulator {
	t.Helper()
	tools := Tools(t)
	dir := t.TempDir()
	worldFile := filepath.Join(dir, "world.json")
	if err := os.WriteFile(worldFile, world, 0o600); err != nil {
		t.Fatalf("writing world file: %v", err)
	}
	proc := StartProcess(t, ProcessSpec{
		Name: "xsigner-emulator",
		Path: tools.Emulator,
		Args: []string{"--listen", "127.0.0.1:0", "--world", worldFile},
		Env:  []string{"HOME=" + dir, "TMPDIR=" + dir},
		Dir:  dir,
	})
	url, err := waitFirstLine(proc, emulatorReadyTimeout)
	if err != nil {
		proc.Stop()
		t.Fatalf("starting xsigner-emulator: %v\n--- stderr ---\n%s", err, proc.Stderr())
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		proc.Stop()
		t.Fatalf("xsigner-emulator printed %q as its URL, want http://127.0.0.1:PORT", url)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	return &Emulator{URL: url, WorldFile: worldFile, Process: proc, client: client}
}

// waitFirstLine waits until proc has written a full first line to stdout and
// returns it without the newline.
func waitFirstLine(proc *Process, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		if line, _, ok := strings.Cut(proc.Stdout(), "\n"); ok {
			return strings.TrimSpace(line), nil
		}
		select {
		case <-proc.Done():
			return "", fmt.Errorf("exited before printing its URL: %s", proc.exitDescription())
		case <-deadline:
			return "", fmt.Errorf("no URL printed after %s", timeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// admin sends an admin API request and returns the response body, failing
// the test on a transport error or a status other than 200.
func (e *Emulator) admin(t testing.TB, method, op string, body any) []byte {
	t.Helper()
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encoding admin request %s: %v", op, err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+"/_xsigner/"+op, reqBody)
	if err != nil {
		t.Fatalf("admin request %s: %v", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("admin request %s %s: %v", method, op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("admin request %s %s: reading response: %v", method, op, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin request %s %s: status %s: %s", method, op, resp.Status, data)
	}
	return data
}

// Calls returns the emulator's journal: every STS and Signer call so far,
// oldest first.
func (e *Emulator) Calls(t testing.TB) []Call {
	t.Helper()
	var calls []Call
	if err := json.Unmarshal(e.admin(t, http.MethodGet, "calls", nil), &calls); err != nil {
		t.Fatalf("decoding the emulator's journal: %v", err)
	}
	return calls
}

// CAPEM returns the emulator's root CA certificate (PEM), the certificate of
// a signingAuthority trust store that accepts its signatures.
func (e *Emulator) CAPEM(t testing.TB) []byte {
	t.Helper()
	pem := e.admin(t, http.MethodGet, "ca.pem", nil)
	if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("GET /_xsigner/ca.pem returned no PEM certificate: %q", pem)
	}
	return pem
}

// RevokeCertificate marks a certificate hash (as GetRevocationStatus
// receives it) revoked.
func (e *Emulator) RevokeCertificate(t testing.TB, hash string) {
	t.Helper()
	e.admin(t, http.MethodPost, "revoke-certificate", map[string]string{"certificateHash": hash})
}
