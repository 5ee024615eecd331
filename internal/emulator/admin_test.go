package emulator_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"

	"github.com/xsigner/xsigner/internal/emulator"
)

func TestAdminLoopbackOnly(t *testing.T) {
	t.Parallel()
	e := start(t)
	for _, addr := range []string{"10.0.0.7:5555", "192.168.1.2:80", "[2001:db8::1]:443"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/_xsigner/calls", nil)
		req.RemoteAddr = addr
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("admin from %s: status %d, want 403", addr, rec.Code)
		}
	}
	if st := e.admin(t, http.MethodGet, "calls", nil, nil); st != 200 {
		t.Errorf("admin from loopback: %d", st)
	}
	if st := e.admin(t, http.MethodGet, "nope", nil, nil); st != 404 {
		t.Errorf("unknown admin endpoint: %d", st)
	}
	if st := e.admin(t, http.MethodGet, "reset", nil, nil); st != 405 {
		t.Errorf("GET reset: %d", st)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	if _, err := e.sts(ciKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.signer(ciKeys).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	if err == nil {
		t.Fatal("ci user signed without permission")
	}
	_, err = e.sts(ciKeys).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(signerRole), RoleSessionName: aws.String("journal")})
	if err == nil {
		t.Fatal("ci user assumed the signer role without permission")
	}
	var calls []emulator.Call
	if st := e.admin(t, http.MethodGet, "calls", nil, &calls); st != 200 {
		t.Fatalf("calls: %d", st)
	}
	if len(calls) != 3 {
		t.Fatalf("journal has %d calls, want 3: %+v", len(calls), calls)
	}
	// resource is what IAM was asked about: which profile (owner, region)
	// or role a denied call wanted.
	want := []emulator.Call{
		{Service: "sts", Operation: "GetCallerIdentity", Caller: ciUserARN, Region: region, Status: 200},
		{Service: "signer", Operation: "SignPayload", Caller: ciUserARN, Region: region, Resource: profileARN, Status: 403, ErrorCode: "AccessDeniedException"},
		{Service: "sts", Operation: "AssumeRole", Caller: ciUserARN, Region: region, Resource: signerRole, Status: 403, ErrorCode: "AccessDenied"},
	}
	for i, w := range want {
		c := calls[i]
		if c.Service != w.Service || c.Operation != w.Operation || c.Caller != w.Caller || c.Region != w.Region || c.Resource != w.Resource ||
			c.Status != w.Status || c.ErrorCode != w.ErrorCode || c.RequestID == "" {
			t.Errorf("call %d = %+v, want %+v", i, c, w)
		}
	}
	if got := e.Calls(); len(got) != 3 {
		t.Errorf("Calls() has %d entries", len(got))
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("error for the next count calls", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		session := e.signerSession(t)
		if st := e.admin(t, http.MethodPost, "faults", emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "ThrottlingException", Count: 2}, nil); st != 200 {
			t.Fatalf("faults: %d", st)
		}
		for i := 0; i < 2; i++ {
			_, err := e.signer(session).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
			wantAPIError(t, err, 429, "ThrottlingException", "injected by xsigner-emulator fault")
		}
		if _, err := e.signer(session).SignPayload(ctx, signInput(accountA, notaryPayload(t))); err != nil {
			t.Fatalf("third call: %v", err)
		}
	})
	t.Run("STS error with explicit status", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		if err := e.InjectFault(emulator.Fault{Service: "sts", Operation: "AssumeRole", ErrorCode: "RegionDisabledException", Status: 403, Message: "STS is not activated in this region"}); err != nil {
			t.Fatal(err)
		}
		_, err := e.sts(ciKeys).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1")})
		var rd *types.AccessDeniedException
		if errors.As(err, &rd) {
			t.Fatal("wrong error type")
		}
		wantAPIError(t, err, 403, "RegionDisabledException", "STS is not activated in this region")
		if _, err := e.sts(ciKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("other operation affected: %v", err)
		}
	})
	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		if err := e.InjectFault(emulator.Fault{Service: "sts", LatencyMs: 10_000}); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := e.sts(ciKeys).GetCallerIdentity(short, &sts.GetCallerIdentityInput{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("delayed call: %v, want a deadline error", err)
		}
		if _, err := e.sts(ciKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("next call: %v", err)
		}
	})
	t.Run("hang until the client goes away", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		if err := e.InjectFault(emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", Hang: true}); err != nil {
			t.Fatal(err)
		}
		in := &signer.GetRevocationStatusInput{SignatureTimestamp: aws.Time(time.Now()), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA"),
			ProfileVersionArn: aws.String(profileARN + "/AAAAAAAAAA"), JobArn: aws.String("arn:aws:signer:us-west-2:111111111111:/signing-jobs/x"),
			CertificateHashes: []string{"a"}}
		session := e.signerSession(t)
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := e.signer(session).GetRevocationStatus(short, in); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hung call: %v, want a deadline error", err)
		}
		bounded, cancel2 := context.WithTimeout(ctx, 10*time.Second)
		defer cancel2()
		if _, err := e.signer(session).GetRevocationStatus(bounded, in); err != nil {
			t.Fatalf("next call: %v", err)
		}
	})
	t.Run("hang released by Close", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		if err := e.InjectFault(emulator.Fault{Service: "sts", Hang: true}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := e.sts(ciKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("call returned while it should hang: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		wantAPIError(t, <-done, 503, "InternalFailure", "the request hung on an injected fault and was released")
	})
	t.Run("tampered envelopes", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		session := e.signerSession(t)
		payload := notaryPayload(t)
		for _, tamper := range []string{"wrong-payload", "bad-signature", "truncated"} {
			t.Run(tamper, func(t *testing.T) {
				if st := e.admin(t, http.MethodPost, "faults", map[string]any{"service": "signer", "operation": "SignPayload", "tamper": tamper}, nil); st != 200 {
					t.Fatalf("faults: %d", st)
				}
				out, err := e.signer(session).SignPayload(ctx, signInput(accountA, payload))
				if err != nil {
					t.Fatal(err)
				}
				envl, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, out.Signature)
				if err == nil {
					var content *signature.EnvelopeContent
					content, err = envl.Verify()
					if err == nil && sameJSON(content.Payload.Content, payload) {
						t.Fatal("tampered envelope verifies and carries the requested payload")
					}
				}
				if tamper == "wrong-payload" && err != nil {
					t.Errorf("wrong-payload envelope should verify (with another payload): %v", err)
				}
				// The next signature is intact again.
				out, err = e.signer(session).SignPayload(ctx, signInput(accountA, payload))
				if err != nil {
					t.Fatal(err)
				}
				verifyEnvelope(t, e, out, payload)
			})
		}
	})
	t.Run("invalid faults are refused", func(t *testing.T) {
		t.Parallel()
		e := start(t)
		for _, f := range []map[string]any{
			{"service": "s3", "errorCode": "X"},
			{"service": "signer"},
			{"tamper": "flip"},
			{"service": "sts", "tamper": "truncated"},
			{"errorCode": "X", "status": 200},
			{"errorCode": "X", "unknownField": true},
		} {
			if st := e.admin(t, http.MethodPost, "faults", f, nil); st != 400 {
				t.Errorf("fault %v accepted (%d)", f, st)
			}
		}
	})
}

func TestReset(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	admin := e.signer(adminKeys)
	if _, err := admin.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("temp_signer"), PlatformId: aws.String("Notation-OCI-SHA384-ECDSA")}); err != nil {
		t.Fatal(err)
	}
	session := e.ciSession(t)
	if err := e.InjectFault(emulator.Fault{Service: "sts", ErrorCode: "Throttling", Count: 5}); err != nil {
		t.Fatal(err)
	}
	if st := e.admin(t, http.MethodPost, "reset", nil, nil); st != 200 {
		t.Fatalf("reset: %d", st)
	}
	if n := len(e.Calls()); n != 0 {
		t.Errorf("journal has %d calls after reset", n)
	}
	_, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("temp_signer")})
	wantAPIError(t, err, 404, "ResourceNotFoundException", "*")
	if _, err := e.sts(ciKeys).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("fault survived reset: %v", err)
	}
	_, err = e.sts(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	if _, err := admin.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName)}); err != nil {
		t.Errorf("world profile gone after reset: %v", err)
	}
}

func TestCAPEM(t *testing.T) {
	t.Parallel()
	e := start(t)
	r := e.do(t, aws.Credentials{}, "", http.MethodGet, "/_xsigner/ca.pem", nil, nil)
	if r.Status != 200 || !bytes.Equal(r.Body, e.RootPEM()) {
		t.Fatalf("ca.pem: %d %q", r.Status, r.Body)
	}
	block, _ := pem.Decode(r.Body)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatal("ca.pem is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || cert.CheckSignatureFrom(cert) != nil {
		t.Error("ca.pem is not a self-signed CA")
	}
}

// TestErrorMessageCasing checks the switch to {"Message": ...} error bodies
// (aws.md §0.3, aws/aws-signer-notation-plugin#215). The Signer SDK the
// plugin pinned (v1.24.6) read only "message", so its typed error came out
// empty; the SDK in go.mod (v1.33.2) reads both casings, so the typed error
// keeps the text and the raw body is checked for the capital-M key.
func TestErrorMessageCasing(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	want := "User: " + ciUserARN + " is not authorized to perform: signer:SignPayload on resource: " + profileARN + " because no resource-based policy allows the signer:SignPayload action"
	_, err := e.signer(ciKeys).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	var ade *types.AccessDeniedException
	if !errors.As(err, &ade) || ade.ErrorMessage() != want {
		t.Fatalf("lower-case message: %v", err)
	}
	if st := e.admin(t, http.MethodPost, "error-message-field", map[string]string{"field": "Message"}, nil); st != 200 {
		t.Fatalf("error-message-field: %d", st)
	}
	_, err = e.signer(ciKeys).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
	if !errors.As(err, &ade) || ade.ErrorMessage() != want {
		t.Fatalf("with Message casing: %v", err)
	}
	r := e.do(t, ciKeys, "signer", http.MethodPost, "/signing-jobs/with-payload",
		[]byte(`{"profileName":"release_signer","profileOwner":"111111111111","payload":"e30=","payloadFormat":"`+payloadType+`"}`), http.Header{"Content-Type": {"application/json"}})
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil || body["Message"] != want || r.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Errorf("raw answer %d %s", r.Status, r.Body)
	}
	// A case-sensitive decoder like signer v1.24.6 finds no "message" (#215).
	if _, lower := body["message"]; lower {
		t.Errorf("body still has a lower-case message key: %s", r.Body)
	}
	if st := e.admin(t, http.MethodPost, "error-message-field", map[string]string{"field": "msg"}, nil); st != 400 {
		t.Errorf("invalid field accepted: %d", st)
	}
}

// TestAdminRefusesBrowsers checks that a web page the developer happens to
// visit cannot drive the admin API: a cross-site POST (CSRF, no preflight for
// a text/plain body) carries an Origin header, and a DNS-rebinding page
// reaches 127.0.0.1 under its own host name. Both come from loopback, so the
// loopback check alone lets them through.
func TestAdminRefusesBrowsers(t *testing.T) {
	t.Parallel()
	e := start(t)
	port := e.URL[strings.LastIndex(e.URL, ":"):]
	cases := []struct {
		name    string
		host    string
		headers map[string]string
		want    int
	}{
		{"plain client", "", nil, 200},
		{"localhost", "localhost" + port, nil, 200},
		{"ipv6 loopback host", "[::1]" + port, nil, 200},
		{"same-origin page", "", map[string]string{"Origin": e.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		{"cross-site form post", "", map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}, 403},
		{"cross-site fetch metadata only", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site other port", "", map[string]string{"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"}, 403},
		{"null origin", "", map[string]string{"Origin": "null"}, 403},
		{"dns rebinding", "rebind.evil.example" + port, nil, 403},
		{"ecr-shaped host", "111111111111.dkr.ecr.us-west-2.amazonaws.com" + port, nil, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.URL+"/_xsigner/faults",
				strings.NewReader(`{"service":"sts","operation":"GetCallerIdentity","errorCode":"Throttling","count":1}`))
			if err != nil {
				t.Fatal(err)
			}
			if c.host != "" {
				req.Host = c.host
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			if r := send(t, http.DefaultClient, req); r.Status != c.want {
				t.Errorf("status %d (%s), want %d", r.Status, r.Body, c.want)
			}
		})
	}
}
