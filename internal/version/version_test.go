package version

import "testing"

func TestOrDev(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in, want string
	}{
		"release":              {"1.2.3", "1.2.3"},
		"zero":                 {"0.1.0", "0.1.0"},
		"prerelease":           {"1.0.0-rc.1", "1.0.0-rc.1"},
		"build metadata":       {"1.0.0+git.abc123", "1.0.0+git.abc123"},
		"dev default":          {Dev, Dev},
		"leading v":            {"v1.2.3", Dev},
		"empty":                {"", Dev},
		"two parts":            {"1.2", Dev},
		"leading zero":         {"01.2.3", Dev},
		"git describe":         {"1.2.3-4-gabcdef-dirty ", Dev},
		"empty prerelease id":  {"1.2.3-", Dev},
		"unsubstituted ldflag": {"$(VERSION)", Dev},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := orDev(tc.in); got != tc.want {
				t.Errorf("orDev(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestGetIsValid(t *testing.T) {
	t.Parallel()
	if got := Get(); !Valid(got) {
		t.Errorf("Get() = %q, not valid SemVer", got)
	}
}
