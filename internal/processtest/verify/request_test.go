package verify_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// TestOnlyRequestedChecks checks that the plugin runs exactly the checks in
// signatureVerification (notation drops REVOCATION_CHECK for
// "revocation: skip") and always reports both com.amazonaws.signer.*
// attributes as processed.
func TestOnlyRequestedChecks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		checks     []proto.Capability
		identities []string
		want       map[proto.Capability]bool
		calls      int
	}{
		{"trusted identity only", []proto.Capability{identityCap}, []string{releaseV},
			map[proto.Capability]bool{identityCap: true}, 0},
		{"revocation only, with a policy that would not match", []proto.Capability{revocationCap},
			[]string{"arn:aws:signer:us-west-2:222222222222:/signing-profiles/release_signer"},
			map[proto.Capability]bool{revocationCap: true}, 1},
		{"both, in the other order", []proto.Capability{revocationCap, identityCap}, []string{releaseV},
			map[proto.Capability]bool{identityCap: true, revocationCap: true}, 1},
		{"both, identity fails", bothChecks, []string{"arn:aws:signer:us-west-2:222222222222:/signing-profiles/release_signer"},
			map[proto.Capability]bool{identityCap: false, revocationCap: true}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			s := f.sign(t, releaseV)
			req := s.request(c.identities, c.checks, f.config())
			resp := verify(t, f.exe, f.env(t, verifier), req)
			got := map[proto.Capability]bool{}
			for k, v := range resp.VerificationResults {
				got[k] = v.Success
				if v.Reason == "" {
					t.Errorf("%s has no reason", k)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("results %v, want %v", got, c.want)
			}
			wantProcessed := []any{attrVersion, attrJob}
			if !sameSet(resp.ProcessedAttributes, wantProcessed) || !sameSet(resp.ProcessedAttributes, toAny(req.Signature.UnprocessedAttributes)) {
				t.Errorf("processedAttributes %v, want %v (the request's unprocessedAttributes %v)", resp.ProcessedAttributes, wantProcessed, req.Signature.UnprocessedAttributes)
			}
			if calls := f.revocationCalls(); len(calls) != c.calls {
				t.Errorf("GetRevocationStatus calls %+v, want %d", calls, c.calls)
			}
		})
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sameSet(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[any]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		seen[v]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestRevocationRegion checks that GetRevocationStatus goes to the region of
// the signature's signing profile, whatever the SDK's region settings say
// (the official plugin uses the local default region and so asks a region
// that holds no record of the signature), and that aws-region, if set, must
// agree with it. An aws-us-gov signature is checked in us-gov-west-1 with
// credentials of an aws-us-gov account: credentials of an aws account are
// unknown there, as in AWS.
func TestRevocationRegion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	us := f.sign(t, releaseV)
	eu := f.sign(t, euProfile)
	gov := f.signAs(t, govSigner, govProfile)
	cases := []struct {
		name   string
		s      signed
		id     identity
		env    []string
		cfg    []string
		region string
	}{
		{"us-west-2 signature, AWS_REGION eu-west-1", us, verifier, []string{"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1"}, nil, regionUS},
		{"eu-west-1 signature, AWS_REGION us-west-2", eu, verifier, []string{"AWS_REGION=us-west-2"}, nil, regionEU},
		{"eu-west-1 signature, shared config region us-east-1", eu, verifier, []string{"AWS_PROFILE=default"}, nil, regionEU},
		{"eu-west-1 signature, aws-region agrees", eu, verifier, nil, []string{"aws-region=eu-west-1"}, regionEU},
		{"aws-us-gov signature, AWS_REGION us-west-2", gov, govVerifier, []string{"AWS_REGION=us-west-2"}, nil, "us-gov-west-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Not parallel: each case finds its call as the journal's last.
			env := f.env(t, c.id, c.env...)
			if strings.Contains(c.name, "shared config") {
				env = withSharedConfig(t, env, "[default]\nregion = us-east-1\n")
			}
			profile := strings.TrimSuffix(c.s.version, c.s.version[strings.LastIndex(c.s.version, "/"):])
			rev := verify(t, f.exe, env, c.s.request([]string{profile}, bothChecks, f.config(c.cfg...))).VerificationResults[revocationCap]
			if !rev.Success || !strings.Contains(rev.Reason, "AWS Signer in "+c.region+" ") {
				t.Errorf("got %+v, want success naming region %s", rev, c.region)
			}
			calls := f.revocationCalls()
			if last := calls[len(calls)-1]; last.Region != c.region || last.Status != 200 {
				t.Errorf("GetRevocationStatus went to %q (status %d), want %q", last.Region, last.Status, c.region)
			}
		})
	}
	t.Run("aws-us-gov signature, caller in us-gov", func(t *testing.T) {
		// The gov case above was answered for the gov account's identity.
		calls := f.revocationCalls()
		if last := calls[len(calls)-1]; last.Caller != govVerifierARN {
			t.Errorf("GetRevocationStatus in us-gov-west-1 made by %q, want %s", last.Caller, govVerifierARN)
		}
	})
	t.Run("aws-us-gov signature, aws credentials", func(t *testing.T) {
		rev := verify(t, f.exe, f.env(t, verifier), gov.request([]string{govProfile}, bothChecks, f.config())).VerificationResults[revocationCap]
		if rev.Success || !strings.Contains(rev.Reason, "UnrecognizedClientException: The security token included in the request is invalid") ||
			!strings.Contains(rev.Reason, "credentials of an account in aws-us-gov") {
			t.Errorf("got %+v, want failure: the aws account's key is unknown in us-gov-west-1", rev)
		}
		calls := f.revocationCalls()
		if last := calls[len(calls)-1]; last.Region != "us-gov-west-1" || last.Status != 403 {
			t.Errorf("last GetRevocationStatus %+v, want one refused in us-gov-west-1", last)
		}
	})
	t.Run("aws-region disagrees", func(t *testing.T) {
		before := len(f.revocationCalls())
		req := eu.request([]string{euProfile}, bothChecks, f.config("aws-region=us-west-2"))
		e := plugintest.Run(t, f.exe, f.env(t, verifier), req, string(proto.CommandVerifySignature)).Failed(t)
		if e.ErrCode != proto.ErrorCodeValidation || !strings.Contains(e.Message, `"us-west-2"`) || !strings.Contains(e.Message, `"eu-west-1"`) {
			t.Errorf("got %s %q, want VALIDATION_ERROR naming both regions", e.ErrCode, e.Message)
		}
		if after := len(f.revocationCalls()); after != before {
			t.Errorf("GetRevocationStatus was called despite the refusal")
		}
	})
}

// withSharedConfig writes an AWS shared config file and points env at it.
func withSharedConfig(t *testing.T, env []string, content string) []string {
	t.Helper()
	path := t.TempDir() + "/config"
	if err := writeFile(path, content); err != nil {
		t.Fatal(err)
	}
	return append(env, "AWS_CONFIG_FILE="+path)
}

// TestEndpointOverride checks every way of pointing the revocation call at a
// custom Signer endpoint. GetRevocationStatus carries an endpoint host
// prefix (data-<host>); an override that kept it would dial
// data-127.0.0.1, which does not resolve (the official plugin's
// aws-signer-endpoint-url is broken this way, aws.md §0.1).
func TestEndpointOverride(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	cases := []struct {
		name string
		cfg  map[string]string
		env  []string
	}{
		{"pluginConfig signer-endpoint-url", map[string]string{"signer-endpoint-url": f.emu.URL}, nil},
		{"pluginConfig aws-signer-endpoint-url (official plugin's key)", map[string]string{"aws-signer-endpoint-url": f.emu.URL}, nil},
		{"XSIGNER_SIGNER_ENDPOINT_URL", nil, []string{"XSIGNER_SIGNER_ENDPOINT_URL=" + f.emu.URL}},
		{"AWS_ENDPOINT_URL_SIGNER (SDK)", nil, []string{"AWS_ENDPOINT_URL_SIGNER=" + f.emu.URL}},
		{"AWS_ENDPOINT_URL (SDK)", nil, []string{"AWS_ENDPOINT_URL=" + f.emu.URL}},
		{"shared config services section (SDK)", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.revocationCalls())
			req := s.request([]string{releaseV}, bothChecks, c.cfg)
			env := f.env(t, verifier, c.env...)
			if c.cfg == nil && c.env == nil {
				env = withSharedConfig(t, env, "[default]\nservices = emulator\n[services emulator]\nsigner =\n  endpoint_url = "+f.emu.URL+"\n")
			}
			rev := verify(t, f.exe, env, req).VerificationResults[revocationCap]
			if !rev.Success {
				t.Errorf("revocation check failed: %q", rev.Reason)
			}
			if after := len(f.revocationCalls()); after != before+1 {
				t.Errorf("the emulator saw %d GetRevocationStatus calls, want 1", after-before)
			}
		})
	}
}

// TestAWSPluginName checks the drop-in path: the executable installed as
// notation-com.amazonaws.signer.notation.plugin (the plugin every AWS Signer
// signature names) reports that name and verifies like xsigner.
func TestAWSPluginName(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alias := plugintest.CopyAs(t, "notation-"+awsName)
	env := f.env(t, verifier)
	var meta proto.GetMetadataResponse
	plugintest.Run(t, alias, env, "{}", string(proto.CommandGetMetadata)).Succeeded(t, &meta)
	if meta.Name != awsName {
		t.Errorf("metadata name %q, want %q (notation requires it to equal the executable's suffix)", meta.Name, awsName)
	}
	for _, c := range []proto.Capability{identityCap, revocationCap} {
		if !meta.HasCapability(c) {
			t.Errorf("metadata lacks %s", c)
		}
	}

	good, revoked := f.sign(t, releaseV), f.sign(t, releaseV)
	f.revokeJob(t, revoked)
	resp := verify(t, alias, env, good.request([]string{releaseV}, bothChecks, f.config()))
	for c, r := range resp.VerificationResults {
		if !r.Success {
			t.Errorf("%s failed: %q", c, r.Reason)
		}
	}
	rev := verify(t, alias, env, revoked.request([]string{releaseV}, bothChecks, f.config())).VerificationResults[revocationCap]
	if rev.Success || !strings.Contains(rev.Reason, revoked.job) {
		t.Errorf("revoked job under the AWS name: %+v", rev)
	}
	other := verify(t, alias, env, good.request([]string{"arn:aws:signer:us-west-2:222222222222:/signing-profiles/release_signer"}, []proto.Capability{identityCap}, f.config()))
	if other.VerificationResults[identityCap].Success {
		t.Errorf("identity of another account matched under the AWS name")
	}
}

// TestRoleARN checks that the credential options of signing apply to the
// revocation call: role-arn is assumed (cross-account, from the deploy
// account into the profile owner's account) and the call is made as the
// assumed role; the second process reuses the cached role credentials.
func TestRoleARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	env := f.env(t, deployer)
	req := s.request([]string{releaseV}, bothChecks, f.config("role-arn="+checkerRole, "role-session-name=deploy-42"))
	for i := range 2 {
		res := plugintest.Run(t, f.exe, env, req, string(proto.CommandVerifySignature))
		for _, secret := range []string{deployer.secret} {
			if strings.Contains(res.Stdout+res.Stderr, secret) {
				t.Fatalf("run %d: output holds a secret", i)
			}
		}
		var resp proto.VerifySignatureResponse
		res.Succeeded(t, &resp)
		if rev := resp.VerificationResults[revocationCap]; !rev.Success {
			t.Fatalf("run %d: revocation check failed: %q", i, rev.Reason)
		}
	}
	var assumes, checks []string
	for _, c := range f.emu.Calls() {
		switch c.Operation {
		case "AssumeRole":
			assumes = append(assumes, c.Caller)
		case "GetRevocationStatus":
			checks = append(checks, c.Caller)
		}
	}
	wantCaller := "arn:aws:sts::111111111111:assumed-role/revocation-checker/deploy-42"
	if !reflect.DeepEqual(assumes, []string{deployerARN}) {
		t.Errorf("AssumeRole callers %q, want one by %s (the second process uses the credential cache)", assumes, deployerARN)
	}
	if !reflect.DeepEqual(checks, []string{wantCaller, wantCaller}) {
		t.Errorf("GetRevocationStatus callers %q, want %s twice", checks, wantCaller)
	}
}

// TestMalformedRequest checks that a request notation would never build from
// an AWS Signer signature, or a tampered one, is refused before any AWS
// call with VALIDATION_ERROR (or UNSUPPORTED_CONTRACT_VERSION) and a message
// that says what is wrong.
func TestMalformedRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	dropAttr := func(name string) func(r *proto.VerifySignatureRequest) {
		return func(r *proto.VerifySignatureRequest) {
			delete(r.Signature.CriticalAttributes.ExtendedAttributes, name)
			var keep []string
			for _, n := range r.Signature.UnprocessedAttributes {
				if n != name {
					keep = append(keep, n)
				}
			}
			r.Signature.UnprocessedAttributes = keep
		}
	}
	setAttr := func(name string, v any) func(r *proto.VerifySignatureRequest) {
		return func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.ExtendedAttributes[name] = v }
	}
	cases := []struct {
		name   string
		mutate func(r *proto.VerifySignatureRequest)
		raw    string // stdin instead of the request, when set
		code   proto.ErrorCode
		msg    string
	}{
		{name: "job attribute missing", mutate: dropAttr(attrJob), msg: attrJob + " is missing"},
		{name: "profile version attribute missing", mutate: dropAttr(attrVersion), msg: attrVersion + " is missing"},
		{name: "no extended attributes", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CriticalAttributes.ExtendedAttributes = nil
			r.Signature.UnprocessedAttributes = nil
		}, msg: "is missing"},
		{name: "profile version a number", mutate: setAttr(attrVersion, 42), msg: attrVersion + " must be a string, not a number"},
		{name: "job null", mutate: setAttr(attrJob, nil), msg: attrJob + " must be a string, not null"},
		{name: "job an object", mutate: setAttr(attrJob, map[string]any{"arn": s.job}), msg: "not an object"},
		{name: "profile ARN without version", mutate: setAttr(attrVersion, releaseV), msg: "without the profile version"},
		{name: "profile version not an ARN", mutate: setAttr(attrVersion, "release_signer/W3Hhlbt4DN"), msg: attrVersion},
		{name: "job ARN of a profile", mutate: setAttr(attrJob, s.version), msg: attrJob},
		{name: "signing scheme notary.x509", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CriticalAttributes.SigningScheme = "notary.x509"
		}, msg: `"notary.x509" is not supported`},
		{name: "authenticSigningTime missing", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CriticalAttributes.AuthenticSigningTime = nil
		}, msg: "authenticSigningTime is missing"},
		{name: "expiry before signing time", mutate: func(r *proto.VerifySignatureRequest) {
			e := r.Signature.CriticalAttributes.AuthenticSigningTime.Add(-time.Second)
			r.Signature.CriticalAttributes.Expiry = &e
		}, msg: "is not after its authentic signing time"},
		{name: "certificate not DER", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CertificateChain[1] = []byte("not a certificate")
		}, msg: "certificateChain[1] is not a DER X.509 certificate"},
		{name: "certificate chain empty", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CertificateChain = nil
		}, msg: "certificateChain cannot be empty"},
		{name: "unknown check", mutate: func(r *proto.VerifySignatureRequest) {
			r.TrustPolicy.SignatureVerification = append(r.TrustPolicy.SignatureVerification, "SIGNATURE_VERIFIER.SOMETHING")
		}, msg: `"SIGNATURE_VERIFIER.SOMETHING"`},
		{name: "no checks", mutate: func(r *proto.VerifySignatureRequest) {
			r.TrustPolicy.SignatureVerification = nil
		}, msg: "signatureVerification cannot be empty"},
		{name: "content type empty", mutate: func(r *proto.VerifySignatureRequest) {
			r.Signature.CriticalAttributes.ContentType = ""
		}, msg: "contentType cannot be empty"},
		{name: "unknown pluginConfig key", mutate: func(r *proto.VerifySignatureRequest) {
			r.PluginConfig["aws-regoin"] = "us-west-2"
		}, msg: "aws-regoin"},
		{name: "contract version 2.0", mutate: func(r *proto.VerifySignatureRequest) {
			r.ContractVersion = "2.0"
		}, code: proto.ErrorCodeUnsupportedContractVersion, msg: `"2.0"`},
		{name: "not JSON", raw: "verify this", msg: "Input is not a valid JSON"},
		{name: "expiry not a time", raw: "expiry", msg: "Input is not a valid JSON"},
	}
	env := f.env(t, verifier)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := s.request([]string{releaseV}, bothChecks, f.config())
			var stdin any = req
			switch {
			case c.raw == "expiry":
				b, err := json.Marshal(req)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				m["signature"].(map[string]any)["criticalAttributes"].(map[string]any)["expiry"] = "in 90 days"
				stdin = m
			case c.raw != "":
				stdin = c.raw
			default:
				c.mutate(req)
			}
			want := c.code
			if want == "" {
				want = proto.ErrorCodeValidation
			}
			e := plugintest.Run(t, f.exe, env, stdin, string(proto.CommandVerifySignature)).Failed(t)
			if e.ErrCode != want || !strings.Contains(e.Message, c.msg) {
				t.Errorf("got %s %q, want %s containing %q", e.ErrCode, e.Message, want, c.msg)
			}
		})
	}
	t.Cleanup(func() {
		if calls := f.revocationCalls(); len(calls) != 0 {
			t.Errorf("a refused request led to GetRevocationStatus: %+v", calls)
		}
	})
}

// TestNoExpiry checks notation's encoding of a signature without expiry
// (expiry present, 0001-01-01T00:00:00Z): it means none, not "expired".
func TestNoExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	req := s.request([]string{releaseV}, bothChecks, f.config())
	req.Signature.CriticalAttributes.Expiry = &time.Time{}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"expiry":"0001-01-01T00:00:00Z"`) {
		t.Fatalf("request does not carry the zero expiry as notation does: %s", b)
	}
	for c, r := range verify(t, f.exe, f.env(t, verifier), req).VerificationResults {
		if !r.Success {
			t.Errorf("%s failed: %q", c, r.Reason)
		}
	}
}

// TestCredentialOptions checks the other ways signing gets its credentials,
// applied to the revocation call: a shared-config profile (aws-profile) for
// the base credentials, and the role from XSIGNER_ROLE_ARN.
func TestCredentialOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	home := t.TempDir()
	creds := home + "/credentials"
	if err := writeFile(creds, "[deploy]\naws_access_key_id = "+deployer.keyID+"\naws_secret_access_key = "+deployer.secret+"\n"); err != nil {
		t.Fatal(err)
	}
	env := plugintest.Env(t, "AWS_SHARED_CREDENTIALS_FILE="+creds, "XSIGNER_ROLE_ARN="+checkerRole, "XSIGNER_ROLE_SESSION_NAME=deploy-env")
	rev := verify(t, f.exe, env, s.request([]string{releaseV}, bothChecks, f.config("aws-profile=deploy"))).VerificationResults[revocationCap]
	if !rev.Success {
		t.Fatalf("revocation check failed: %q", rev.Reason)
	}
	calls := f.revocationCalls()
	if want := "arn:aws:sts::111111111111:assumed-role/revocation-checker/deploy-env"; len(calls) != 1 || calls[0].Caller != want {
		t.Errorf("GetRevocationStatus calls %+v, want one by %s", calls, want)
	}
}

// TestUnknownCriticalAttribute checks that the plugin does not claim to have
// processed a critical attribute it does not know: notation then fails the
// verification ("extended critical attribute ... was not processed").
func TestUnknownCriticalAttribute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	req := s.request([]string{releaseV}, bothChecks, f.config())
	req.Signature.CriticalAttributes.ExtendedAttributes["com.example.policy"] = "strict"
	req.Signature.UnprocessedAttributes = append(req.Signature.UnprocessedAttributes, "com.example.policy")
	var resp proto.VerifySignatureResponse
	plugintest.Run(t, f.exe, f.env(t, verifier), req, string(proto.CommandVerifySignature)).Succeeded(t, &resp)
	if !sameSet(resp.ProcessedAttributes, []any{attrVersion, attrJob}) {
		t.Errorf("processedAttributes %v, want exactly the two com.amazonaws.signer attributes", resp.ProcessedAttributes)
	}
}
