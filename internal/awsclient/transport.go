package awsclient

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"

	"github.com/xsigner/xsigner/internal/awserr"
)

// newHTTPClient builds the one HTTP client of the session:
// awserr.NormalizeErrorBodies → redacted debug log → base transport.
func newHTTPClient(base http.RoundTripper, log *slog.Logger) *http.Client {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{Transport: awserr.NormalizeErrorBodies(&debugTransport{next: base, log: log})}
}

// debugTransport logs one line per HTTP exchange: method, host, path,
// status, duration, request id and AWS error code. It never logs headers
// (Authorization, X-Amz-Security-Token), query strings, or bodies; for an
// error response it reads only the error code out of the body and hands the
// body on unchanged. Success bodies (STS credentials) are never read.
type debugTransport struct {
	next http.RoundTripper
	log  *slog.Logger
}

// maxErrorScan bounds how much of an error body is scanned for its code.
const maxErrorScan = 64 << 10

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !t.log.Enabled(ctx, slog.LevelDebug) {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	attrs := []any{}
	if op := awsmiddleware.GetOperationName(ctx); op != "" {
		attrs = append(attrs, "operation", awsmiddleware.GetServiceID(ctx)+"."+op)
	}
	attrs = append(attrs,
		"method", req.Method,
		"host", req.URL.Host,
		"path", req.URL.Path,
		"duration", time.Since(start).Round(time.Millisecond).String(),
	)
	if err != nil {
		// Transport errors name the URL, which carries no secrets (SigV4
		// here is header-based; the query is not logged elsewhere either).
		t.log.LogAttrs(ctx, slog.LevelDebug, "http request failed", slog.Group("http", append(attrs, "error", err.Error())...))
		return resp, err
	}
	attrs = append(attrs, "status", resp.StatusCode)
	if id := requestID(resp.Header); id != "" {
		attrs = append(attrs, "requestId", id)
	}
	if resp.StatusCode >= 300 {
		if code := errorCode(resp); code != "" {
			attrs = append(attrs, "errorCode", code)
		}
	}
	t.log.LogAttrs(ctx, slog.LevelDebug, "http", slog.Group("http", attrs...))
	return resp, nil
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Amzn-Requestid", "X-Amz-Request-Id", "X-Amz-Id-2"} {
		if v := h.Get(k); v != "" {
			return safeToken(v)
		}
	}
	return ""
}

var (
	safeTokenPattern = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,128}$`)
	// queryErrorCode finds <Code>X</Code> in an awsQuery (STS) error body.
	queryErrorCode = regexp.MustCompile(`<Code>\s*([A-Za-z0-9.]{1,100})\s*</Code>`)
	// jsonErrorCode finds "__type"/"code" in a restJson1 error body.
	jsonErrorCode = regexp.MustCompile(`"(?:__type|code|Code)"\s*:\s*"([A-Za-z0-9.#:/-]{1,200})"`)
)

// safeToken returns v when it looks like an identifier, else "".
func safeToken(v string) string {
	if safeTokenPattern.MatchString(v) {
		return v
	}
	return ""
}

// errorCode returns the AWS error code of an error response: from the
// X-Amzn-ErrorType header (restJson1), else from the body, which is then
// restored for the SDK.
func errorCode(resp *http.Response) string {
	if v := resp.Header.Get("X-Amzn-Errortype"); v != "" {
		return cleanCode(v)
	}
	if resp.Body == nil {
		return ""
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorScan))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return ""
	}
	if m := queryErrorCode.FindSubmatch(head); m != nil {
		return cleanCode(string(m[1]))
	}
	if m := jsonErrorCode.FindSubmatch(head); m != nil {
		return cleanCode(string(m[1]))
	}
	return ""
}

// cleanCode strips the namespace and URI decorations AWS adds to codes
// ("aws.protocoltests#Foo", "Foo:http://internal...").
func cleanCode(c string) string {
	if i := strings.IndexByte(c, ':'); i >= 0 {
		c = c[:i]
	}
	if i := strings.LastIndexByte(c, '#'); i >= 0 {
		c = c[i+1:]
	}
	return safeToken(c)
}
