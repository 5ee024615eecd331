package sign_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
	"github.com/xsigner/xsigner/internal/plugintest"
)

// chainConfig is the documented two-role chain: ci → codebuild-ci →
// xsigner-signer with ExternalId. One chain is two AssumeRole calls.
func (f *fixture) chainConfig(extra ...string) map[string]string {
	return f.config(append([]string{"role-arn=" + codebuildRole + "," + signerRole, "external-id=" + chainExternalID}, extra...)...)
}

// cacheEntries returns the credential-cache entry files (not the lock files).
func cacheEntries(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("credential cache directory: %v", err)
	}
	var out []string
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), ".lock") && !strings.HasPrefix(de.Name(), ".") {
			out = append(out, filepath.Join(dir, de.Name()))
		}
	}
	return out
}

// cachedSecrets reads the secret key and session token of every cache entry.
func cachedSecrets(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, p := range cacheEntries(t, dir) {
		var e struct{ SecretAccessKey, SessionToken string }
		if err := json.Unmarshal(readFile(t, p), &e); err != nil {
			t.Fatalf("cache entry %s: %v", p, err)
		}
		if e.SecretAccessKey == "" || e.SessionToken == "" {
			t.Fatalf("cache entry %s holds no credentials", p)
		}
		out = append(out, e.SecretAccessKey, e.SessionToken)
	}
	return out
}

// TestCredentialCacheAcrossProcesses: N signing processes share one
// AssumeRole chain through the on-disk cache; with credential-cache=off each
// process assumes the chain itself.
func TestCredentialCacheAcrossProcesses(t *testing.T) {
	t.Parallel()
	const n = 5
	tests := []struct {
		name        string
		cfg         []string
		wantAssumes int
	}{
		{"cache on (default)", nil, 2},
		{"credential-cache=off", []string{"credential-cache=off"}, 2 * n},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, ciUser)
			for i := 0; i < n; i++ {
				f.sign(t, request(t, releaseProfile, artifact(nil), f.chainConfig(tc.cfg...)))
			}
			calls := f.emu.Calls()
			if got := count(calls, "AssumeRole"); got != tc.wantAssumes {
				t.Errorf("%d AssumeRole calls for %d signs, want %d:%s", got, n, tc.wantAssumes, journal(calls))
			}
			if got := count(calls, "SignPayload"); got != n {
				t.Errorf("%d SignPayload calls, want %d", got, n)
			}
			if tc.wantAssumes == 2*n {
				if _, err := os.Stat(f.cacheDir); err == nil && len(cacheEntries(t, f.cacheDir)) != 0 {
					t.Errorf("credential-cache=off wrote cache entries")
				}
				return
			}
			checkCacheModes(t, f.cacheDir)
		})
	}
}

func checkCacheModes(t testing.TB, dir string) {
	t.Helper()
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode(); !m.IsDir() || m.Perm() != 0o700 {
		t.Errorf("cache dir mode %v, want drwx------", m)
	}
	entries := cacheEntries(t, dir)
	if len(entries) != 1 {
		t.Fatalf("%d cache entries, want 1: %v", len(entries), entries)
	}
	fi, err = os.Lstat(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode(); !m.IsRegular() || m.Perm() != 0o600 {
		t.Errorf("cache entry mode %v, want -rw-------", m)
	}
}

// TestCredentialCacheSurvivesCorruption breaks the cache entry between two
// signs: the second sign ignores it, assumes the chain again, and leaves a
// good entry that a third sign reuses.
func TestCredentialCacheSurvivesCorruption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, p string) { write(t, p, []byte("\x00\xffnot json at all"), 0o600) }},
		{"empty", func(t *testing.T, p string) { write(t, p, nil, 0o600) }},
		{"truncated JSON", func(t *testing.T, p string) {
			b := readFile(t, p)
			write(t, p, b[:len(b)/2], 0o600)
		}},
		{"credentials without secret", func(t *testing.T, p string) {
			var m map[string]any
			if err := json.Unmarshal(readFile(t, p), &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "secretAccessKey")
			b, _ := json.Marshal(m)
			write(t, p, b, 0o600)
		}},
		{"readable by others", func(t *testing.T, p string) {
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by a symlink", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Rename(p, target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, ciUser)
			cfg := f.chainConfig()
			f.sign(t, request(t, releaseProfile, artifact(nil), cfg))
			entries := cacheEntries(t, f.cacheDir)
			if len(entries) != 1 {
				t.Fatalf("%d cache entries after the first sign, want 1", len(entries))
			}
			tc.corrupt(t, entries[0])
			f.sign(t, request(t, releaseProfile, artifact(nil), cfg))
			f.sign(t, request(t, releaseProfile, artifact(nil), cfg))
			calls := f.emu.Calls()
			if got := count(calls, "AssumeRole"); got != 4 {
				t.Errorf("%d AssumeRole calls, want 4 (first sign, the sign after the corruption, none for the third):%s", got, journal(calls))
			}
			checkCacheModes(t, f.cacheDir)
		})
	}
}

func write(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestCredentialCacheParallelProcesses starts 8 signing processes at once
// with a cold cache: the file lock lets exactly one assume the chain.
func TestCredentialCacheParallelProcesses(t *testing.T) {
	t.Parallel()
	const procs = 8
	f := newFixture(t, world, ciUser)
	req := request(t, releaseProfile, artifact(nil), f.chainConfig())
	results := make([]plugintest.Result, procs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = f.run(t, req)
		}()
	}
	close(start)
	wg.Wait()
	for _, r := range results {
		var resp struct{ SignatureEnvelope []byte }
		r.Succeeded(t, &resp)
	}
	calls := f.emu.Calls()
	if got := count(calls, "AssumeRole"); got != 2 {
		t.Errorf("%d AssumeRole calls for %d parallel processes, want 2 (one chain):%s", got, procs, journal(calls))
	}
	if got := count(calls, "SignPayload"); got != procs {
		t.Errorf("%d SignPayload calls, want %d", got, procs)
	}
}

// TestCredentialCacheExpiry checks when a cached chain is reused: only while
// more than 5 minutes of the expiry STS returned remain. The plugin's clock
// cannot be moved from outside the process, so the emulator's clock is set
// back instead: a 15-minute session issued "11 minutes ago" expires 4
// minutes from the plugin's now (refreshed on every sign), one issued
// "9 minutes ago" 6 minutes from now (reused). The emulator still accepts
// both, as its own clock says they are fresh.
func TestCredentialCacheExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		issuedAgo   time.Duration
		wantAssumes int
	}{
		{"6 minutes left: reused", 9 * time.Minute, 2},
		{"4 minutes left: refreshed each time", 11 * time.Minute, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var skew atomic.Int64
			skew.Store(int64(-tc.issuedAgo))
			emu := emulatortest.StartWithOptions(t, world, emulator.Options{
				Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
			})
			f := fixtureFor(t, emu, ciUser)
			cfg := f.chainConfig("role-duration=15m")
			for i := 0; i < 3; i++ {
				f.sign(t, request(t, releaseProfile, artifact(nil), cfg))
			}
			calls := f.emu.Calls()
			if got := count(calls, "AssumeRole"); got != tc.wantAssumes {
				t.Errorf("%d AssumeRole calls for 3 signs, want %d:%s", got, tc.wantAssumes, journal(calls))
			}
		})
	}
}

// TestRoleSessionNameAndDuration checks what the role chain asks STS for, as
// AWS sees it: the session name in the assumed-role ARN that calls Signer,
// and the requested duration in the expiry of the cached credentials.
func TestRoleSessionNameAndDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		env          []string
		cfg          []string
		wantSession  string // prefix of the session name
		wantDuration time.Duration
	}{
		{"defaults", nil, nil, "xsigner-", 15 * time.Minute},
		{"CODEBUILD_BUILD_ID", []string{"CODEBUILD_BUILD_ID=release-build:4f2a 9c"}, nil, "release-build-4f2a-9c", 15 * time.Minute},
		{"role-session-name and role-duration", []string{"CODEBUILD_BUILD_ID=ignored:1"}, []string{"role-session-name=ci-build-42", "role-duration=45m"}, "ci-build-42", 45 * time.Minute},
		{"role-duration over the chaining cap", nil, []string{"role-duration=2h"}, "xsigner-", time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, ciUser)
			f.env = append(f.env, tc.env...)
			before := time.Now()
			f.sign(t, request(t, releaseProfile, artifact(nil), f.chainConfig(tc.cfg...)))
			calls := f.emu.Calls()
			last := calls[len(calls)-1]
			if want := assumedRole(acctA, "xsigner-signer") + tc.wantSession; last.Operation != "SignPayload" || !strings.HasPrefix(last.Caller, want) {
				t.Errorf("Signer was called as %q, want %q...:%s", last.Caller, want, journal(calls))
			}
			entries := cacheEntries(t, f.cacheDir)
			if len(entries) != 1 {
				t.Fatalf("%d cache entries, want 1", len(entries))
			}
			var e struct{ Expires time.Time }
			if err := json.Unmarshal(readFile(t, entries[0]), &e); err != nil {
				t.Fatal(err)
			}
			// STS expiry has whole seconds; allow for them and the run time.
			if lo, hi := before.Add(tc.wantDuration-2*time.Second), time.Now().Add(tc.wantDuration+time.Second); e.Expires.Before(lo) || e.Expires.After(hi) {
				t.Errorf("credentials expire %s after the sign, want %s", e.Expires.Sub(before).Round(time.Second), tc.wantDuration)
			}
		})
	}
}

// TestCredentialCacheUntrustedDirectory: a cache directory the plugin must
// not trust (open to others, or a symlink) is not used; signing still works,
// with one chain per process and nothing written there.
func TestCredentialCacheUntrustedDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"open to others", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{"a symlink", func(t *testing.T, dir string) {
			target := t.TempDir()
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, ciUser)
			tc.setup(t, f.cacheDir)
			for i := 0; i < 2; i++ {
				f.sign(t, request(t, releaseProfile, artifact(nil), f.chainConfig()))
			}
			if got := count(f.emu.Calls(), "AssumeRole"); got != 4 {
				t.Errorf("%d AssumeRole calls, want 4 (no cache)", got)
			}
			des, err := os.ReadDir(f.cacheDir)
			if err != nil {
				t.Fatal(err)
			}
			if len(des) != 0 {
				t.Errorf("the plugin wrote %d files into an untrusted cache directory", len(des))
			}
		})
	}
}
