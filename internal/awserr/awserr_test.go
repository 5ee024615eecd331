package awserr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

const requestID = "11111111-2222-3333-4444-555555555555"

// signerError serves one restJson1 error the way AWS Signer does: status,
// X-Amzn-ErrorType, x-amzn-RequestId and a JSON body.
func signerError(t *testing.T, status int, errType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", errType)
		w.Header().Set("X-Amzn-Requestid", requestID)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newSignerClient(url string, transport http.RoundTripper) *signer.Client {
	return signer.New(signer.Options{
		Region:           "us-west-2",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: transport},
	})
}

func signPayload(ctx context.Context, c *signer.Client) error {
	_, err := c.SignPayload(ctx, &signer.SignPayloadInput{
		Payload:       []byte(`{"targetArtifact":{}}`),
		PayloadFormat: aws.String("application/vnd.cncf.notary.payload.v1+json"),
		ProfileName:   aws.String("MyProfile"),
	})
	return err
}

// TestSignerErrorCodes drives a real Signer client against an HTTP server
// returning each error the mapping knows, and checks code, text and request id.
func TestSignerErrorCodes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status  int
		errType string
		want    proto.ErrorCode
	}{
		"AccessDeniedException":               {403, "AccessDeniedException", proto.ErrorCodeAccessDenied},
		"UnrecognizedClientException":         {403, "UnrecognizedClientException", proto.ErrorCodeAccessDenied},
		"ExpiredTokenException":               {403, "ExpiredTokenException", proto.ErrorCodeAccessDenied},
		"InvalidSignatureException":           {403, "InvalidSignatureException", proto.ErrorCodeAccessDenied},
		"IncompleteSignatureException":        {403, "IncompleteSignatureException", proto.ErrorCodeAccessDenied},
		"MissingAuthenticationTokenException": {403, "MissingAuthenticationTokenException", proto.ErrorCodeAccessDenied},
		"ThrottlingException":                 {429, "ThrottlingException", proto.ErrorCodeThrottled},
		"TooManyRequestsException":            {429, "TooManyRequestsException", proto.ErrorCodeThrottled},
		"RequestTimeoutException":             {408, "RequestTimeoutException", proto.ErrorCodeTimeout},
		"ValidationException":                 {400, "ValidationException", proto.ErrorCodeValidation},
		"ResourceNotFoundException":           {404, "ResourceNotFoundException", proto.ErrorCodeValidation},
		"NotFoundException":                   {404, "NotFoundException", proto.ErrorCodeValidation},
		"BadRequestException":                 {400, "BadRequestException", proto.ErrorCodeValidation},
		"InternalServiceError":                {500, "InternalServiceErrorException", proto.ErrorCodeGeneric},
		"ServiceLimitExceeded":                {402, "ServiceLimitExceededException", proto.ErrorCodeGeneric},
		"unknown code":                        {400, "SomethingNewException", proto.ErrorCodeGeneric},
		"sanitized code with URI":             {403, "AccessDeniedException:http://internal.amazon.com/coral/", proto.ErrorCodeAccessDenied},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := "the text of " + name
			srv := signerError(t, tc.status, tc.errType, fmt.Sprintf(`{"message":%q}`, text))
			err := signPayload(t.Context(), newSignerClient(srv.URL, http.DefaultTransport))
			if err == nil {
				t.Fatal("SignPayload succeeded against an error server")
			}
			got := ToPluginError(err, "Check the profile.")
			if got.ErrCode != tc.want {
				t.Errorf("code = %s, want %s (err %v)", got.ErrCode, tc.want, err)
			}
			awsCode := strings.SplitN(tc.errType, ":", 2)[0]
			wantMsg := fmt.Sprintf("AWS Signer SignPayload failed: %s: %s (request id %s). Check the profile.", awsCode, text, requestID)
			if got.Message != wantMsg {
				t.Errorf("message = %q\nwant      %q", got.Message, wantMsg)
			}
			if got.Metadata[MetadataRequestID] != requestID || got.Metadata[MetadataErrorCode] != awsCode {
				t.Errorf("metadata = %v, want requestId %s and awsErrorCode %s", got.Metadata, requestID, awsCode)
			}
		})
	}
}

// TestSTSErrorCodes drives a real STS client against query-protocol XML errors.
func TestSTSErrorCodes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		code   string
		want   proto.ErrorCode
	}{
		"AccessDenied":               {403, "AccessDenied", proto.ErrorCodeAccessDenied},
		"InvalidClientTokenId":       {403, "InvalidClientTokenId", proto.ErrorCodeAccessDenied},
		"SignatureDoesNotMatch":      {403, "SignatureDoesNotMatch", proto.ErrorCodeAccessDenied},
		"ExpiredToken":               {400, "ExpiredToken", proto.ErrorCodeAccessDenied},
		"IncompleteSignature":        {400, "IncompleteSignature", proto.ErrorCodeAccessDenied},
		"MissingAuthenticationToken": {403, "MissingAuthenticationToken", proto.ErrorCodeAccessDenied},
		"Throttling":                 {400, "Throttling", proto.ErrorCodeThrottled},
		"RequestTimeout":             {400, "RequestTimeout", proto.ErrorCodeTimeout},
		"ValidationError":            {400, "ValidationError", proto.ErrorCodeValidation},
		"MalformedPolicy":            {400, "MalformedPolicyDocument", proto.ErrorCodeGeneric},
		"InvalidIdentityToken":       {400, "InvalidIdentityToken", proto.ErrorCodeAccessDenied},
		"IDPRejectedClaim":           {403, "IDPRejectedClaim", proto.ErrorCodeAccessDenied},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := "sts says " + name
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				w.Header().Set("X-Amzn-Requestid", requestID) // STS sends it as a header too
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, tc.code, text, requestID)
			}))
			t.Cleanup(srv.Close)
			c := sts.New(sts.Options{
				Region:           "us-west-2",
				BaseEndpoint:     aws.String(srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				RetryMaxAttempts: 1,
			})
			_, err := c.AssumeRole(t.Context(), &sts.AssumeRoleInput{
				RoleArn:         aws.String("arn:aws:iam::111122223333:role/signer"),
				RoleSessionName: aws.String("test"),
			})
			if err == nil {
				t.Fatal("AssumeRole succeeded against an error server")
			}
			got := ToPluginError(err, "")
			if got.ErrCode != tc.want {
				t.Errorf("code = %s, want %s (err %v)", got.ErrCode, tc.want, err)
			}
			wantMsg := fmt.Sprintf("AWS STS AssumeRole failed: %s: %s (request id %s).", tc.code, text, requestID)
			if got.Message != wantMsg {
				t.Errorf("message = %q\nwant      %q", got.Message, wantMsg)
			}
		})
	}
}

// TestCapitalMessage covers aws/aws-signer-notation-plugin#215: a body with
// "Message" (capital M). Signer SDK versions before v1.26.5 (2024-11-07, "Adds
// case-insensitive handling of error message fields") dropped the text; the
// pinned SDK keeps it. NormalizeErrorBodies stays in the chain for older or
// other clients, so both paths must keep the text intact.
func TestCapitalMessage(t *testing.T) {
	t.Parallel()
	const text = "User: arn:aws:sts::222222222222:assumed-role/ci/x is not authorized to perform: signer:SignPayload"
	srv := signerError(t, 403, "AccessDeniedException", fmt.Sprintf(`{"Message":%q}`, text))
	want := fmt.Sprintf("AWS Signer SignPayload failed: AccessDeniedException: %s (request id %s).", text, requestID)
	for name, transport := range map[string]http.RoundTripper{
		"plain transport":       http.DefaultTransport,
		"normalizing transport": NormalizeErrorBodies(http.DefaultTransport),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := ToPluginError(signPayload(t.Context(), newSignerClient(srv.URL, transport)), "")
			if got.ErrCode != proto.ErrorCodeAccessDenied || got.Message != want {
				t.Errorf("got %s %q\nwant %s %q", got.ErrCode, got.Message, proto.ErrorCodeAccessDenied, want)
			}
		})
	}
	t.Run("the transport adds message to the wire body", func(t *testing.T) {
		t.Parallel()
		resp, err := (&http.Client{Transport: NormalizeErrorBodies(nil)}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if wantBody := fmt.Sprintf(`{"Message":%q,"message":%q}`, text, text); body != wantBody {
			t.Errorf("body = %s, want %s", body, wantBody)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("ContentLength = %d, want %d", resp.ContentLength, len(body))
		}
	})
}

func TestWithLowerMessage(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"capital only":      {`{"Message":"x"}`, `{"Message":"x","message":"x"}`},
		"both kept":         {`{"Message":"x","message":"y"}`, `{"Message":"x","message":"y"}`},
		"lower only":        {`{"message":"y"}`, `{"message":"y"}`},
		"not json":          {`<Error/>`, `<Error/>`},
		"broken json":       {`{"Message":`, `{"Message":`},
		"non-string":        {`{"Message":1}`, `{"Message":1}`},
		"array":             {`[1]`, `[1]`},
		"empty":             {``, ``},
		"keeps other field": {`{"Message":"x","code":"C"}`, `{"Message":"x","code":"C","message":"x"}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := string(withLowerMessage([]byte(tc.in))); got != tc.want {
				t.Errorf("withLowerMessage(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeLeavesSuccessAndHugeBodies(t *testing.T) {
	t.Parallel()
	huge := `{"Message":"` + strings.Repeat("a", MaxErrorBody) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			fmt.Fprint(w, `{"Message":"fine"}`)
			return
		}
		w.WriteHeader(500)
		fmt.Fprint(w, huge)
	}))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: NormalizeErrorBodies(nil)}
	for path, want := range map[string]string{"/ok": `{"Message":"fine"}`, "/huge": huge} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, err = fmt.Fprint(&b, readAll(t, resp))
		if err != nil || b.String() != want {
			t.Errorf("%s: body changed (len %d, want %d)", path, b.Len(), len(want))
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	// The handler holds the request until the test ends: the server does not
	// notice a client hang-up while the request body is unread.
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) }) // runs before hang.Close

	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		got := ToPluginError(signPayload(ctx, newSignerClient(hang.URL, http.DefaultTransport)), "")
		if got.ErrCode != proto.ErrorCodeTimeout || !strings.HasPrefix(got.Message, "AWS Signer SignPayload timed out: ") {
			t.Errorf("got %s %q, want TIMEOUT naming the operation", got.ErrCode, got.Message)
		}
	})
	t.Run("http client timeout", func(t *testing.T) {
		t.Parallel()
		c := signer.New(signer.Options{
			Region: "us-west-2", BaseEndpoint: aws.String(hang.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
			HTTPClient:  &http.Client{Timeout: 50 * time.Millisecond},
		})
		got := ToPluginError(signPayload(t.Context(), c), "")
		if got.ErrCode != proto.ErrorCodeTimeout || !strings.HasPrefix(got.Message, "AWS Signer SignPayload timed out: ") {
			t.Errorf("got %s %q, want TIMEOUT naming the operation", got.ErrCode, got.Message)
		}
	})
}

func TestNonAWSErrors(t *testing.T) {
	t.Parallel()
	validation := proto.NewValidationError("bad key")
	tests := map[string]struct {
		in       error
		wantCode proto.ErrorCode
		wantMsg  string
		same     *proto.Error
	}{
		"plugin error passes through":  {validation, proto.ErrorCodeValidation, "bad key", validation},
		"wrapped plugin error unwraps": {fmt.Errorf("signing: %w", validation), proto.ErrorCodeValidation, "bad key", validation},
		"plain error":                  {errors.New("loading AWS config: boom"), proto.ErrorCodeGeneric, "AWS call failed: loading AWS config: boom. hint", nil},
		"API error without a code":     {fmt.Errorf("resolving base AWS credentials: %w", &smithy.GenericAPIError{Message: "agent unavailable"}), proto.ErrorCodeGeneric, "AWS call failed: agent unavailable. hint", nil},
		"API error without a text":     {&smithy.GenericAPIError{}, proto.ErrorCodeGeneric, "AWS call failed: an error response with no code and no message. hint", nil},
		"bare deadline":                {fmt.Errorf("assuming role: %w", context.DeadlineExceeded), proto.ErrorCodeTimeout, "AWS call timed out: assuming role: context deadline exceeded. hint", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := ToPluginError(tc.in, "hint")
			if got.ErrCode != tc.wantCode || got.Message != tc.wantMsg {
				t.Errorf("got %s %q, want %s %q", got.ErrCode, got.Message, tc.wantCode, tc.wantMsg)
			}
			if tc.same != nil && got != tc.same {
				t.Errorf("plugin error was copied, want the same pointer")
			}
		})
	}
	if ToPluginError(nil, "x") != nil {
		t.Error("ToPluginError(nil) != nil")
	}
}

// hintedError carries its own advice, like awsclient.AssumeRoleError.
type hintedError struct{ err error }

func (e hintedError) Error() string { return e.err.Error() }
func (e hintedError) Unwrap() error { return e.err }
func (e hintedError) Hint() string  { return "hint: check the trust policy" }

func TestHintFromErrorChain(t *testing.T) {
	t.Parallel()
	wrapped := fmt.Errorf("connecting: %w", hintedError{errors.New("assume role: denied")})
	tests := map[string]struct {
		hint string
		want string
	}{
		"the chain's hint when the caller has none": {"", "AWS call failed: connecting: assume role: denied. hint: check the trust policy"},
		"the caller's hint wins":                    {"caller hint", "AWS call failed: connecting: assume role: denied. caller hint"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := ToPluginError(wrapped, tc.hint).Message; got != tc.want {
				t.Errorf("message = %q, want %q", got, tc.want)
			}
		})
	}
	if ToPluginError(nil, "x") != nil {
		t.Error("ToPluginError(nil) != nil")
	}
}
