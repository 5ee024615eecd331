package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/version"
)

var makeVar = regexp.MustCompile(`(?m)^([A-Z_]+)\s*[:?]?=\s*(.*?)\s*$`)

// makefileLDFLAGS returns the Makefile's LDFLAGS with $(MODULE) and
// $(VERSION) filled in, so the test links the way `make build VERSION=v`
// does and follows the Makefile if its flags change.
func makefileLDFLAGS(t *testing.T, v string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range makeVar.FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = m[2]
	}
	ld, module := vars["LDFLAGS"], vars["MODULE"]
	if ld == "" || module == "" || !strings.Contains(ld, "$(VERSION)") {
		t.Fatalf("Makefile has no LDFLAGS that sets $(VERSION) (LDFLAGS %q, MODULE %q)", ld, module)
	}
	return strings.NewReplacer("$(MODULE)", module, "$(VERSION)", v).Replace(ld)
}

// TestVersionFromLDFLAGS builds notation-xsigner with the Makefile's
// LDFLAGS and checks what get-plugin-metadata and version report: a SemVer
// version as given, anything else (a leading v and two parts, an empty
// pre-release) as 0.0.0-dev, so notation's minimum-version checks
// never see a malformed version.
func TestVersionFromLDFLAGS(t *testing.T) {
	t.Parallel()
	tests := []struct{ linked, want string }{
		{"1.2.3", "1.2.3"},
		{"1.0.0-rc.1+git.abc123", "1.0.0-rc.1+git.abc123"},
		{"v1.2", version.Dev},
		{"1.2.3-", version.Dev},
	}
	for _, tc := range tests {
		t.Run(tc.linked, func(t *testing.T) {
			t.Parallel()
			exe := filepath.Join(t.TempDir(), "notation-xsigner")
			build := exec.Command("go", "build", "-trimpath", "-ldflags", makefileLDFLAGS(t, tc.linked), "-o", exe, ".")
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			r := run(t, exe, "{}", nil, "get-plugin-metadata")
			var md struct{ Version string }
			if err := json.Unmarshal([]byte(r.stdout), &md); r.code != 0 || err != nil {
				t.Fatalf("get-plugin-metadata: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
			}
			if md.Version != tc.want {
				t.Errorf("linked %q: get-plugin-metadata version %q, want %q", tc.linked, md.Version, tc.want)
			}
			v := run(t, exe, "", nil, "version")
			if !strings.Contains(v.stdout, "Version: "+tc.want+"\n") {
				t.Errorf("linked %q: version prints %q, want it to show Version: %s", tc.linked, v.stdout, tc.want)
			}
		})
	}
}
