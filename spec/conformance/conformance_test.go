package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	capEnvelope   = "SIGNATURE_GENERATOR.ENVELOPE"
	capRaw        = "SIGNATURE_GENERATOR.RAW"
	capIdentity   = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
	capRevocation = "SIGNATURE_VERIFIER.REVOCATION_CHECK"
	maxOutput     = 64 << 20
)

var (
	knownCapabilities = []string{capRaw, capEnvelope, capIdentity, capRevocation}
	errorCodes        = []string{"VALIDATION_ERROR", "UNSUPPORTED_CONTRACT_VERSION", "ACCESS_DENIED", "TIMEOUT", "THROTTLED", "ERROR"}
	// semVer is the semver.org regular expression (no leading v), as notation-go uses.
	semVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

type metadata struct {
	Name                      string   `json:"name"`
	Description               string   `json:"description"`
	Version                   string   `json:"version"`
	URL                       string   `json:"url"`
	SupportedContractVersions []string `json:"supportedContractVersions"`
	Capabilities              []string `json:"capabilities"`
}

type pluginError struct {
	ErrorCode     string            `json:"errorCode"`
	ErrorMessage  string            `json:"errorMessage"`
	ErrorMetadata map[string]string `json:"errorMetadata"`
}

type result struct {
	stdout, stderr []byte
	code           int
}

// pluginBin returns PLUGIN_BIN or skips the test.
func pluginBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PLUGIN_BIN")
	if bin == "" {
		t.Skip("PLUGIN_BIN is not set: set it to a notation plugin executable (e.g. make conformance)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// run executes the plugin with a clean environment: PATH, a temporary HOME,
// and extra entries ("HOME=" with an empty value removes HOME).
func run(t *testing.T, stdin []byte, extraEnv []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(pluginBin(t), args...)
	env := map[string]string{"PATH": "/usr/bin:/bin", "HOME": t.TempDir()}
	for _, e := range extraEnv {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if env[k] != "" {
			cmd.Env = append(cmd.Env, k+"="+env[k])
		}
	}
	cmd.Dir = t.TempDir()
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running plugin: %v", err)
	}
	if stdout.Len() >= maxOutput || stderr.Len() >= maxOutput {
		t.Errorf("output reaches notation's 64 MiB limit")
	}
	return result{stdout.Bytes(), stderr.Bytes(), code}
}

// expectedName is the plugin name the executable's file name implies.
func expectedName(t *testing.T) string {
	base := strings.TrimSuffix(filepath.Base(pluginBin(t)), ".exe")
	name, ok := strings.CutPrefix(base, "notation-")
	if !ok || name == "" {
		t.Fatalf("executable %q is not named notation-<name>", base)
	}
	return name
}

// decodeOne decodes b as exactly one JSON value (surrounding whitespace allowed).
func decodeOne(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// getMetadata runs get-plugin-metadata and checks the success discipline.
func getMetadata(t *testing.T) metadata {
	t.Helper()
	r := run(t, []byte("{}"), nil, "get-plugin-metadata")
	if r.code != 0 || len(r.stderr) != 0 {
		t.Fatalf("get-plugin-metadata: exit %d, stderr %q; want 0 and empty stderr", r.code, r.stderr)
	}
	var md metadata
	if err := decodeOne(r.stdout, &md); err != nil {
		t.Fatalf("get-plugin-metadata stdout %q is not one JSON object: %v", r.stdout, err)
	}
	return md
}

// wantFailure checks the failure discipline (§6 item 8) and returns the error.
func wantFailure(t *testing.T, r result, what string) pluginError {
	t.Helper()
	if r.code == 0 {
		t.Errorf("%s: exit 0, want non-zero", what)
	}
	if len(r.stdout) != 0 {
		t.Errorf("%s: stdout %q, want empty", what, r.stdout)
	}
	var pe pluginError
	if err := decodeOne(r.stderr, &pe); err != nil {
		t.Errorf("%s: stderr %q is not exactly one JSON error: %v", what, r.stderr, err)
		return pe
	}
	if !slices.Contains(errorCodes, pe.ErrorCode) || pe.ErrorMessage == "" {
		t.Errorf("%s: error %+v, want a spec errorCode and a message", what, pe)
	}
	return pe
}

func wantCode(t *testing.T, r result, what string, codes ...string) pluginError {
	t.Helper()
	pe := wantFailure(t, r, what)
	if r.code != 1 {
		t.Errorf("%s: exit %d, want 1", what, r.code)
	}
	if !slices.Contains(codes, pe.ErrorCode) {
		t.Errorf("%s: errorCode %q (%s), want one of %v", what, pe.ErrorCode, pe.ErrorMessage, codes)
	}
	return pe
}

// advertisedCommands lists the protocol commands the metadata implies.
func advertisedCommands(md metadata) []string {
	cmds := []string{"get-plugin-metadata"}
	if slices.Contains(md.Capabilities, capRaw) {
		cmds = append(cmds, "describe-key", "generate-signature")
	}
	if slices.Contains(md.Capabilities, capEnvelope) {
		cmds = append(cmds, "generate-envelope")
	}
	if slices.Contains(md.Capabilities, capIdentity) || slices.Contains(md.Capabilities, capRevocation) {
		cmds = append(cmds, "verify-signature")
	}
	return cmds
}

// Items 1 and 2: name, fields, SemVer, contract version, capabilities.
func TestMetadata(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	if md.Name != expectedName(t) {
		t.Errorf("name %q, want %q (the executable's notation-<name> suffix)", md.Name, expectedName(t))
	}
	if md.Description == "" || md.URL == "" {
		t.Errorf("description %q and url %q must be non-empty", md.Description, md.URL)
	}
	if !semVer.MatchString(md.Version) {
		t.Errorf("version %q is not strict SemVer without a leading v", md.Version)
	}
	if !slices.Contains(md.SupportedContractVersions, "1.0") {
		t.Errorf("supportedContractVersions %v lacks 1.0", md.SupportedContractVersions)
	}
	if len(md.Capabilities) == 0 {
		t.Error("capabilities is empty")
	}
	for _, c := range md.Capabilities {
		if !slices.Contains(knownCapabilities, c) {
			t.Errorf("unknown capability %q", c)
		}
	}
}

// Item 3: identical metadata whatever the config and environment, no I/O.
func TestMetadataIsStatic(t *testing.T) {
	t.Parallel()
	want := run(t, []byte("{}"), nil, "get-plugin-metadata")
	tests := map[string]struct {
		stdin string
		env   []string
	}{
		"pluginConfig":          {`{"pluginConfig":{"aws-region":"us-west-2","some-key":"v"}}`, nil},
		"unreachable endpoints": {`{"pluginConfig":{"signer-endpoint-url":"https://192.0.2.1:1","aws-signer-endpoint-url":"https://192.0.2.1:1","sts-endpoint-url":"http://127.0.0.1:1"}}`, nil},
		"no HOME":               {`{}`, []string{"HOME="}},
		"no AWS config":         {`{}`, []string{"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials", "AWS_PROFILE=nonexistent"}},
		"unreachable network":   {`{}`, []string{"AWS_ENDPOINT_URL=http://192.0.2.1:1", "HTTPS_PROXY=http://192.0.2.1:1", "HTTP_PROXY=http://192.0.2.1:1"}},
		"future field":          {`{"pluginConfig":{},"futureField":{"x":1}}`, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := run(t, []byte(tc.stdin), tc.env, "get-plugin-metadata")
			if got.code != want.code || !bytes.Equal(got.stdout, want.stdout) || !bytes.Equal(got.stderr, want.stderr) {
				t.Errorf("got exit %d stdout %q stderr %q\nwant exit %d stdout %q stderr %q",
					got.code, got.stdout, got.stderr, want.code, want.stdout, want.stderr)
			}
		})
	}
}

// Item 4: bad invocations fail with empty stdout.
func TestBadInvocations(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	tests := map[string][]string{
		"no args":            nil,
		"unknown command":    {"sign-everything"},
		"extra args":         {"get-plugin-metadata", "extra"},
		"empty command":      {""},
		"command with flags": {"--get-plugin-metadata"},
	}
	for _, c := range []string{"describe-key", "generate-signature", "generate-envelope", "verify-signature"} {
		if !slices.Contains(advertisedCommands(md), c) {
			tests["unadvertised "+c] = []string{c}
		}
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := run(t, []byte("{}"), nil, args...)
			if r.code == 0 || len(r.stdout) != 0 {
				t.Errorf("%v: exit %d, stdout %q; want non-zero and empty stdout", args, r.code, r.stdout)
			}
		})
	}
	// --help may be served (exit 0, text on stdout) or refused (non-zero,
	// empty stdout), but never both at once.
	for _, arg := range []string{"--help", "-h"} {
		r := run(t, nil, nil, arg)
		if r.code != 0 && len(r.stdout) != 0 {
			t.Errorf("%s: exit %d with stdout %q; a failure must leave stdout empty", arg, r.code, r.stdout)
		}
	}
}

// Item 5: malformed stdin.
func TestMalformedInput(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	inputs := map[string][]byte{
		"empty":       nil,
		"newline":     []byte("\n"),
		"not json":    []byte("invalidjson"),
		"unicode":     []byte("🍺 ¢ §"),
		"non-UTF-8":   {0xff, 0xfe, 0xfd, '{'},
		"truncated":   []byte(`{"contractVersion":`),
		"json string": []byte(`"text"`),
	}
	for _, cmd := range advertisedCommands(md) {
		for name, in := range inputs {
			t.Run(cmd+"/"+name, func(t *testing.T) {
				t.Parallel()
				wantCode(t, run(t, in, nil, cmd), cmd, "VALIDATION_ERROR")
			})
		}
		if cmd != "get-plugin-metadata" {
			t.Run(cmd+"/wrong object", func(t *testing.T) {
				t.Parallel()
				wantCode(t, run(t, []byte(`{"sad":"bad"}`), nil, cmd), cmd, "VALIDATION_ERROR")
			})
		}
	}
}

func envelopeRequest(mutate func(map[string]any)) []byte {
	r := map[string]any{
		"contractVersion":       "1.0",
		"keyId":                 "not-a-valid-key-id",
		"payloadType":           "application/vnd.cncf.notary.payload.v1+json",
		"signatureEnvelopeType": "application/jose+json",
		"payload":               "eyJ0YXJnZXRBcnRpZmFjdCI6e319",
	}
	if mutate != nil {
		mutate(r)
	}
	b, _ := json.Marshal(r)
	return b
}

func verifyRequest(mutate func(map[string]any)) []byte {
	r := map[string]any{
		"contractVersion": "1.0",
		"signature": map[string]any{
			"criticalAttributes": map[string]any{
				"contentType":   "application/vnd.cncf.notary.payload.v1+json",
				"signingScheme": "notary.x509.signingAuthority",
			},
			"certificateChain": []string{"AAAA"},
		},
		"trustPolicy": map[string]any{
			"trustedIdentities":     []string{"x509.subject: C=US, ST=WA, O=example"},
			"signatureVerification": []string{capIdentity},
		},
	}
	if mutate != nil {
		mutate(r)
	}
	b, _ := json.Marshal(r)
	return b
}

func requireCommand(t *testing.T, cmd string) {
	t.Helper()
	if !slices.Contains(advertisedCommands(getMetadata(t)), cmd) {
		t.Skipf("the plugin does not advertise %s", cmd)
	}
}

// Item 7: contract versions other than 1.0.
func TestContractVersion(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	for _, cmd := range advertisedCommands(md)[1:] {
		for _, v := range []string{"2.0", "1.1", "0.9", ""} {
			t.Run(cmd+"/"+v, func(t *testing.T) {
				t.Parallel()
				set := func(r map[string]any) { r["contractVersion"] = v }
				var in []byte
				switch cmd {
				case "generate-envelope":
					in = envelopeRequest(set)
				case "verify-signature":
					in = verifyRequest(set)
				default:
					in, _ = json.Marshal(map[string]any{"contractVersion": v, "keyId": "k", "keySpec": "EC-384", "hashAlgorithm": "SHA-384", "payload": "AA=="})
				}
				codes := []string{"UNSUPPORTED_CONTRACT_VERSION"}
				if v == "" {
					codes = append(codes, "VALIDATION_ERROR")
				}
				wantCode(t, run(t, in, nil, cmd), cmd+" contractVersion "+v, codes...)
			})
		}
	}
}

// Item 6: unknown fields never change the outcome.
func TestForwardCompatibility(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	future := func(r map[string]any) {
		r["futureField"] = 1
		r["futureObject"] = map[string]any{"nested": []any{1, "x", nil}}
	}
	type pair struct{ plain, extended []byte }
	cases := map[string]pair{}
	if slices.Contains(md.Capabilities, capEnvelope) {
		cases["generate-envelope"] = pair{envelopeRequest(nil), envelopeRequest(future)}
	}
	if slices.Contains(advertisedCommands(md), "verify-signature") {
		twoOh := func(r map[string]any) { r["contractVersion"] = "2.0" }
		cases["verify-signature"] = pair{verifyRequest(twoOh), verifyRequest(func(r map[string]any) {
			twoOh(r)
			future(r)
			r["signature"].(map[string]any)["futureSignatureField"] = "x"
		})}
	}
	for cmd, p := range cases {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			plain := wantFailure(t, run(t, p.plain, nil, cmd), cmd)
			extended := wantFailure(t, run(t, p.extended, nil, cmd), cmd+" with unknown fields")
			if plain.ErrorCode != extended.ErrorCode {
				t.Errorf("unknown fields changed the outcome: %s (%s) vs %s (%s)",
					plain.ErrorCode, plain.ErrorMessage, extended.ErrorCode, extended.ErrorMessage)
			}
		})
	}
}

// Items 10 and 11: generate-envelope request validation, without any backend.
func TestGenerateEnvelopeValidation(t *testing.T) {
	t.Parallel()
	requireCommand(t, "generate-envelope")
	tests := map[string]func(map[string]any){
		"malformed keyId":        nil,
		"keyId is a role ARN":    func(r map[string]any) { r["keyId"] = "arn:aws:iam::111122223333:role/x" },
		"missing keyId":          func(r map[string]any) { delete(r, "keyId") },
		"missing payload":        func(r map[string]any) { delete(r, "payload") },
		"missing payloadType":    func(r map[string]any) { delete(r, "payloadType") },
		"missing envelope type":  func(r map[string]any) { delete(r, "signatureEnvelopeType") },
		"payload not base64":     func(r map[string]any) { r["payload"] = "%%%" },
		"keyId wrong JSON type":  func(r map[string]any) { r["keyId"] = 42 },
		"pluginConfig not a map": func(r map[string]any) { r["pluginConfig"] = []string{"x"} },
	}
	// The official AWS plugin's debug switch and xsigner's must not add output.
	debugEnv := []string{"AWS_SIGNER_NOTATION_PLUGIN_DEBUG=true", "XSIGNER_DEBUG_LOG=" + filepath.Join(t.TempDir(), "debug.log")}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantCode(t, run(t, envelopeRequest(mutate), debugEnv, "generate-envelope"), name, "VALIDATION_ERROR")
		})
	}
}

// Item 17: verify-signature request validation.
func TestVerifySignatureValidation(t *testing.T) {
	t.Parallel()
	requireCommand(t, "verify-signature")
	tests := map[string]func(map[string]any){
		"missing contentType": func(r map[string]any) {
			delete(r["signature"].(map[string]any)["criticalAttributes"].(map[string]any), "contentType")
		},
		"missing signingScheme": func(r map[string]any) {
			delete(r["signature"].(map[string]any)["criticalAttributes"].(map[string]any), "signingScheme")
		},
		"missing certificateChain": func(r map[string]any) { delete(r["signature"].(map[string]any), "certificateChain") },
		"missing signatureVerification": func(r map[string]any) {
			delete(r["trustPolicy"].(map[string]any), "signatureVerification")
		},
		"missing signature":   func(r map[string]any) { delete(r, "signature") },
		"missing trustPolicy": func(r map[string]any) { delete(r, "trustPolicy") },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantCode(t, run(t, verifyRequest(mutate), nil, "verify-signature"), name, "VALIDATION_ERROR")
		})
	}
}

// The framework's version command, when served, prints to stdout and exits 0.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	md := getMetadata(t)
	r := run(t, nil, nil, "version")
	if r.code != 0 {
		t.Skipf("version is not supported (exit %d)", r.code)
	}
	if !strings.Contains(string(r.stdout), md.Version) || !strings.HasPrefix(string(r.stdout), md.Name) {
		t.Errorf("version output %q, want the name %q and version %q", r.stdout, md.Name, md.Version)
	}
}
