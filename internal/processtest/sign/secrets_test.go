package sign_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// wiretap is a reverse proxy in front of the emulator that remembers the
// secrets that crossed the wire: every Authorization header and every
// SecretAccessKey and SessionToken STS handed out (each hop of a chain, not
// only the last one, which is all the cache file holds).
type wiretap struct {
	mu      sync.Mutex
	secrets []string
}

var stsSecret = regexp.MustCompile(`<(SecretAccessKey|SessionToken)>([^<]+)</`)

func startWiretap(t testing.TB, target string) (*wiretap, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	w := &wiretap{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // the SigV4 signature covers the host the client dialled
			if a := r.In.Header.Get("Authorization"); a != "" {
				w.add(a)
				if _, sig, ok := strings.Cut(a, "Signature="); ok {
					w.add(sig)
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(b))
			for _, m := range stsSecret.FindAllSubmatch(b, -1) {
				w.add(string(m[2]))
			}
			return nil
		},
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return w, srv.URL
}

func (w *wiretap) add(s string) {
	w.mu.Lock()
	w.secrets = append(w.secrets, s)
	w.mu.Unlock()
}

func (w *wiretap) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.secrets...)
}

// TestSecretsNeverPrinted runs successful, cached and failing signs with a
// debug log and checks that neither the log nor stdout nor stderr holds the
// base secret key, any session secret or token of the role chain, or any
// Authorization header value.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, world, ciUser)
	tap, proxyURL := startWiretap(t, f.emu.URL)
	f.endpoint = proxyURL
	logPath := filepath.Join(t.TempDir(), "xsigner-debug.log")

	var out bytes.Buffer
	runs := []struct {
		name   string
		keyID  string
		cfg    map[string]string
		wantOK bool
	}{
		{"chain, cold cache", releaseProfile, f.chainConfig("debug-log=" + logPath), true},
		{"chain, cache hit", releaseProfile, f.chainConfig("debug-log=" + logPath), true},
		{"chain, SignPayload denied", lockedProfile, f.config("role-arn="+codebuildRole+","+signerRole, "external-id="+chainExternalID, "debug-log="+logPath), false},
		{"chain, ExternalId mismatch", releaseProfile, f.config("role-arn="+codebuildRole+","+signerRole, "external-id=wrong-id", "debug-log="+logPath), false},
		{"no cache", releaseProfile, f.chainConfig("credential-cache=off", "debug-log="+logPath), true},
		{"base credentials denied", lockedProfile, f.config("debug-log=" + logPath), false},
	}
	for _, r := range runs {
		res := plugintest.Run(t, f.exe, f.env, request(t, r.keyID, artifact(nil), r.cfg), generateArgs)
		if r.wantOK {
			var resp proto.GenerateEnvelopeResponse
			res.Succeeded(t, &resp)
		} else {
			res.Failed(t)
		}
		out.WriteString(res.Stdout)
		out.WriteString(res.Stderr)
	}

	secrets := append([]string{ciSecret}, tap.all()...)
	secrets = append(secrets, cachedSecrets(t, f.cacheDir)...)
	if len(secrets) < 1+4 {
		t.Fatalf("the wiretap saw only %d secrets; the canary would prove nothing", len(secrets))
	}
	log := readFile(t, logPath)
	// The log must be worth checking: it records the role chain.
	for _, want := range []string{"assumed role", "cache hit", codebuildRole, signerRole} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("debug log does not mention %q; is it written at all?", want)
		}
	}
	for name, text := range map[string][]byte{"debug log": log, "stdout/stderr": out.Bytes()} {
		if s, found := containsAny(text, secrets); found {
			t.Errorf("%s contains a secret (%d characters, starting %q)", name, len(s), s[:4])
		}
	}
}
