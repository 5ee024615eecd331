package authority

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
	nx509 "github.com/notaryproject/notation-core-go/x509"
)

const testPayload = `{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:8f3b5b4b0ad0e0d4c1c6cfb1c0e6b7c6ef1a4a7b3bd1a5b6e08e3c4b2f4e7a9d","size":1234,"annotations":{"build":"<42> & co","io.wabbit-networks.buildId":"123"}}}`

func testRequest(signingTime time.Time) SignRequest {
	return SignRequest{
		Region:            "us-east-2",
		Payload:           []byte(testPayload),
		PayloadType:       PayloadType,
		SigningTime:       signingTime,
		Expiry:            signingTime.AddDate(0, 135, 0),
		ProfileVersionARN: "arn:aws:signer:us-east-2:111122223333:/signing-profiles/Profile_1/abcdefghij",
		JobARN:            "arn:aws:signer:us-east-2:111122223333:/signing-jobs/e218ee67-5dd3-4dc4-8caf-224898b12493",
	}
}

func openTest(t testing.TB, dir string) *Authority {
	t.Helper()
	a, err := Open(dir, time.Now)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

// jsonEqual compares two JSON documents as values.
func jsonEqual(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

func TestSignProducesAWSShapedEnvelope(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	signingTime := time.Now().Add(-time.Hour).Truncate(time.Second)
	req := testRequest(signingTime.Add(400 * time.Millisecond))
	envBytes, chain, err := a.Sign(req)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}

	env, err := signature.ParseEnvelope("application/jose+json", envBytes)
	if err != nil {
		t.Fatalf("ParseEnvelope: %v", err)
	}
	content, err := env.Verify()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if content.Payload.ContentType != PayloadType {
		t.Errorf("payload type %q", content.Payload.ContentType)
	}
	if !jsonEqual(t, content.Payload.Content, []byte(testPayload)) {
		t.Errorf("payload %s, want %s", content.Payload.Content, testPayload)
	}
	info := content.SignerInfo
	if info.SignedAttributes.SigningScheme != signature.SigningSchemeX509SigningAuthority {
		t.Errorf("scheme %q", info.SignedAttributes.SigningScheme)
	}
	if !info.SignedAttributes.SigningTime.Equal(signingTime) {
		t.Errorf("signing time %v, want %v", info.SignedAttributes.SigningTime, signingTime)
	}
	if !info.SignedAttributes.Expiry.Equal(req.Expiry.Truncate(time.Second)) {
		t.Errorf("expiry %v, want %v", info.SignedAttributes.Expiry, req.Expiry)
	}
	if info.SignatureAlgorithm != signature.AlgorithmES384 {
		t.Errorf("algorithm %v", info.SignatureAlgorithm)
	}
	if info.UnsignedAttributes.SigningAgent != "" || len(info.UnsignedAttributes.TimestampSignature) != 0 {
		t.Errorf("unsigned attributes %+v, want none", info.UnsignedAttributes)
	}
	wantAttrs := map[string]string{
		AttrVerificationPlugin:    VerificationPlugin,
		AttrSigningProfileVersion: req.ProfileVersionARN,
		AttrSigningJob:            req.JobARN,
	}
	if len(info.SignedAttributes.ExtendedAttributes) != len(wantAttrs) {
		t.Errorf("extended attributes %+v", info.SignedAttributes.ExtendedAttributes)
	}
	for key, value := range wantAttrs {
		attr, err := info.ExtendedAttribute(key)
		if err != nil || attr.Value != value || !attr.Critical {
			t.Errorf("attribute %s = %+v (%v), want critical %q", key, attr, err, value)
		}
	}
	if len(info.CertificateChain) != 4 || !info.CertificateChain[3].Equal(a.Root()) {
		t.Errorf("chain in envelope has %d certs, root last = %v", len(info.CertificateChain), len(info.CertificateChain) == 4 && info.CertificateChain[3].Equal(a.Root()))
	}
	for i := range chain {
		if !chain[i].Equal(info.CertificateChain[i]) {
			t.Errorf("returned chain[%d] differs from the envelope x5c", i)
		}
	}

	// The raw protected header, as notation and AWS clients see it.
	var raw struct {
		Protected string          `json:"protected"`
		Header    map[string]any  `json:"header"`
		Payload   string          `json:"payload"`
		Signature string          `json:"signature"`
		Extra     json.RawMessage `json:"extra"`
	}
	if err := json.Unmarshal(envBytes, &raw); err != nil {
		t.Fatal(err)
	}
	protectedJSON, err := base64.RawURLEncoding.DecodeString(raw.Protected)
	if err != nil {
		t.Fatal(err)
	}
	var protected map[string]any
	if err := json.Unmarshal(protectedJSON, &protected); err != nil {
		t.Fatal(err)
	}
	wantProtected := map[string]any{
		"alg":                                 "ES384",
		"cty":                                 PayloadType,
		"io.cncf.notary.signingScheme":        "notary.x509.signingAuthority",
		"io.cncf.notary.authenticSigningTime": signingTime.UTC().Format(time.RFC3339),
		"io.cncf.notary.expiry":               req.Expiry.UTC().Truncate(time.Second).Format(time.RFC3339),
		AttrVerificationPlugin:                VerificationPlugin,
		AttrSigningProfileVersion:             req.ProfileVersionARN,
		AttrSigningJob:                        req.JobARN,
	}
	crit, _ := protected["crit"].([]any)
	delete(protected, "crit")
	if !reflect.DeepEqual(protected, wantProtected) {
		t.Errorf("protected header\n got %v\nwant %v", protected, wantProtected)
	}
	var critNames []string
	for _, c := range crit {
		critNames = append(critNames, c.(string))
	}
	slices.Sort(critNames)
	wantCrit := []string{AttrSigningJob, AttrSigningProfileVersion, "io.cncf.notary.authenticSigningTime", "io.cncf.notary.expiry", "io.cncf.notary.signingScheme", AttrVerificationPlugin}
	slices.Sort(wantCrit)
	if !slices.Equal(critNames, wantCrit) {
		t.Errorf("crit %v, want %v", critNames, wantCrit)
	}
	if strings.Contains(string(protectedJSON), "verificationPluginMinVersion") || strings.Contains(string(envBytes), "signingAgent") {
		t.Errorf("envelope has verificationPluginMinVersion or signingAgent: %s / %s", protectedJSON, envBytes)
	}
	if len(raw.Header) != 1 || raw.Header["x5c"] == nil {
		t.Errorf("unprotected header %v, want only x5c", raw.Header)
	}
}

func TestSignWithoutExpiry(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	req := testRequest(time.Now())
	req.Expiry = time.Time{}
	envBytes, _, err := a.Sign(req)
	if err != nil {
		t.Fatal(err)
	}
	env, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, envBytes)
	if err != nil {
		t.Fatal(err)
	}
	content, err := env.Verify()
	if err != nil {
		t.Fatal(err)
	}
	if !content.SignerInfo.SignedAttributes.Expiry.IsZero() {
		t.Errorf("expiry %v, want none", content.SignerInfo.SignedAttributes.Expiry)
	}
}

func TestChainSatisfiesNotation(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	signingTime := time.Now().Truncate(time.Second)
	_, chain, err := a.Sign(testRequest(signingTime))
	if err != nil {
		t.Fatal(err)
	}
	if err := nx509.ValidateCodeSigningCertChain(chain, &signingTime); err != nil {
		t.Fatalf("ValidateCodeSigningCertChain: %v", err)
	}
	leaf := chain[0]
	if got := leaf.NotBefore; !got.Equal(signingTime.Add(-time.Minute)) {
		t.Errorf("leaf NotBefore %v", got)
	}
	if got := leaf.NotAfter.Sub(signingTime); got != 72*time.Hour {
		t.Errorf("leaf valid %v after signing, want 72h", got)
	}
	if !strings.Contains(chain[1].Subject.CommonName, "us-east-2") {
		t.Errorf("regional CA %q does not name the region", chain[1].Subject.CommonName)
	}
	for i, c := range chain {
		if len(c.OCSPServer) != 0 || len(c.CRLDistributionPoints) != 0 || len(c.IssuingCertificateURL) != 0 {
			t.Errorf("cert %d has revocation/AIA URLs", i)
		}
		if !strings.Contains(strings.Join(c.Subject.Organization, ","), "xsigner emulator") {
			t.Errorf("cert %d subject %q lacks xsigner emulator", i, c.Subject)
		}
		if c.SignatureAlgorithm != x509.ECDSAWithSHA384 {
			t.Errorf("cert %d signature algorithm %v", i, c.SignatureAlgorithm)
		}
	}
	// The standard library agrees the chain is a code-signing chain.
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(a.Root())
	inters.AddCert(chain[1])
	inters.AddCert(chain[2])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: signingTime,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		t.Errorf("x509 Verify: %v", err)
	}
	// Each signature gets a fresh leaf key.
	_, chain2, err := a.Sign(testRequest(signingTime))
	if err != nil {
		t.Fatal(err)
	}
	if chain2[0].PublicKey.(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
		t.Error("two signatures share a leaf key")
	}
	if !chain2[1].Equal(chain[1]) {
		t.Error("the regional CA changed between signatures")
	}
}

func TestRegionalCAs(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	now := time.Now()
	regions := map[string]*x509.Certificate{}
	for _, region := range []string{"us-east-1", "eu-west-1", "us-gov-west-1"} {
		req := testRequest(now)
		req.Region = region
		_, chain, err := a.Sign(req)
		if err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		regions[region] = chain[1]
	}
	if regions["us-east-1"].Equal(regions["eu-west-1"]) {
		t.Error("two regions share an issuing CA")
	}
	// A signing time past the regional CA's validity rotates it.
	later := regions["us-east-1"].NotAfter.Add(time.Hour)
	req := testRequest(later)
	req.Region = "us-east-1"
	_, chain, err := a.Sign(req)
	if err != nil {
		t.Fatal(err)
	}
	if chain[1].Equal(regions["us-east-1"]) {
		t.Error("regional CA not rotated")
	}
	if err := nx509.ValidateCodeSigningCertChain(chain, &later); err != nil {
		t.Errorf("rotated chain: %v", err)
	}
}

func TestSignRejectsBadRequests(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	now := time.Now()
	cases := []struct {
		name   string
		modify func(*SignRequest)
	}{
		{"bad region", func(r *SignRequest) { r.Region = "../../etc" }},
		{"empty region", func(r *SignRequest) { r.Region = "" }},
		{"payload type", func(r *SignRequest) { r.PayloadType = "application/json" }},
		{"empty payload", func(r *SignRequest) { r.Payload = nil }},
		{"payload not JSON", func(r *SignRequest) { r.Payload = []byte("{") }},
		{"payload number beyond doubles", func(r *SignRequest) {
			r.Payload = []byte(`{"targetArtifact":{"mediaType":"m","digest":"sha256:00","size":9007199254740993}}`)
		}},
		{"no signing time", func(r *SignRequest) { r.SigningTime = time.Time{} }},
		{"expiry before signing time", func(r *SignRequest) { r.Expiry = r.SigningTime.Add(-time.Hour) }},
		{"expiry equal to signing time", func(r *SignRequest) { r.Expiry = r.SigningTime }},
		{"no profile version", func(r *SignRequest) { r.ProfileVersionARN = "" }},
		{"no job", func(r *SignRequest) { r.JobARN = "" }},
		{"signing time before the root", func(r *SignRequest) { r.SigningTime = now.AddDate(-5, 0, 0); r.Expiry = time.Time{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := testRequest(now)
			tc.modify(&req)
			if env, _, err := a.Sign(req); err == nil {
				t.Fatalf("Sign succeeded: %s", env)
			}
		})
	}
}

func TestSignTampered(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	cases := []struct {
		tamper Tamper
		check  func(t *testing.T, env []byte)
	}{
		{TamperNone, func(t *testing.T, env []byte) {
			content := mustVerify(t, env)
			if !jsonEqual(t, content.Payload.Content, []byte(testPayload)) {
				t.Errorf("payload changed: %s", content.Payload.Content)
			}
		}},
		{TamperWrongPayload, func(t *testing.T, env []byte) {
			content := mustVerify(t, env)
			var got, want struct {
				TargetArtifact map[string]any `json:"targetArtifact"`
			}
			_ = json.Unmarshal(content.Payload.Content, &got)
			_ = json.Unmarshal([]byte(testPayload), &want)
			if got.TargetArtifact["digest"] == want.TargetArtifact["digest"] {
				t.Fatalf("digest unchanged: %v", got.TargetArtifact["digest"])
			}
			got.TargetArtifact["digest"] = want.TargetArtifact["digest"]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("more than the digest changed: %v", got)
			}
		}},
		{TamperBadSignature, func(t *testing.T, env []byte) {
			parsed, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, env)
			if err != nil {
				return // rejected at parse time: fine
			}
			if _, err := parsed.Verify(); err == nil {
				t.Fatal("tampered signature verifies")
			}
		}},
		{TamperTruncated, func(t *testing.T, env []byte) {
			if json.Valid(env) {
				t.Fatal("truncated envelope is valid JSON")
			}
			if _, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, env); err == nil {
				t.Fatal("truncated envelope parses")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.tamper.String(), func(t *testing.T) {
			t.Parallel()
			env, chain, err := a.SignTampered(testRequest(time.Now()), tc.tamper)
			if err != nil {
				t.Fatalf("SignTampered: %v", err)
			}
			if len(chain) != 4 {
				t.Errorf("chain has %d certs", len(chain))
			}
			tc.check(t, env)
		})
	}
	if _, _, err := a.SignTampered(testRequest(time.Now()), Tamper(99)); err == nil {
		t.Error("unknown tamper accepted")
	}
}

func mustVerify(t *testing.T, env []byte) *signature.EnvelopeContent {
	t.Helper()
	parsed, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, env)
	if err != nil {
		t.Fatalf("ParseEnvelope: %v", err)
	}
	content, err := parsed.Verify()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return content
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	a1 := openTest(t, dir)
	_, chain1, err := a1.Sign(testRequest(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	a2 := openTest(t, dir)
	if !a2.Root().Equal(a1.Root()) || !bytes.Equal(a2.RootPEM(), a1.RootPEM()) {
		t.Fatal("reopening the state directory gave a different root")
	}
	_, chain2, err := a2.Sign(testRequest(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if !chain2[1].Equal(chain1[1]) || !chain2[2].Equal(chain1[2]) {
		t.Error("regional or intermediate CA not persisted")
	}
	block, _ := pem.Decode(a1.RootPEM())
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("RootPEM is not a certificate PEM")
	}

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %04o, want 0700", info.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	wantNames := []string{"ca-intermediate.pem", "ca-region-us-east-2.pem", "ca-root.pem"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("state files %v, want %v", names, wantNames)
	}
}

func TestOpenRejectsBadState(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		breakf func(t *testing.T, dir string)
	}{
		{"root readable by others", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, rootFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"intermediate from another root", func(t *testing.T, dir string) {
			other := t.TempDir()
			openTest(t, other)
			data, err := os.ReadFile(filepath.Join(other, intermediateFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, intermediateFile), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage root file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, rootFile), []byte("not pem"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			openTest(t, dir)
			tc.breakf(t, dir)
			if _, err := Open(dir, time.Now); err == nil {
				t.Fatal("Open accepted a broken state directory")
			}
		})
	}
}

func TestOpenConcurrentlyOnOneDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var wg sync.WaitGroup
	roots := make([]*x509.Certificate, 4)
	errs := make([]error, len(roots))
	for i := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := Open(dir, time.Now)
			if err != nil {
				errs[i] = err
				return
			}
			roots[i] = a.Root()
		}()
	}
	wg.Wait()
	for i := range roots {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if !roots[i].Equal(roots[0]) {
			t.Errorf("Open %d got a different root", i)
		}
	}
}

func TestCertificateHashes(t *testing.T) {
	t.Parallel()
	a := openTest(t, "")
	_, chain, err := a.Sign(testRequest(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	// Independent computation: hash each TBS by re-parsing the DER.
	h := func(c *x509.Certificate) string {
		parsed, err := x509.ParseCertificate(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		d := sha512.New384()
		d.Write(parsed.RawTBSCertificate)
		return fmt.Sprintf("%x", d.Sum(nil))
	}
	want := []string{
		h(chain[0]) + h(chain[1]),
		h(chain[1]) + h(chain[2]),
		h(chain[2]) + h(chain[3]),
		h(chain[3]) + h(chain[3]),
	}
	got := CertificateHashes(chain)
	if !slices.Equal(got, want) {
		t.Fatalf("CertificateHashes\n got %v\nwant %v", got, want)
	}
	for _, g := range got {
		if len(g) != 192 || strings.ToLower(g) != g {
			t.Errorf("hash %q is not 192 lowercase hex chars", g)
		}
		if _, err := hex.DecodeString(g); err != nil {
			t.Errorf("hash %q: %v", g, err)
		}
	}
	if len(CertificateHashes(nil)) != 0 {
		t.Error("hashes of an empty chain")
	}
}

func TestConcurrentSign(t *testing.T) {
	t.Parallel()
	a := openTest(t, t.TempDir())
	regions := []string{"us-east-1", "us-west-2", "eu-central-1"}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	regional := sync.Map{}
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := testRequest(time.Now())
			req.Region = regions[i%len(regions)]
			env, chain, err := a.Sign(req)
			if err != nil {
				errs <- err
				return
			}
			if prev, loaded := regional.LoadOrStore(req.Region, chain[1]); loaded && !prev.(*x509.Certificate).Equal(chain[1]) {
				errs <- fmt.Errorf("region %s got two issuing CAs", req.Region)
				return
			}
			parsed, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, env)
			if err == nil {
				_, err = parsed.Verify()
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkSign(b *testing.B) {
	a := openTest(b, "")
	req := testRequest(time.Now())
	if _, _, err := a.Sign(req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := a.Sign(req); err != nil {
			b.Fatal(err)
		}
	}
}
