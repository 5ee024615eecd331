package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// The emulator is its own OIDC issuer: for every provider in the world file
// it holds an ES256 key, mints ID tokens on request (admin API) and verifies
// them in AssumeRoleWithWebIdentity. Keys are in memory only, so tokens do
// not survive a restart (they are short-lived anyway).

type oidcProvider struct {
	cfg WebIdentityProvider
	key *ecdsa.PrivateKey
	kid string
}

func newOIDCProvider(cfg WebIdentityProvider) (*oidcProvider, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating OIDC key for %s: %w", cfg.Issuer, err)
	}
	return &oidcProvider{cfg: cfg, key: key, kid: randomString(16, "0123456789abcdef")}, nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// tokenClaims are the claims the emulator puts in and checks. aud is a
// single string (AWS also accepts an array; the emulator mints strings).
type tokenClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
}

// mintToken signs an ID token for the provider with the given issuer.
func (e *Emulator) mintToken(issuer, subject, audience string, ttl time.Duration) (string, error) {
	p := e.oidc[issuer]
	if p == nil {
		return "", fmt.Errorf("issuer %q is not a webIdentity provider of the world file", issuer)
	}
	if subject == "" || audience == "" {
		return "", errors.New("subject and audience are required")
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	now := e.now()
	hdr, _ := json.Marshal(jwtHeader{Alg: "ES256", Typ: "JWT", Kid: p.kid})
	cl, _ := json.Marshal(tokenClaims{Issuer: issuer, Subject: subject, Audience: audience, IssuedAt: now.Unix(), Expiry: now.Add(ttl).Unix()})
	signing := b64(hdr) + "." + b64(cl)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// verifyWebIdentityToken checks signature, issuer, audience and expiry.
// Messages follow AWS where known; the token itself is never echoed.
func (e *Emulator) verifyWebIdentityToken(token string) (*tokenClaims, *apiError) {
	invalid := func(msg string) *apiError { return errorf(400, "InvalidIdentityToken", "%s", msg) }
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("The ID token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	var hdr jwtHeader
	var cl tokenClaims
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &cl) != nil {
		return nil, invalid("The ID token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	p := e.oidc[cl.Issuer]
	if p == nil {
		return nil, invalid(fmt.Sprintf("No OpenIDConnect provider found in your account for %s", cl.Issuer))
	}
	if hdr.Alg != "ES256" || len(sig) != 64 {
		return nil, invalid("Couldn't verify the signature of the token: unsupported algorithm or malformed signature")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&p.key.PublicKey, digest[:], r, s) {
		return nil, invalid("Couldn't verify the signature of the token")
	}
	if !slices.Contains(p.cfg.Audiences, cl.Audience) {
		return nil, invalid("Incorrect token audience")
	}
	now := e.now().Unix()
	if cl.Expiry <= now {
		return nil, errorf(400, "ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now, cl.Expiry)
	}
	if cl.Subject == "" {
		return nil, invalid("The ID token has no sub claim")
	}
	return &cl, nil
}
