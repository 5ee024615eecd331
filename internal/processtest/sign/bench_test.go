package sign_test

import (
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/emulator"
)

// BenchmarkSignProcess measures one notation-xsigner generate-envelope
// process, start to exit, against the in-process emulator: same-account
// base credentials, the two-role chain served from the credential cache, and
// the two-role chain assumed afresh (credential-cache=off); the chain cases
// again with 50 ms added to every STS call, a regional-STS-like round trip.
func BenchmarkSignProcess(b *testing.B) {
	cached := func(f *fixture) map[string]string { return f.chainConfig() }
	uncached := func(f *fixture) map[string]string { return f.chainConfig("credential-cache=off") }
	cases := []struct {
		name         string
		base         identity
		cfg          func(f *fixture) map[string]string
		stsLatencyMs int
	}{
		{"same account", releaser, func(f *fixture) map[string]string { return f.config() }, 0},
		{"two-role chain, cached", ciUser, cached, 0},
		{"two-role chain, no cache", ciUser, uncached, 0},
		{"two-role chain, cached, STS +50ms", ciUser, cached, 50},
		{"two-role chain, no cache, STS +50ms", ciUser, uncached, 50},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, world, c.base)
			if c.stsLatencyMs > 0 {
				if err := f.emu.InjectFault(emulator.Fault{Service: "sts", LatencyMs: c.stsLatencyMs, Count: 1 << 30}); err != nil {
					b.Fatal(err)
				}
			}
			req := request(b, releaseProfile, artifact(nil), c.cfg(f))
			f.sign(b, req) // warm the cache and the page cache
			for b.Loop() {
				var resp proto.GenerateEnvelopeResponse
				f.run(b, req).Succeeded(b, &resp)
			}
		})
	}
}
