// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on
// incoming HTTP requests, the way AWS front ends do for STS and Signer.
//
// The canonical request is rebuilt with exactly the rules of the signer the
// clients use, aws-sdk-go-v2 aws/signer/v4 (v4.go, internal/v4/util.go):
// the URI path is the escaped path escaped once more (services other than S3
// leave DisableURIPathEscaping false), query parameters are re-encoded with
// url.QueryEscape ("+" → "%20") and sorted by key then value, header values
// are trimmed and runs of spaces collapsed, repeated headers are joined with
// ",", and the host is the Host the client sent (r.Host), so the
// "verification."/"data-" host prefixes of GetRevocationStatus verify.
//
// Presigned (query-string) authentication is not supported: such requests
// have no Authorization header and are rejected as unauthenticated.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// MaxSkew is how far X-Amz-Date may be from the server clock (AWS: 15 min).
const MaxSkew = 15 * time.Minute

const (
	amzDateFormat   = "20060102T150405Z"
	shortDateFormat = "20060102"
	scopeTerminator = "aws4_request"
)

// Sentinel errors. Match them with errors.Is; the error returned by Parse and
// Verify carries an AWS-style message in Error() (use it as the message of
// the error response).
var (
	// ErrMissingAuthentication: no Authorization header. AWS code
	// MissingAuthenticationToken (STS, awsQuery) /
	// MissingAuthenticationTokenException (restJson1 services like Signer).
	//lint:ignore ST1005 the text is AWS's, returned to clients verbatim
	ErrMissingAuthentication = errors.New("Missing Authentication Token")

	// ErrIncompleteSignature: an Authorization header or X-Amz-Date that
	// cannot be parsed, or required headers not signed. AWS code
	// IncompleteSignature (STS) / IncompleteSignatureException (Signer).
	ErrIncompleteSignature = errors.New("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")

	// ErrSignatureDoesNotMatch: the recomputed signature differs, or the
	// credential scope date differs from X-Amz-Date. AWS code
	// SignatureDoesNotMatch (STS) / InvalidSignatureException (Signer).
	//lint:ignore ST1005 the text is AWS's, returned to clients verbatim
	ErrSignatureDoesNotMatch = errors.New("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")

	// ErrRequestExpired: X-Amz-Date is more than 15 minutes away from the
	// server clock. AWS code SignatureDoesNotMatch with "Signature expired"
	// (STS; some STS front ends say RequestExpired) /
	// InvalidSignatureException "Signature expired: ..." (Signer).
	//lint:ignore ST1005 the text is AWS's, returned to clients verbatim
	ErrRequestExpired = errors.New("Signature expired")
)

// authError is a sentinel plus the AWS-style message for one request.
type authError struct {
	kind error
	msg  string
}

func (e *authError) Error() string { return e.msg }
func (e *authError) Unwrap() error { return e.kind }

func fail(kind error, format string, args ...any) error {
	return &authError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Authorization is the parsed SigV4 Authorization header of a request.
type Authorization struct {
	AccessKeyID string
	// Date is the credential-scope date, yyyymmdd.
	Date    string
	Region  string
	Service string
	// SignedHeaders are the lower-case header names, in header order.
	SignedHeaders []string
	// Signature is the hex signature the client sent.
	Signature string
}

// Parse reads the SigV4 Authorization header of r. A missing header gives
// ErrMissingAuthentication; a malformed one ErrIncompleteSignature.
func Parse(r *http.Request) (*Authorization, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return nil, ErrMissingAuthentication
	}
	if len(values) > 1 {
		// AWS behaviour for repeated Authorization headers is not
		// documented; rejecting is the stricter choice.
		return nil, fail(ErrIncompleteSignature, "Authorization header must be sent once, got %d", len(values))
	}
	header := strings.TrimSpace(values[0])
	if header == "" {
		return nil, ErrMissingAuthentication
	}
	alg, rest, _ := strings.Cut(header, " ")
	if alg != Algorithm {
		return nil, fail(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '%s'", alg)
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fail(ErrIncompleteSignature, "Authorization header requires each component to be of the form key=value, got '%s'", part)
		}
		if _, dup := params[k]; dup {
			return nil, fail(ErrIncompleteSignature, "Authorization header has a repeated '%s' parameter", k)
		}
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return nil, fail(ErrIncompleteSignature, "%s", strings.Join(missing, " "))
	}

	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || scope[2] == "" || scope[3] == "" {
		return nil, fail(ErrIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", redactCredential(params["Credential"]))
	}
	if _, err := time.Parse(shortDateFormat, scope[1]); err != nil || len(scope[1]) != len(shortDateFormat) {
		return nil, fail(ErrIncompleteSignature, "Credential scope date must be yyyyMMdd, got '%s'", scope[1])
	}
	if scope[4] != scopeTerminator {
		return nil, fail(ErrIncompleteSignature, "Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, scope[4])
	}
	signed := strings.Split(params["SignedHeaders"], ";")
	for _, h := range signed {
		if h == "" {
			return nil, fail(ErrIncompleteSignature, "SignedHeaders has an empty header name")
		}
	}
	return &Authorization{
		AccessKeyID:   scope[0],
		Date:          scope[1],
		Region:        scope[2],
		Service:       scope[3],
		SignedHeaders: signed,
		Signature:     params["Signature"],
	}, nil
}

// redactCredential keeps only the shape of a malformed credential: the
// access key id is not secret, but nothing else is echoed.
func redactCredential(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// Verify recomputes the signature of r (body is the exact request body)
// with secretAccessKey and compares it in constant time. It requires "host"
// and "x-amz-date" to be signed, X-Amz-Date within MaxSkew of now
// (ErrRequestExpired) and the credential-scope date to equal the X-Amz-Date
// date (ErrSignatureDoesNotMatch). If X-Amz-Content-Sha256 is present it is
// the payload hash of the canonical request (as in the SDK) and must equal
// the SHA-256 of body; non-S3 AWS services do not document
// UNSIGNED-PAYLOAD, so it is rejected (the stricter choice).
func (a *Authorization) Verify(r *http.Request, body []byte, secretAccessKey string, now time.Time) error {
	if !a.signs("host") {
		return fail(ErrIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !a.signs("x-amz-date") {
		// AWS also accepts a signed Date header; the SDK always signs
		// X-Amz-Date, so requiring it is the stricter choice.
		return fail(ErrIncompleteSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if len(r.Header.Values("X-Amz-Security-Token")) > 0 && !a.signs("x-amz-security-token") {
		// AWS lets some services take the token unsigned and requires it
		// signed in others; the SDK always signs it, so requiring it is the
		// stricter choice. An unsigned token could be swapped in transit.
		return fail(ErrIncompleteSignature, "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.")
	}
	dates := r.Header.Values("X-Amz-Date")
	if len(dates) != 1 {
		return fail(ErrIncompleteSignature, "Authorization header requires existence of exactly one 'X-Amz-Date' header.")
	}
	amzDate := dates[0]
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return fail(ErrIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	if a.Date != amzDate[:8] {
		return fail(ErrSignatureDoesNotMatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, amzDate[:8], amzDate)
	}
	now = now.UTC()
	if signedAt.Before(now.Add(-MaxSkew)) {
		return fail(ErrRequestExpired, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if signedAt.After(now.Add(MaxSkew)) {
		return fail(ErrRequestExpired, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}

	bodyHash := hexSHA256(body)
	payloadHash := bodyHash
	if declared := r.Header.Values("X-Amz-Content-Sha256"); len(declared) > 0 {
		if len(declared) != 1 || declared[0] != bodyHash {
			return fail(ErrSignatureDoesNotMatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		payloadHash = declared[0]
	}

	want := a.signature(secretAccessKey, amzDate, a.canonicalRequest(r, payloadHash))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.Signature)) != 1 {
		return ErrSignatureDoesNotMatch
	}
	return nil
}

func (a *Authorization) signs(name string) bool {
	for _, h := range a.SignedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// canonicalRequest builds the SigV4 canonical request as aws/signer/v4
// httpSigner.Build does.
func (a *Authorization) canonicalRequest(r *http.Request, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(escapePath(uriPath(r.URL)))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range a.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// signature derives the signing key for the credential scope and signs the
// string to sign; it returns the lower-case hex signature.
func (a *Authorization) signature(secret, amzDate, canonical string) string {
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/" + scopeTerminator
	stringToSign := Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	key := hmacSHA256([]byte("AWS4"+secret), a.Date)
	key = hmacSHA256(key, a.Region)
	key = hmacSHA256(key, a.Service)
	key = hmacSHA256(key, scopeTerminator)
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

// headerValue is the canonical value of one signed header: values trimmed,
// runs of spaces collapsed, repeated values joined with ",".
func headerValue(r *http.Request, name string) string {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return stripExcessSpaces(host)
	case "content-length":
		// net/http keeps Content-Length in r.ContentLength; the SDK signs
		// it only for a positive length.
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return joinValues(v)
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	}
	var values []string
	for k, v := range r.Header {
		if strings.EqualFold(k, name) {
			values = append(values, v...)
		}
	}
	return joinValues(values)
}

func joinValues(values []string) string {
	cleaned := make([]string, len(values))
	for i, v := range values {
		cleaned[i] = strings.TrimSpace(stripExcessSpaces(v))
	}
	return strings.Join(cleaned, ",")
}

// stripExcessSpaces trims leading and trailing spaces and collapses runs of
// spaces into one (only ' ', as the SDK's StripExcessSpaces).
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// uriPath is the escaped path as sent (aws/signer/internal/v4 GetURIPath).
func uriPath(u *url.URL) string {
	var p string
	if u.Opaque != "" {
		opaque := u.Opaque
		if i := strings.Index(opaque, "?"); i >= 0 {
			opaque = opaque[:i]
		}
		opaque = strings.TrimPrefix(opaque, "//")
		if i := strings.Index(opaque, "/"); i >= 0 {
			p = opaque[i:]
		}
	} else {
		p = u.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// escapePath escapes every byte but unreserved characters and '/'
// (smithy-go httpbinding.EscapePath(path, false)); applied to the already
// escaped path it double-escapes, as AWS expects for non-S3 services.
func escapePath(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '.' || c == '_' || c == '~' ||
			('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

// canonicalQuery encodes keys and values (url.QueryEscape with "%20" for
// space) and sorts by key, then value (aws/signer/internal/v4 EncodeQuery).
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		ek := encodeQueryComponent(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, encodeQueryComponent(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func encodeQueryComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
