package awserr

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// MaxErrorBody is the largest error body NormalizeErrorBodies rewrites.
// Larger bodies pass through untouched.
const MaxErrorBody = 64 << 10

// NormalizeErrorBodies wraps next so that a non-2xx JSON error body carrying
// "Message" (capital M) but no "message" also carries "message" with the same
// text. The SDK's typed restJson1 errors read only the lower-case key, so
// without this the AWS text is lost: the user sees "AccessDeniedException: "
// (aws/aws-signer-notation-plugin#215; research aws.md §0.3). next nil means
// http.DefaultTransport.
func NormalizeErrorBodies(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return normalizer{next}
}

type normalizer struct{ next http.RoundTripper }

func (n normalizer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.Body == nil {
		return resp, err
	}
	head, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
	if readErr != nil || len(head) > MaxErrorBody {
		// Too big or unreadable: hand on what was read plus the rest.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		return resp, nil
	}
	_ = resp.Body.Close()
	body := withLowerMessage(head)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	if resp.Header.Get("Content-Length") != "" {
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return resp, nil
}

// withLowerMessage returns body with "message" added when body is a JSON
// object that has a string "Message" and no "message"; otherwise body as is.
func withLowerMessage(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return body
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return body
	}
	upper, hasUpper := obj["Message"]
	if _, hasLower := obj["message"]; hasLower || !hasUpper {
		return body
	}
	var s string
	if err := json.Unmarshal(upper, &s); err != nil {
		return body
	}
	obj["message"] = upper
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

type readCloser struct {
	io.Reader
	io.Closer
}
