// Package signingtest makes real AWS-Signer-shaped Notation JWS envelopes for
// tests: a P-384 root, an intermediate and a leaf, and envelopes signed with
// notation-core-go under the notary.x509.signingAuthority scheme with the
// com.amazonaws.signer.* attributes, plus the ways a broken service could
// get them wrong.
package signingtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
)

// Attribute names and values AWS Signer signs (research aws.md §3).
const (
	AttrSigningProfileVersion = "com.amazonaws.signer.signingProfileVersion"
	AttrSigningJob            = "com.amazonaws.signer.signingJob"
	AttrVerificationPlugin    = "io.cncf.notary.verificationPlugin"
	AWSVerificationPlugin     = "com.amazonaws.signer.notation.plugin"
	PayloadType               = "application/vnd.cncf.notary.payload.v1+json"
)

// Authority is a three-certificate ES384 signing chain.
type Authority struct {
	Chain []*x509.Certificate // leaf, intermediate, root
	key   *ecdsa.PrivateKey
}

// NewAuthority makes a fresh chain valid from an hour ago for a day.
func NewAuthority(t testing.TB) *Authority {
	t.Helper()
	now := time.Now()
	rootKey := newKey(t)
	root := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Test Signer Root CA", Organization: []string{"xsigner test"}, Country: []string{"US"}, Province: []string{"WA"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, rootKey, &rootKey.PublicKey, now)
	caKey := newKey(t)
	ca := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Test Signer Code Signing CA", Organization: []string{"xsigner test"}, Country: []string{"US"}, Province: []string{"WA"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, root, rootKey, &caKey.PublicKey, now)
	leafKey := newKey(t)
	leaf := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "Test Signer", Organization: []string{"xsigner test"}, Country: []string{"US"}, Province: []string{"WA"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, ca, caKey, &leafKey.PublicKey, now)
	return &Authority{Chain: []*x509.Certificate{leaf, ca, root}, key: leafKey}
}

// ChainDER returns the chain as DER, leaf first.
func (a *Authority) ChainDER() [][]byte {
	out := make([][]byte, len(a.Chain))
	for i, c := range a.Chain {
		out[i] = c.Raw
	}
	return out
}

// Envelope describes what to sign. Zero fields get AWS-like defaults; a nil
// attribute value leaves the attribute out.
type Envelope struct {
	Payload        []byte
	PayloadType    string                  // default PayloadType
	Scheme         signature.SigningScheme // default signingAuthority
	SigningTime    time.Time               // default now
	Expiry         time.Time               // default SigningTime + 90 days
	ProfileVersion any                     // a string ARN as AWS signs it
	Job            any                     // a string ARN as AWS signs it
}

// Sign returns a JWS envelope as AWS Signer would return it.
func (a *Authority) Sign(t testing.TB, e Envelope) []byte {
	t.Helper()
	if e.PayloadType == "" {
		e.PayloadType = PayloadType
	}
	if e.Scheme == "" {
		e.Scheme = signature.SigningSchemeX509SigningAuthority
	}
	if e.SigningTime.IsZero() {
		e.SigningTime = time.Now().Truncate(time.Second)
	}
	if e.Expiry.IsZero() {
		e.Expiry = e.SigningTime.Add(90 * 24 * time.Hour)
	}
	attrs := []signature.Attribute{{Key: AttrVerificationPlugin, Critical: true, Value: AWSVerificationPlugin}}
	for _, kv := range []struct {
		key string
		val any
	}{{AttrSigningProfileVersion, e.ProfileVersion}, {AttrSigningJob, e.Job}} {
		if kv.val == nil {
			continue
		}
		attrs = append(attrs, signature.Attribute{Key: kv.key, Critical: true, Value: kv.val})
	}
	s, err := signature.NewLocalSigner(a.Chain, a.key)
	if err != nil {
		t.Fatalf("signingtest: local signer: %v", err)
	}
	env, err := signature.NewEnvelope(jws.MediaTypeEnvelope)
	if err != nil {
		t.Fatalf("signingtest: new envelope: %v", err)
	}
	b, err := env.Sign(&signature.SignRequest{
		Payload:                  signature.Payload{ContentType: e.PayloadType, Content: e.Payload},
		Signer:                   s,
		SigningTime:              e.SigningTime,
		Expiry:                   e.Expiry,
		ExtendedSignedAttributes: attrs,
		SigningScheme:            e.Scheme,
	})
	if err != nil {
		t.Fatalf("signingtest: sign: %v", err)
	}
	return b
}

// BreakSignature returns envelope with one bit of its JWS signature flipped.
func BreakSignature(t testing.TB, envelope []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(envelope, &m); err != nil {
		t.Fatalf("signingtest: envelope is not JSON: %v", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(m["signature"].(string))
	if err != nil {
		t.Fatalf("signingtest: signature is not base64url: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	m["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("signingtest: marshal: %v", err)
	}
	return out
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatalf("signingtest: key: %v", err)
	}
	return k
}

func issue(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, pub *ecdsa.PublicKey, now time.Time) *x509.Certificate {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("signingtest: serial: %v", err)
	}
	tmpl.SerialNumber = n
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(24 * time.Hour)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("signingtest: certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("signingtest: parse %q: %v", tmpl.Subject.CommonName, err)
	}
	return c
}
