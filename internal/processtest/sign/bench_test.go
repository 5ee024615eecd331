package sign_test

import (
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// BenchmarkSignProcess measures one notation-xsigner generate-envelope
// process, start to exit, against the in-process emulator: same-account
// base credentials, the two-role chain served from the credential cache, and
// the two-role chain assumed afresh (credential-cache=off).
func BenchmarkSignProcess(b *testing.B) {
	cases := []struct {
		name string
		base identity
		cfg  func(f *fixture) map[string]string
	}{
		{"same account", releaser, func(f *fixture) map[string]string { return f.config() }},
		{"two-role chain, cached", ciUser, func(f *fixture) map[string]string { return f.chainConfig() }},
		{"two-role chain, no cache", ciUser, func(f *fixture) map[string]string { return f.chainConfig("credential-cache=off") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, world, c.base)
			req := request(b, releaseProfile, artifact(nil), c.cfg(f))
			f.sign(b, req) // warm the cache and the page cache
			for b.Loop() {
				var resp proto.GenerateEnvelopeResponse
				f.run(b, req).Succeeded(b, &resp)
			}
		})
	}
}
