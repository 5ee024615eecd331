package credcache

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injectable, goroutine-safe time source.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

// refresher counts calls and hands out distinct credentials.
type refresher struct {
	calls   atomic.Int32
	expires time.Time
}

func (r *refresher) refresh(context.Context) (aws.Credentials, error) {
	n := r.calls.Add(1)
	return aws.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAREFRESH%05d", n),
		SecretAccessKey: fmt.Sprintf("secret-%d", n),
		SessionToken:    fmt.Sprintf("token-%d", n),
		Source:          "AssumeRoleProvider",
		CanExpire:       true,
		Expires:         r.expires,
		AccountID:       "111111111111",
	}, nil
}

func openTemp(t *testing.T, now func() time.Time) (*Cache, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache", "xsigner")
	c, err := Open(dir, now)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	return c, dir
}

func TestDefaultDir(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env     map[string]string
		want    string
		wantErr string
		goos    string // run only on this GOOS when set
	}{
		"XDG_CACHE_HOME wins":      {env: map[string]string{"XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"}, want: "/x/cache/xsigner"},
		"relative XDG_CACHE_HOME":  {env: map[string]string{"XDG_CACHE_HOME": "rel/cache"}, wantErr: "not an absolute path"},
		"HOME fallback on linux":   {env: map[string]string{"HOME": "/home/u"}, want: "/home/u/.cache/xsigner", goos: "linux"},
		"empty XDG means unset":    {env: map[string]string{"XDG_CACHE_HOME": "", "HOME": "/home/u"}, want: "/home/u/.cache/xsigner", goos: "linux"},
		"nothing set":              {env: map[string]string{}, wantErr: "is set", goos: "linux"},
		"HOME fallback on darwin":  {env: map[string]string{"HOME": "/Users/u"}, want: "/Users/u/Library/Caches/xsigner", goos: "darwin"},
		"relative HOME is refused": {env: map[string]string{"HOME": "u"}, wantErr: "not an absolute path", goos: "linux"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tc.goos != "" && tc.goos != runtime.GOOS {
				t.Skipf("only on %s", tc.goos)
			}
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := DefaultDir(lookup)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DefaultDir() = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != filepath.FromSlash(tc.want) {
				t.Fatalf("DefaultDir() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	k := Key("AKIA1", "profile", "arn:aws:iam::111111111111:role/a", "ext", "900")
	if !keyPattern.MatchString(k) {
		t.Fatalf("Key() = %q, want 64 lower-case hex digits", k)
	}
	if again := Key("AKIA1", "profile", "arn:aws:iam::111111111111:role/a", "ext", "900"); again != k {
		t.Errorf("Key is not deterministic: %q vs %q", k, again)
	}
	distinct := map[string][]string{
		"ab|c":       {"ab", "c"},
		"a|bc":       {"a", "bc"},
		"abc":        {"abc"},
		"empty part": {"abc", ""},
		"none":       {},
	}
	seen := map[string]string{}
	for name, parts := range distinct {
		key := Key(parts...)
		if prev, dup := seen[key]; dup {
			t.Errorf("Key(%s) == Key(%s) = %s", name, prev, key)
		}
		seen[key] = name
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("creates nested dir with 0700", func(t *testing.T) {
		t.Parallel()
		_, dir := openTemp(t, nil)
		fi, err := os.Lstat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 || !fi.IsDir() {
			t.Errorf("cache dir mode = %v, want drwx------", fi.Mode())
		}
	})
	t.Run("accepts existing private dir", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, nil); err != nil {
			t.Fatalf("Open: %v", err)
		}
	})
	refused := map[string]struct {
		setup        func(t *testing.T) string
		wantErr      string
		wantInsecure bool
	}{
		"symlink": {
			setup: func(t *testing.T) string {
				real := t.TempDir()
				os.Chmod(real, 0o700)
				link := filepath.Join(t.TempDir(), "link")
				if err := os.Symlink(real, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			wantErr: "is a symlink", wantInsecure: true,
		},
		"group writable": {
			setup:   func(t *testing.T) string { d := t.TempDir(); os.Chmod(d, 0o770); return d },
			wantErr: "chmod 700", wantInsecure: true,
		},
		"world readable": {
			setup:   func(t *testing.T) string { d := t.TempDir(); os.Chmod(d, 0o755); return d },
			wantErr: "chmod 700", wantInsecure: true,
		},
		"a regular file": {
			setup: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "f")
				os.WriteFile(p, nil, 0o600)
				return p
			},
			wantErr: "not a directory",
		},
		"owned by another user": {
			setup: func(t *testing.T) string {
				if os.Getuid() != 0 {
					t.Skip("needs root to chown a directory to another user")
				}
				d := t.TempDir()
				os.Chmod(d, 0o700)
				if err := os.Chown(d, 65534, 65534); err != nil {
					t.Fatal(err)
				}
				return d
			},
			wantErr: "owned by uid 65534", wantInsecure: true,
		},
		"empty path": {setup: func(*testing.T) string { return "" }, wantErr: "empty"},
	}
	for name, tc := range refused {
		t.Run("refuses "+name, func(t *testing.T) {
			t.Parallel()
			if runtime.GOOS == "windows" {
				t.Skip("POSIX permissions")
			}
			dir := tc.setup(t)
			c, err := Open(dir, nil)
			if err == nil {
				t.Fatalf("Open(%q) = %v, nil; want an error", dir, c)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%q) error = %q, want it to contain %q", dir, err, tc.wantErr)
			}
			if insecure := errors.Is(err, ErrInsecure); insecure != tc.wantInsecure {
				t.Errorf("errors.Is(%q, ErrInsecure) = %v, want %v", err, insecure, tc.wantInsecure)
			}
		})
	}
}

func TestFetchReuseUntilFiveMinutesBeforeExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	c, _ := openTemp(t, clk.now)
	r := &refresher{expires: t0.Add(time.Hour)}
	key := Key("reuse")
	ctx := context.Background()

	steps := []struct {
		at        time.Duration
		wantCalls int32
	}{
		{0, 1},                               // empty cache: refresh
		{time.Minute, 1},                     // fresh: reused
		{54*time.Minute + 59*time.Second, 1}, // 5m01s left: reused
		{55 * time.Minute, 2},                // exactly 5m left: refreshed
	}
	for _, s := range steps {
		clk.set(t0.Add(s.at))
		creds, err := c.Fetch(ctx, key, r.refresh)
		if err != nil {
			t.Fatalf("Fetch at +%v: %v", s.at, err)
		}
		if got := r.calls.Load(); got != s.wantCalls {
			t.Errorf("at +%v: refresh called %d times, want %d", s.at, got, s.wantCalls)
		}
		if want := fmt.Sprintf("ASIAREFRESH%05d", s.wantCalls); creds.AccessKeyID != want {
			t.Errorf("at +%v: AccessKeyID = %q, want %q", s.at, creds.AccessKeyID, want)
		}
		if want := t0.Add(time.Duration(s.wantCalls) * time.Hour); !creds.CanExpire || !creds.Expires.Equal(want) {
			t.Errorf("at +%v: CanExpire=%v Expires=%v, want true %v", s.at, creds.CanExpire, creds.Expires, want)
		}
		// A later refresh hands out credentials that expire an hour later.
		r.expires = t0.Add(2 * time.Hour)
	}
}

func TestFetchExpiredEntryIsRefreshed(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	c, _ := openTemp(t, clk.now)
	r := &refresher{expires: t0.Add(15 * time.Minute)}
	key := Key("expired")
	if _, err := c.Fetch(context.Background(), key, r.refresh); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(16 * time.Minute))
	r.expires = clk.now().Add(time.Hour)
	creds, err := c.Fetch(context.Background(), key, r.refresh)
	if err != nil {
		t.Fatal(err)
	}
	if r.calls.Load() != 2 || creds.AccessKeyID != "ASIAREFRESH00002" {
		t.Errorf("after expiry: calls=%d key=%q, want 2 and ASIAREFRESH00002", r.calls.Load(), creds.AccessKeyID)
	}
	// And the refreshed entry is what the next Fetch reuses.
	if creds, _ := c.Fetch(context.Background(), key, r.refresh); creds.AccessKeyID != "ASIAREFRESH00002" || r.calls.Load() != 2 {
		t.Errorf("third fetch: calls=%d key=%q, want reuse of ASIAREFRESH00002", r.calls.Load(), creds.AccessKeyID)
	}
}

func TestFetchStoresPrivateEntry(t *testing.T) {
	t.Parallel()
	c, dir := openTemp(t, newClock(t0).now)
	r := &refresher{expires: t0.Add(time.Hour)}
	key := Key("perm")
	if _, err := c.Fetch(context.Background(), key, r.refresh); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o600 {
			t.Errorf("%s mode = %v, want -rw-------", e.Name(), fi.Mode())
		}
	}
	if want := []string{key, key + ".lock"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("cache dir holds %v, want %v (no temp files left behind)", names, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, key))
	if err != nil {
		t.Fatal(err)
	}
	var e entry
	if err := json.Unmarshal(data, &e); err != nil || e.SessionToken != "token-1" || e.Version != entryVersion {
		t.Errorf("entry = %+v, %v; want version %d with token-1", e, err, entryVersion)
	}
}

func TestFetchIgnoresAndReplacesUntrustedEntries(t *testing.T) {
	t.Parallel()
	valid := func(id string) []byte {
		b, _ := json.Marshal(entry{Version: entryVersion, AccessKeyID: id, SecretAccessKey: "s", SessionToken: "t", Expires: t0.Add(time.Hour)})
		return b
	}
	tests := map[string]func(t *testing.T, path string){
		"corrupt JSON": func(t *testing.T, path string) {
			os.WriteFile(path, []byte("{not json"), 0o600)
		},
		"truncated entry": func(t *testing.T, path string) {
			os.WriteFile(path, valid("ASIAPLANTED")[:20], 0o600)
		},
		"other version": func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"version":99,"accessKeyId":"ASIAPLANTED","secretAccessKey":"s","expires":"2030-01-01T00:00:00Z"}`), 0o600)
		},
		"missing secret": func(t *testing.T, path string) {
			os.WriteFile(path, []byte(`{"version":1,"accessKeyId":"ASIAPLANTED","expires":"2030-01-01T00:00:00Z"}`), 0o600)
		},
		"symlink to a valid entry": func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "planted")
			if err := os.WriteFile(target, valid("ASIAPLANTED"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if b, _ := os.ReadFile(target); string(b) != string(valid("ASIAPLANTED")) {
					t.Errorf("symlink target was modified: %q", b)
				}
			})
		},
		"readable by others": func(t *testing.T, path string) {
			os.WriteFile(path, valid("ASIAPLANTED"), 0o600)
			os.Chmod(path, 0o644)
		},
		"owned by another user": func(t *testing.T, path string) {
			if os.Getuid() != 0 {
				t.Skip("needs root to chown a file to another user")
			}
			os.WriteFile(path, valid("ASIAPLANTED"), 0o600)
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		},
		"an empty directory": func(t *testing.T, path string) {
			os.Mkdir(path, 0o700)
		},
	}
	for name, plant := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if runtime.GOOS == "windows" {
				t.Skip("POSIX semantics")
			}
			c, dir := openTemp(t, newClock(t0).now)
			key := Key(name)
			path := filepath.Join(dir, key)
			plant(t, path)
			r := &refresher{expires: t0.Add(time.Hour)}
			creds, err := c.Fetch(context.Background(), key, r.refresh)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if creds.AccessKeyID == "ASIAPLANTED" || r.calls.Load() != 1 {
				t.Fatalf("Fetch trusted the planted entry: key=%q refresh calls=%d", creds.AccessKeyID, r.calls.Load())
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Errorf("entry after Fetch: mode %v, want a regular 0600 file", fi.Mode())
			}
			if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
				t.Errorf("entry after Fetch owned by %d, want %d", uid, os.Getuid())
			}
			// The replacement is trusted from now on.
			if again, err := c.Fetch(context.Background(), key, r.refresh); err != nil || again.AccessKeyID != creds.AccessKeyID || r.calls.Load() != 1 {
				t.Errorf("second Fetch = %q, %v (calls %d); want cached %q", again.AccessKeyID, err, r.calls.Load(), creds.AccessKeyID)
			}
		})
	}
}

func TestFetchRefreshErrorIsReturnedAndNothingStored(t *testing.T) {
	t.Parallel()
	c, dir := openTemp(t, newClock(t0).now)
	boom := errors.New("assume role failed")
	key := Key("err")
	_, err := c.Fetch(context.Background(), key, func(context.Context) (aws.Credentials, error) { return aws.Credentials{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Fetch error = %v, want %v", err, boom)
	}
	if _, err := os.Lstat(filepath.Join(dir, key)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("entry exists after a failed refresh (stat err %v)", err)
	}
}

func TestFetchDoesNotStoreNonExpiringCredentials(t *testing.T) {
	t.Parallel()
	c, dir := openTemp(t, newClock(t0).now)
	key := Key("static")
	static := aws.Credentials{AccessKeyID: "AKIASTATIC", SecretAccessKey: "s"}
	got, err := c.Fetch(context.Background(), key, func(context.Context) (aws.Credentials, error) { return static, nil })
	if err != nil || got != static {
		t.Fatalf("Fetch = %+v, %v; want the static credentials", got.AccessKeyID, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, key)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("non-expiring credentials were written to disk (stat err %v)", err)
	}
}

func TestFetchRejectsForeignKeys(t *testing.T) {
	t.Parallel()
	c, _ := openTemp(t, nil)
	for _, key := range []string{"", "../escape", strings.Repeat("A", 64), Key("x") + "/.."} {
		r := &refresher{expires: t0.Add(time.Hour)}
		if _, err := c.Fetch(context.Background(), key, r.refresh); err == nil || r.calls.Load() != 0 {
			t.Errorf("Fetch(key %q) = nil error or refreshed (calls %d); want rejection", key, r.calls.Load())
		}
	}
}

func TestFetchGoroutinesRefreshOnce(t *testing.T) {
	t.Parallel()
	c, _ := openTemp(t, newClock(t0).now)
	r := &refresher{expires: t0.Add(time.Hour)}
	slow := func(ctx context.Context) (aws.Credentials, error) {
		time.Sleep(50 * time.Millisecond)
		return r.refresh(ctx)
	}
	key := Key("goroutines")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds, err := c.Fetch(context.Background(), key, slow)
			if err != nil {
				t.Errorf("Fetch %d: %v", i, err)
			}
			ids[i] = creds.AccessKeyID
		}()
	}
	wg.Wait()
	if n := r.calls.Load(); n != 1 {
		t.Errorf("refresh called %d times by 8 concurrent Fetches, want 1", n)
	}
	for i, id := range ids {
		if id != "ASIAREFRESH00001" {
			t.Errorf("Fetch %d got %q, want ASIAREFRESH00001", i, id)
		}
	}
}

func TestFetchLockWaitRespectsContext(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no flock on this platform")
	}
	c, _ := openTemp(t, newClock(t0).now)
	key := Key("cancel")
	holding := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background(), key, func(ctx context.Context) (aws.Credentials, error) {
			close(holding)
			<-release
			return (&refresher{expires: t0.Add(time.Hour)}).refresh(ctx)
		})
		done <- err
	}()
	<-holding

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	waiter := &refresher{expires: t0.Add(time.Hour)}
	_, err := c.Fetch(ctx, key, waiter.refresh)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch while the lock is held = %v, want context.DeadlineExceeded", err)
	}
	if waiter.calls.Load() != 0 {
		t.Errorf("waiter's refresh ran %d times without the lock", waiter.calls.Load())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("holder's Fetch: %v", err)
	}
	// With the lock free again, the waiter gets the holder's entry.
	creds, err := c.Fetch(context.Background(), key, waiter.refresh)
	if err != nil || creds.AccessKeyID != "ASIAREFRESH00001" || waiter.calls.Load() != 0 {
		t.Errorf("Fetch after release = %q, %v (waiter calls %d); want the holder's entry", creds.AccessKeyID, err, waiter.calls.Load())
	}
}

// Environment of the child processes started by TestFetchParallelProcesses.
const (
	childDirEnv     = "XSIGNER_CREDCACHE_CHILD_DIR"
	childCounterEnv = "XSIGNER_CREDCACHE_CHILD_COUNTER"
	childStartEnv   = "XSIGNER_CREDCACHE_CHILD_START"
)

// TestFetchChildProcess is the body of one child process; it does nothing
// unless started by TestFetchParallelProcesses.
func TestFetchChildProcess(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("child process of TestFetchParallelProcesses")
	}
	// Start barrier: all children begin together.
	for {
		if _, err := os.Stat(os.Getenv(childStartEnv)); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	c, err := Open(dir, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(context.Context) (aws.Credentials, error) {
		f, err := os.OpenFile(os.Getenv(childCounterEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return aws.Credentials{}, err
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		time.Sleep(200 * time.Millisecond) // widen the window a missing lock would lose
		return aws.Credentials{
			AccessKeyID: fmt.Sprintf("ASIAPID%d", os.Getpid()), SecretAccessKey: "s", SessionToken: "t",
			CanExpire: true, Expires: t0.Add(time.Hour),
		}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, err := c.Fetch(ctx, Key("parallel"), refresh)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("CREDS %s\n", creds.AccessKeyID)
}

func TestFetchParallelProcesses(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no flock on this platform")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	counter := filepath.Join(root, "refresh-calls")
	start := filepath.Join(root, "start")
	const n = 8
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFetchChildProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childCounterEnv+"="+counter, childStartEnv+"="+start)
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	if err := os.WriteFile(start, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i].String())
		}
		sc := bufio.NewScanner(strings.NewReader(outs[i].String()))
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "CREDS "); ok {
				got[id]++
			}
		}
	}
	data, err := os.ReadFile(counter)
	if err != nil {
		t.Fatalf("reading refresh counter: %v", err)
	}
	if calls := strings.Count(string(data), "\n"); calls != 1 {
		t.Errorf("refresh ran %d times across %d processes, want 1 (pids: %q)", calls, n, data)
	}
	if len(got) != 1 {
		t.Errorf("children got credentials %v, want all %d to share one", got, n)
	}
	for id, count := range got {
		if count != n {
			t.Errorf("%d of %d children reported %s", count, n, id)
		}
	}
}
