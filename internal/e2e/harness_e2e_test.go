//go:build e2e

package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/xsigner/xsigner/internal/e2e/harness"
	"github.com/xsigner/xsigner/internal/emulator"
)

// TestHarnessLocalKeySignVerify proves the harness with notation's own test
// key, no plugin involved: push to a real registry with oras, sign, list,
// verify, and refuse an unsigned artifact. It then checks that the registry
// process and its port are gone once the test that started them has ended.
func TestHarnessLocalKeySignVerify(t *testing.T) {
	t.Parallel()
	var reg *harness.Registry
	t.Run("sign, list and verify", func(t *testing.T) {
		reg = harness.StartRegistry(t)
		env := harness.NewEnv(t)
		signed := env.PushArtifact(t, reg, "e2e/app", "v1")
		unsigned := env.PushArtifact(t, reg, "e2e/app", "v2")
		if signed == unsigned {
			t.Fatalf("two pushes gave the same reference %s", signed)
		}

		env.Notation("cert", "generate-test", "--default", "test").MustSucceed(t)
		sign := env.Notation("sign", "--insecure-registry", signed).MustSucceed(t)
		assertContains(t, "notation sign output", sign.Stdout, "Successfully signed "+signed)

		ls := env.Notation("ls", "--insecure-registry", signed).MustSucceed(t)
		assertContains(t, "notation ls output", ls.Stdout, "application/vnd.cncf.notary.signature")
		assertContains(t, "notation ls output", ls.Stdout, "└── sha256:")

		env.WriteTrustPolicy(t, harness.TrustPolicyDocument{
			Version: "1.0",
			TrustPolicies: []harness.TrustPolicy{{
				Name:                  "local-test-key",
				RegistryScopes:        []string{reg.Host + "/e2e/app"},
				SignatureVerification: harness.SignatureVerification{Level: "strict"},
				TrustStores:           []string{"ca:test"},
				TrustedIdentities:     []string{"*"},
			}},
		})
		verify := env.Notation("verify", "--insecure-registry", signed).MustSucceed(t)
		assertContains(t, "notation verify output", verify.Stdout, "Successfully verified signature for "+signed)

		env.Notation("verify", "--insecure-registry", unsigned).
			MustFailWith(t, `signature verification failed: no signature is associated with "`+unsigned+`"`)

		// A second Env shares nothing with the first: no trust policy.
		harness.NewEnv(t).Notation("verify", "--insecure-registry", signed).
			MustFailWith(t, "trust policy is not present")
	})
	if reg == nil {
		t.Fatal("the subtest did not start a registry")
	}
	if !reg.Process.Exited() || !reg.Process.GroupGone() {
		t.Errorf("registry (pid %d) still running after its test ended", reg.Process.Pid())
	}
	if conn, err := net.DialTimeout("tcp", reg.Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("registry port %s still accepts connections after its test ended", reg.Host)
	}
}

func assertContains(t *testing.T, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s lacks %q:\n%s", what, want, got)
	}
}

// TestHarnessEmulator starts the emulator binary, reads its admin API, and
// checks that the process and its port are gone once its test has ended.
func TestHarnessEmulator(t *testing.T) {
	t.Parallel()
	var emu *harness.Emulator
	t.Run("admin API", func(t *testing.T) {
		emu = harness.StartEmulator(t, emulator.ExampleWorldTwoAccounts())
		if calls := emu.Calls(t); len(calls) != 0 {
			t.Errorf("a fresh emulator journalled %d calls: %+v", len(calls), calls)
		}
		block, _ := pem.Decode(emu.CAPEM(t))
		if block == nil {
			t.Fatal("ca.pem is not PEM")
		}
		root, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !root.IsCA {
			t.Fatalf("ca.pem is not a CA certificate: %v", err)
		}
		emu.RevokeCertificate(t, strings.Repeat("ab", 96))
	})
	if emu == nil {
		t.Fatal("the subtest did not start an emulator")
	}
	if !emu.Process.Exited() || !emu.Process.GroupGone() {
		t.Errorf("emulator (pid %d) still running after its test ended", emu.Process.Pid())
	}
	host := strings.TrimPrefix(emu.URL, "http://")
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Errorf("emulator port %s still accepts connections after its test ended", host)
	}
}

// TestHarnessRegistriesInParallel starts several registries at once and
// checks that each got its own port and answers there as itself: with ports
// picked by the harness and bound later by the registry, two registries
// could race for one port and a test could talk to another test's registry.
func TestHarnessRegistriesInParallel(t *testing.T) {
	t.Parallel()
	const n = 6
	regs := make(chan *harness.Registry, n)
	t.Run("start", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				reg := harness.StartRegistry(t)
				env := harness.NewEnv(t)
				// Each registry holds only the tag pushed to it.
				tag := fmt.Sprintf("t%d", i)
				env.PushArtifact(t, reg, "e2e/own", tag)
				tags := env.Oras("repo", "tags", "--plain-http", reg.Host+"/e2e/own").MustSucceed(t)
				if got := strings.TrimSpace(tags.Stdout); got != tag {
					t.Errorf("registry %s has tags %q, want only %s", reg.Host, got, tag)
				}
				regs <- reg
			})
		}
	})
	close(regs)
	seen := map[string]bool{}
	for reg := range regs {
		if seen[reg.Host] {
			t.Errorf("two registries on %s", reg.Host)
		}
		seen[reg.Host] = true
		if !reg.Process.Exited() || !reg.Process.GroupGone() {
			t.Errorf("registry %s still running after its test ended", reg.Host)
		}
	}
	if len(seen) != n {
		t.Errorf("%d registries started, want %d", len(seen), n)
	}
}
