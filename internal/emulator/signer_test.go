package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
	nx509 "github.com/notaryproject/notation-core-go/x509"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/authority"
)

func signInput(owner string, payload []byte) *signer.SignPayloadInput {
	in := &signer.SignPayloadInput{ProfileName: aws.String(profileName), Payload: payload, PayloadFormat: aws.String(payloadType)}
	if owner != "" {
		in.ProfileOwner = aws.String(owner)
	}
	return in
}

// verifyEnvelope parses and verifies a SignPayload signature with
// notation-core-go and checks what AWS Signer puts in it (aws.md §3).
func verifyEnvelope(t *testing.T, e *env, out *signer.SignPayloadOutput, payload []byte) *signature.EnvelopeContent {
	t.Helper()
	envl, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, out.Signature)
	if err != nil {
		t.Fatalf("ParseEnvelope: %v", err)
	}
	content, err := envl.Verify()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if content.Payload.ContentType != payloadType || !sameJSON(content.Payload.Content, payload) {
		t.Errorf("payload = %s %q", content.Payload.ContentType, content.Payload.Content)
	}
	si := content.SignerInfo
	if si.SignedAttributes.SigningScheme != signature.SigningSchemeX509SigningAuthority {
		t.Errorf("signing scheme %s", si.SignedAttributes.SigningScheme)
	}
	if si.SignatureAlgorithm != signature.AlgorithmES384 {
		t.Errorf("algorithm %v, want ES384", si.SignatureAlgorithm)
	}
	want := map[string]string{
		"io.cncf.notary.verificationPlugin":    "com.amazonaws.signer.notation.plugin",
		emulator.MetadataSigningJob:            out.Metadata[emulator.MetadataSigningJob],
		emulator.MetadataSigningProfileVersion: out.Metadata[emulator.MetadataSigningProfileVersion],
	}
	for k, v := range want {
		attr, err := si.ExtendedAttribute(k)
		if err != nil {
			t.Errorf("extended attribute %s: %v", k, err)
			continue
		}
		if attr.Value != v || !attr.Critical {
			t.Errorf("extended attribute %s = %v (critical %v), want %s (critical)", k, attr.Value, attr.Critical, v)
		}
	}
	signed := si.SignedAttributes.SigningTime
	if signed.Nanosecond() != 0 || time.Since(signed) > time.Minute || time.Until(signed) > time.Second {
		t.Errorf("signing time %v is not now at second precision", signed)
	}
	if wantExp := signed.AddDate(0, 135, 0); !si.SignedAttributes.Expiry.Equal(wantExp) {
		t.Errorf("expiry %v, want %v (135 months)", si.SignedAttributes.Expiry, wantExp)
	}
	chain := si.CertificateChain
	if len(chain) != 4 {
		t.Fatalf("chain has %d certificates, want 4", len(chain))
	}
	if err := nx509.ValidateCodeSigningCertChain(chain, &signed); err != nil {
		t.Errorf("ValidateCodeSigningCertChain: %v", err)
	}
	block, _ := pem.Decode(e.RootPEM())
	if block == nil || !bytes.Equal(block.Bytes, chain[3].Raw) {
		t.Error("chain root is not the emulator's ca.pem")
	}
	return content
}

func TestSignPayload(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	payload := notaryPayload(t)
	tests := []struct {
		name  string
		creds func(*testing.T) aws.Credentials
		owner string
	}{
		{"same account via assumed role, owner given", e.signerSession, accountA},
		{"same account via assumed role, owner defaulted", e.signerSession, ""},
		{"cross account via profile permission", e.ciSession, accountA},
		{"same account user", func(*testing.T) aws.Credentials { return adminKeys }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.signer(tc.creds(t)).SignPayload(ctx, signInput(tc.owner, payload))
			if err != nil {
				t.Fatal(err)
			}
			if *out.JobOwner != accountA {
				t.Errorf("jobOwner %s", *out.JobOwner)
			}
			wantJob := "arn:aws:signer:us-west-2:111111111111:/signing-jobs/" + *out.JobId
			if out.Metadata[emulator.MetadataSigningJob] != wantJob {
				t.Errorf("metadata job %q, want %q", out.Metadata[emulator.MetadataSigningJob], wantJob)
			}
			if v := out.Metadata[emulator.MetadataSigningProfileVersion]; !strings.HasPrefix(v, profileARN+"/") || len(v) != len(profileARN)+11 {
				t.Errorf("metadata profile version %q", v)
			}
			verifyEnvelope(t, e, out, payload)
		})
	}
}

func TestSignPayloadErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	payload := notaryPayload(t)
	signerSession := e.signerSession(t)
	ciSession := e.ciSession(t)
	// A second world profile without permissions, for the resource-side denial.
	if _, err := e.signer(adminKeys).PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("private_signer"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signer(adminKeys).PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("old_signer"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signer(adminKeys).CancelSigningProfile(ctx, &signer.CancelSigningProfileInput{ProfileName: aws.String("old_signer")}); err != nil {
		t.Fatal(err)
	}
	in := func(mut func(*signer.SignPayloadInput)) *signer.SignPayloadInput {
		i := signInput(accountA, payload)
		mut(i)
		return i
	}
	privateARN := "arn:aws:signer:us-west-2:111111111111:/signing-profiles/private_signer"
	tests := []struct {
		name    string
		creds   aws.Credentials
		region  string
		in      *signer.SignPayloadInput
		status  int
		code    string
		message string
	}{
		{"cross account, permission names another principal", ciKeys, region, in(func(*signer.SignPayloadInput) {}), 403, "AccessDeniedException",
			"User: " + ciUserARN + " is not authorized to perform: signer:SignPayload on resource: " + profileARN + " because no resource-based policy allows the signer:SignPayload action"},
		{"cross account without profile permission", ciSession, region, in(func(i *signer.SignPayloadInput) { i.ProfileName = aws.String("private_signer") }), 403, "AccessDeniedException",
			"User: arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session is not authorized to perform: signer:SignPayload on resource: " + privateARN + " because no resource-based policy allows the signer:SignPayload action"},
		{"role policy names another profile", signerSession, region, in(func(i *signer.SignPayloadInput) { i.ProfileName = aws.String("private_signer") }), 403, "AccessDeniedException",
			"User: arn:aws:sts::111111111111:assumed-role/xsigner-signer/test-session is not authorized to perform: signer:SignPayload on resource: " + privateARN + " because no identity-based policy allows the signer:SignPayload action"},
		{"payload too large", signerSession, region, in(func(i *signer.SignPayloadInput) { i.Payload = bytes.Repeat([]byte("a"), 4097) }), 400, "ValidationException",
			"1 validation error detected: Value at 'payload' failed to satisfy constraint: Member must have length less than or equal to 4096"},
		{"empty payload", signerSession, region, in(func(i *signer.SignPayloadInput) { i.Payload = []byte{} }), 400, "ValidationException",
			"1 validation error detected: Value at 'payload' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"bad payload format", signerSession, region, in(func(i *signer.SignPayloadInput) { i.PayloadFormat = aws.String("application/json") }), 400, "ValidationException",
			"Payload format application/json is not supported. The single valid payload format is application/vnd.cncf.notary.payload.v1+json"},
		{"bad profile name", signerSession, region, in(func(i *signer.SignPayloadInput) { i.ProfileName = aws.String("release-signer") }), 400, "ValidationException",
			"1 validation error detected: Value 'release-signer' at 'profileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]{2,}$"},
		{"bad profile owner", signerSession, region, in(func(i *signer.SignPayloadInput) { i.ProfileOwner = aws.String("1111") }), 400, "ValidationException",
			"1 validation error detected: Value '1111' at 'profileOwner' failed to satisfy constraint: Member must have length greater than or equal to 12"},
		{"profile does not exist", adminKeys, region, in(func(i *signer.SignPayloadInput) { i.ProfileName = aws.String("nope") }), 404, "ResourceNotFoundException",
			"Signing profile arn:aws:signer:us-west-2:111111111111:/signing-profiles/nope does not exist."},
		{"profile is in another region", adminKeys, "eu-west-1", in(func(*signer.SignPayloadInput) {}), 404, "ResourceNotFoundException",
			"Signing profile arn:aws:signer:eu-west-1:111111111111:/signing-profiles/release_signer does not exist."},
		{"profile canceled", adminKeys, region, in(func(i *signer.SignPayloadInput) { i.ProfileName = aws.String("old_signer") }), 400, "ValidationException",
			"Signing profile arn:aws:signer:us-west-2:111111111111:/signing-profiles/old_signer is not active: its status is Canceled."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.signerIn(tc.region, tc.creds).SignPayload(ctx, tc.in)
			wantAPIError(t, err, tc.status, tc.code, tc.message)
		})
	}
	t.Run("request body over 1 MiB", func(t *testing.T) {
		body := []byte(`{"profileName":"release_signer","payload":"` + strings.Repeat("A", 1<<20) + `"}`)
		r := e.do(t, signerSession, "signer", http.MethodPost, "/signing-jobs/with-payload", body, http.Header{"Content-Type": {"application/json"}})
		wantRawSignerError(t, r, 413, "RequestEntityTooLargeException", "Request must be smaller than 1048576 bytes")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		r := e.do(t, signerSession, "signer", http.MethodPost, "/signing-jobs/with-payload", []byte(`{"profileName":`), http.Header{"Content-Type": {"application/json"}})
		if r.Status != 400 || r.Header.Get("X-Amzn-ErrorType") != "SerializationException" {
			t.Errorf("got %d %s", r.Status, r.Body)
		}
	})
}

// revocationInput builds a GetRevocationStatus input for a SignPayload result.
func revocationInput(t *testing.T, out *signer.SignPayloadOutput, at time.Time) *signer.GetRevocationStatusInput {
	t.Helper()
	envl, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, out.Signature)
	if err != nil {
		t.Fatal(err)
	}
	content, err := envl.Content()
	if err != nil {
		t.Fatal(err)
	}
	return &signer.GetRevocationStatusInput{
		SignatureTimestamp: aws.Time(at),
		PlatformId:         aws.String("Notation-OCI-SHA384-ECDSA"),
		ProfileVersionArn:  aws.String(out.Metadata[emulator.MetadataSigningProfileVersion]),
		JobArn:             aws.String(out.Metadata[emulator.MetadataSigningJob]),
		CertificateHashes:  authority.CertificateHashes(content.SignerInfo.CertificateChain),
	}
}

func TestGetRevocationStatus(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	signerSession := e.signerSession(t)
	out, err := e.signer(signerSession).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Now()
	check := func(t *testing.T, in *signer.GetRevocationStatusInput) []string {
		t.Helper()
		res, err := e.signer(signerSession).GetRevocationStatus(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return res.RevokedEntities
	}
	in := revocationInput(t, out, signedAt)
	if len(in.CertificateHashes) != 4 || len(in.CertificateHashes[0]) != 192 {
		t.Fatalf("certificate hashes %q, want 4 of 192 hex digits", in.CertificateHashes)
	}
	if got := check(t, in); len(got) != 0 {
		t.Fatalf("fresh signature revoked: %v", got)
	}

	t.Run("certificate hash", func(t *testing.T) {
		if st := e.admin(t, http.MethodPost, "revoke-certificate", map[string]string{"certificateHash": in.CertificateHashes[1]}, nil); st != 200 {
			t.Fatalf("revoke-certificate: %d", st)
		}
		if got := check(t, in); len(got) != 1 || got[0] != in.CertificateHashes[1] {
			t.Errorf("revokedEntities = %v, want the revoked hash", got)
		}
	})
	t.Run("job", func(t *testing.T) {
		if _, err := e.signer(adminKeys).RevokeSignature(ctx, &signer.RevokeSignatureInput{JobId: out.JobId, Reason: aws.String("key compromise drill")}); err != nil {
			t.Fatal(err)
		}
		if got := check(t, in); !contains(got, *in.JobArn) {
			t.Errorf("revokedEntities = %v, want the job ARN", got)
		}
	})
	t.Run("profile version before and after effective time", func(t *testing.T) {
		version := (*in.ProfileVersionArn)[len(profileARN)+1:]
		effective := signedAt.Add(time.Hour)
		if _, err := e.signer(adminKeys).RevokeSigningProfile(ctx, &signer.RevokeSigningProfileInput{ProfileName: aws.String(profileName),
			ProfileVersion: aws.String(version), Reason: aws.String("rotation"), EffectiveTime: aws.Time(effective)}); err != nil {
			t.Fatal(err)
		}
		if got := check(t, in); contains(got, *in.ProfileVersionArn) {
			t.Errorf("signature from before the effective time is revoked: %v", got)
		}
		later := *in
		later.SignatureTimestamp = aws.Time(effective.Add(time.Second))
		if got := check(t, &later); !contains(got, *in.ProfileVersionArn) {
			t.Errorf("signature from after the effective time is not revoked: %v", got)
		}
		p, err := e.signer(adminKeys).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != types.SigningProfileStatusRevoked || p.RevocationRecord == nil || !p.RevocationRecord.RevocationEffectiveFrom.Equal(effective.Truncate(time.Second)) {
			t.Errorf("profile after revocation: status %s record %+v", p.Status, p.RevocationRecord)
		}
		_, err = e.signer(signerSession).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
		wantAPIError(t, err, 400, "ValidationException", "Signing profile "+profileARN+" is not active: its status is Revoked.")
	})
	t.Run("errors", func(t *testing.T) {
		// Account A is in partition aws: its session is unknown in aws-cn
		// (cross-partition ARNs: TestPartitionIsCredentialBoundary).
		cross := *in
		_, err := e.signerIn("cn-north-1", signerSession).GetRevocationStatus(ctx, &cross)
		wantAPIError(t, err, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		badJob := *in
		badJob.JobArn = aws.String("arn:aws:signer:us-west-2:111111111111:/signing-profiles/x")
		_, err = e.signer(signerSession).GetRevocationStatus(ctx, &badJob)
		wantAPIError(t, err, 400, "ValidationException", "jobArn arn:aws:signer:us-west-2:111111111111:/signing-profiles/x is not a valid signing job ARN")
		_, err = e.signer(ciKeys).GetRevocationStatus(ctx, in)
		wantAPIError(t, err, 403, "AccessDeniedException", "User: "+ciUserARN+" is not authorized to perform: signer:GetRevocationStatus on resource: * because no identity-based policy allows the signer:GetRevocationStatus action")
		// The SDK checks required members itself, so send the request raw.
		r := e.do(t, signerSession, "signer", http.MethodGet, "/revocations?platformId=Notation-OCI-SHA384-ECDSA&jobArn="+*in.JobArn, nil, nil)
		wantRawSignerError(t, r, 400, "ValidationException", "3 validation errors detected: Value null at 'signatureTimestamp' failed to satisfy constraint: Member must not be null; Value null at 'profileVersionArn' failed to satisfy constraint: Member must not be null; Value null at 'certificateHashes' failed to satisfy constraint: Member must not be null")
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRevocationHostPrefix proves any Host works: the SDK's own host prefix
// (data- in current SDKs, verification. in older ones) reaches the emulator
// through a dialer that ignores the host name.
func TestRevocationHostPrefix(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	session := e.signerSession(t)
	out, err := e.signer(session).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	if err != nil {
		t.Fatal(err)
	}
	in := revocationInput(t, out, time.Now())
	addr := strings.TrimPrefix(e.URL, "http://")
	var hosts []string
	dialer := &net.Dialer{}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		hosts = append(hosts, a)
		return dialer.DialContext(ctx, network, addr)
	}}}
	t.Run("SDK with host prefix", func(t *testing.T) {
		c := signer.New(signer.Options{Region: region, Credentials: static(session), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1, HTTPClient: client})
		if _, err := c.GetRevocationStatus(ctx, in); err != nil {
			t.Fatal(err)
		}
		if len(hosts) == 0 || !(strings.HasPrefix(hosts[len(hosts)-1], "data-127.0.0.1:") || strings.HasPrefix(hosts[len(hosts)-1], "verification.127.0.0.1:")) {
			t.Errorf("SDK dialed %v, want a prefixed host", hosts)
		}
	})
	t.Run("verification prefix", func(t *testing.T) {
		port := addr[strings.LastIndex(addr, ":"):]
		q := "/revocations?platformId=Notation-OCI-SHA384-ECDSA&jobArn=" + *in.JobArn + "&profileVersionArn=" + *in.ProfileVersionArn +
			"&signatureTimestamp=" + time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		for _, h := range in.CertificateHashes {
			q += "&certificateHashes=" + h
		}
		req, _ := http.NewRequest(http.MethodGet, "http://verification.127.0.0.1"+port+q, nil)
		signRaw(t, req, session, nil)
		r := send(t, client, req)
		var body struct{ RevokedEntities []string }
		if r.Status != 200 || json.Unmarshal(r.Body, &body) != nil || body.RevokedEntities == nil {
			t.Errorf("got %d %s", r.Status, r.Body)
		}
	})
}

func TestSigningProfiles(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	admin := e.signer(adminKeys)
	name := aws.String("team_signer")
	teamARN := "arn:aws:signer:us-west-2:111111111111:/signing-profiles/team_signer"
	put, err := admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: name, PlatformId: aws.String("Notation-OCI-SHA384-ECDSA"),
		SignatureValidityPeriod: &types.SignatureValidityPeriod{Value: 2, Type: types.ValidityTypeYears}, Tags: map[string]string{"team": "release"}})
	if err != nil {
		t.Fatal(err)
	}
	if *put.Arn != teamARN || len(*put.ProfileVersion) != 10 || *put.ProfileVersionArn != teamARN+"/"+*put.ProfileVersion {
		t.Errorf("put = %s %s %s", *put.Arn, *put.ProfileVersion, *put.ProfileVersionArn)
	}
	get, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: name})
	if err != nil {
		t.Fatal(err)
	}
	if *get.ProfileVersion != *put.ProfileVersion || get.Status != types.SigningProfileStatusActive || *get.PlatformId != "Notation-OCI-SHA384-ECDSA" ||
		*get.PlatformDisplayName != "Notary v2 for Container Registries" || get.SignatureValidityPeriod.Value != 2 || get.SignatureValidityPeriod.Type != types.ValidityTypeYears ||
		get.Tags["team"] != "release" || *get.Arn != teamARN {
		t.Errorf("get = %+v", get)
	}
	put2, err := admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: name, PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")})
	if err != nil {
		t.Fatal(err)
	}
	if *put2.ProfileVersion == *put.ProfileVersion {
		t.Error("a second put did not create a new version")
	}

	t.Run("permissions", func(t *testing.T) {
		list, err := admin.ListProfilePermissions(ctx, &signer.ListProfilePermissionsInput{ProfileName: name})
		if err != nil || len(list.Permissions) != 0 {
			t.Fatalf("list = %v %v", list, err)
		}
		add, err := admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: name, Action: aws.String("signer:GetSigningProfile"),
			Principal: aws.String(accountB), StatementId: aws.String("b-get")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: name, Action: aws.String("signer:SignPayload"),
			Principal: aws.String(ciRole), StatementId: aws.String("b-sign"), RevisionId: aws.String("stale")})
		wantAPIError(t, err, 409, "ConflictException", "The revisionId stale does not match the current revision of the signing profile permissions")
		add2, err := admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: name, Action: aws.String("signer:SignPayload"),
			Principal: aws.String(ciRole), StatementId: aws.String("b-sign"), RevisionId: add.RevisionId})
		if err != nil {
			t.Fatal(err)
		}
		list, err = admin.ListProfilePermissions(ctx, &signer.ListProfilePermissionsInput{ProfileName: name})
		if err != nil {
			t.Fatal(err)
		}
		if *list.RevisionId != *add2.RevisionId || len(list.Permissions) != 2 || *list.Permissions[1].Principal != ciRole || list.PolicySizeBytes <= 0 {
			t.Errorf("list = %+v", list)
		}
		for _, tc := range []struct {
			name, action, principal, sid, message string
			status                                int
			code                                  string
		}{
			{"StartSigningJob", "signer:StartSigningJob", accountB, "x1", "Action signer:StartSigningJob not supported for platform Notation-OCI-SHA384-ECDSA. Action must be one of [signer:SignPayload, signer:GetSigningProfile, signer:RevokeSignature]", 400, "ValidationException"},
			{"role with path", "signer:SignPayload", "arn:aws:iam::222222222222:role/ci/builder", "x2", "Principal is not a valid AWS account id or IAM Role Arn", 400, "ValidationException"},
			{"user principal", "signer:SignPayload", ciUserARN, "x3", "Principal is not a valid AWS account id or IAM Role Arn", 400, "ValidationException"},
			{"duplicate statement", "signer:SignPayload", accountB, "b-sign", "A permission with statement id b-sign already exists for signing profile " + teamARN, 409, "ConflictException"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: name, Action: aws.String(tc.action),
					Principal: aws.String(tc.principal), StatementId: aws.String(tc.sid)})
				wantAPIError(t, err, tc.status, tc.code, tc.message)
			})
		}
		_, err = admin.RemoveProfilePermission(ctx, &signer.RemoveProfilePermissionInput{ProfileName: name, StatementId: aws.String("b-sign"), RevisionId: add.RevisionId})
		wantAPIError(t, err, 409, "ConflictException", "The revisionId "+*add.RevisionId+" does not match the current revision of the signing profile permissions")
		_, err = admin.RemoveProfilePermission(ctx, &signer.RemoveProfilePermissionInput{ProfileName: name, StatementId: aws.String("nope"), RevisionId: add2.RevisionId})
		wantAPIError(t, err, 404, "ResourceNotFoundException", "No permission with statement id nope exists for signing profile "+teamARN)
		r := e.do(t, adminKeys, "signer", http.MethodDelete, "/signing-profiles/team_signer/permissions/b-sign", nil, nil)
		wantRawSignerError(t, r, 400, "ValidationException", "1 validation error detected: Value null at 'revisionId' failed to satisfy constraint: Member must not be null")
		rm, err := admin.RemoveProfilePermission(ctx, &signer.RemoveProfilePermissionInput{ProfileName: name, StatementId: aws.String("b-sign"), RevisionId: add2.RevisionId})
		if err != nil || *rm.RevisionId == *add2.RevisionId {
			t.Fatalf("remove = %v %v", rm, err)
		}
	})
	t.Run("cross-account get needs a profile permission", func(t *testing.T) {
		// codebuild-ci may get any profile of account A by its identity policy;
		// team_signer grants account B signer:GetSigningProfile, release_signer does not.
		ci := e.signer(e.ciSession(t))
		got, err := ci.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: name, ProfileOwner: aws.String(accountA)})
		if err != nil || *got.Arn != teamARN {
			t.Fatalf("cross-account get: %v %v", got, err)
		}
		_, err = ci.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName), ProfileOwner: aws.String(accountA)})
		wantAPIError(t, err, 403, "AccessDeniedException", "User: arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session is not authorized to perform: signer:GetSigningProfile on resource: "+profileARN+" because no resource-based policy allows the signer:GetSigningProfile action")
	})
	t.Run("errors", func(t *testing.T) {
		_, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("nope")})
		wantAPIError(t, err, 404, "ResourceNotFoundException", "Signing profile arn:aws:signer:us-west-2:111111111111:/signing-profiles/nope does not exist.")
		_, err = admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("lambda_p"), PlatformId: aws.String("AWSLambda-SHA384-ECDSA")})
		wantAPIError(t, err, 400, "ValidationException", "Platform AWSLambda-SHA384-ECDSA is not supported by xsigner-emulator; use Notation-OCI-SHA384-ECDSA")
		_, err = admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("bad-name"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")})
		wantAPIError(t, err, 400, "ValidationException", "1 validation error detected: Value 'bad-name' at 'profileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]{2,}$")
		_, err = e.signer(ciKeys).PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("mine"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")})
		wantAPIError(t, err, 403, "AccessDeniedException", "User: "+ciUserARN+" is not authorized to perform: signer:PutSigningProfile on resource: arn:aws:signer:us-west-2:222222222222:/signing-profiles/mine because no identity-based policy allows the signer:PutSigningProfile action")
		_, err = admin.RevokeSigningProfile(ctx, &signer.RevokeSigningProfileInput{ProfileName: name, ProfileVersion: aws.String("AAAAAAAAAA"), Reason: aws.String("r"), EffectiveTime: aws.Time(time.Now())})
		wantAPIError(t, err, 400, "ValidationException", "Profile version AAAAAAAAAA does not exist for signing profile "+teamARN)
		_, err = admin.RevokeSignature(ctx, &signer.RevokeSignatureInput{JobId: aws.String("00000000-0000-0000-0000-000000000000"), Reason: aws.String("r")})
		wantAPIError(t, err, 404, "ResourceNotFoundException", "Signing job arn:aws:signer:us-west-2:111111111111:/signing-jobs/00000000-0000-0000-0000-000000000000 does not exist.")
		_, err = admin.RevokeSignature(ctx, &signer.RevokeSignatureInput{JobId: aws.String("00000000-0000-0000-0000-000000000000"), Reason: aws.String(strings.Repeat("r", 501))})
		wantAPIError(t, err, 400, "ValidationException", "1 validation error detected: Value '"+strings.Repeat("r", 501)+"' at 'reason' failed to satisfy constraint: Member must have length less than or equal to 500")
	})
	t.Run("cancel", func(t *testing.T) {
		if _, err := admin.CancelSigningProfile(ctx, &signer.CancelSigningProfileInput{ProfileName: name}); err != nil {
			t.Fatal(err)
		}
		got, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: name})
		if err != nil || got.Status != types.SigningProfileStatusCanceled {
			t.Fatalf("after cancel: %v %v", got, err)
		}
		_, err = admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: name, PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")})
		wantAPIError(t, err, 400, "ValidationException", "Signing profile "+teamARN+" is canceled; its name cannot be reused")
		_, err = admin.CancelSigningProfile(ctx, &signer.CancelSigningProfileInput{ProfileName: aws.String("nope")})
		wantAPIError(t, err, 404, "ResourceNotFoundException", "Signing profile arn:aws:signer:us-west-2:111111111111:/signing-profiles/nope does not exist.")
	})
}

func TestRevokeSignatureCrossAccount(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	ci := e.ciSession(t)
	out, err := e.signer(ci).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	if err != nil {
		t.Fatal(err)
	}
	revoke := &signer.RevokeSignatureInput{JobId: out.JobId, JobOwner: aws.String(accountA), Reason: aws.String("r")}
	denied := "User: arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session is not authorized to perform: signer:RevokeSignature on resource: " + out.Metadata[emulator.MetadataSigningJob]
	_, err = e.signer(ci).RevokeSignature(ctx, revoke)
	wantAPIError(t, err, 403, "AccessDeniedException", denied+" because no resource-based policy allows the signer:RevokeSignature action")
	// A profile permission alone is not enough: B's role has no identity policy for it.
	if _, err := e.signer(adminKeys).AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: aws.String(profileName),
		Action: aws.String("signer:RevokeSignature"), Principal: aws.String(accountB), StatementId: aws.String("b-revoke")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.signer(ci).RevokeSignature(ctx, revoke)
	wantAPIError(t, err, 403, "AccessDeniedException", denied+" because no identity-based policy allows the signer:RevokeSignature action")
	// Without jobOwner the job is looked up in the caller's account.
	_, err = e.signer(adminKeys).RevokeSignature(ctx, &signer.RevokeSignatureInput{JobId: out.JobId, Reason: aws.String("r")})
	if err != nil {
		t.Fatalf("owner revokes: %v", err)
	}
}

// signRaw SigV4-signs req for signer in us-west-2.
func signRaw(t *testing.T, req *http.Request, c aws.Credentials, body []byte) {
	t.Helper()
	if err := signHTTP(req, c, "signer", body); err != nil {
		t.Fatal(err)
	}
}

// sameJSON reports whether a and b are the same JSON value. The JWS payload
// is re-encoded by notation-core-go (keys sorted), as notation does itself.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestProfilePermissionVersion: a profile permission added for one profile
// version grants nothing once the profile signs with another version
// (AWS does not document the exact semantics; the stricter reading).
func TestProfilePermissionVersion(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	admin := e.signer(adminKeys)
	ci := e.signer(e.ciSession(t))
	list, err := admin.ListProfilePermissions(ctx, &signer.ListProfilePermissionsInput{ProfileName: aws.String(profileName)})
	if err != nil {
		t.Fatal(err)
	}
	rm, err := admin.RemoveProfilePermission(ctx, &signer.RemoveProfilePermissionInput{ProfileName: aws.String(profileName),
		StatementId: aws.String("ci-sign"), RevisionId: list.RevisionId})
	if err != nil {
		t.Fatal(err)
	}
	p, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddProfilePermission(ctx, &signer.AddProfilePermissionInput{ProfileName: aws.String(profileName),
		Action: aws.String("signer:SignPayload"), Principal: aws.String(ciRole), StatementId: aws.String("ci-v1"),
		ProfileVersion: p.ProfileVersion, RevisionId: rm.RevisionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := ci.SignPayload(ctx, signInput(accountA, notaryPayload(t))); err != nil {
		t.Fatalf("sign with the permitted version: %v", err)
	}
	if _, err := admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String(profileName),
		PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")}); err != nil {
		t.Fatal(err)
	}
	_, err = ci.SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	wantAPIError(t, err, 403, "AccessDeniedException", "User: arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session is not authorized to perform: signer:SignPayload on resource: "+profileARN+" because no resource-based policy allows the signer:SignPayload action")
}
