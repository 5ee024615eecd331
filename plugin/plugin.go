// Package plugin is xsigner as a Notary Project plugin: Plugin implements the
// notation-plugin-framework-go plugin interface, so it runs behind the
// notation-xsigner executable and can also be used in-process by notation-go,
// like the official plugin's AWSSignerPlugin.
//
// Plugin owns the protocol rules (contract version, configuration, key ID,
// region, deadline, debug log, error codes) and delegates the AWS work to an
// EnvelopeGenerator and a SignatureVerifier.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/awserr"
	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/debuglog"
	"github.com/xsigner/xsigner/internal/invocation"
	"github.com/xsigner/xsigner/internal/version"
)

// Plugin names.
const (
	// Name is xsigner's own plugin name (executable notation-xsigner).
	Name = "xsigner"
	// AWSPluginName is the official AWS Signer plugin's name. Real AWS Signer
	// signatures name it as their verification plugin, so xsigner installed
	// as notation-com.amazonaws.signer.notation.plugin can verify them.
	AWSPluginName = "com.amazonaws.signer.notation.plugin"
	// URL is the project home reported in the metadata.
	URL = "https://github.com/xsigner/xsigner"
)

// NameForExecutable maps the path of the running executable to the plugin
// name it must report: notation requires the metadata name to equal the
// executable's "notation-<name>" suffix. notation-com.amazonaws.signer.notation.plugin
// (also with .exe) gives AWSPluginName; any other file name gives Name.
func NameForExecutable(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".exe")
	if base == proto.BinaryPrefix+AWSPluginName {
		return AWSPluginName
	}
	return Name
}

// EnvelopeGenerator produces a signature envelope with AWS Signer. It is the
// seam filled by internal/signing.
type EnvelopeGenerator interface {
	GenerateEnvelope(ctx context.Context, inv SignInvocation) (*proto.GenerateEnvelopeResponse, error)
}

// SignInvocation is one validated generate-envelope call.
type SignInvocation = invocation.Sign

// SignatureVerifier checks trusted identity and revocation with AWS Signer.
// It is the seam filled by internal/verification.
type SignatureVerifier interface {
	VerifySignature(ctx context.Context, inv VerifyInvocation) (*proto.VerifySignatureResponse, error)
}

// VerifyInvocation is one validated verify-signature call.
type VerifyInvocation = invocation.Verify

// Plugin implements the notation plugin protocol (proto.Plugin).
// Build it with New.
type Plugin struct {
	name      string
	lookupEnv func(string) (string, bool)
	generator EnvelopeGenerator
	verifier  SignatureVerifier
}

var _ proto.Plugin = (*Plugin)(nil)

// Option configures a Plugin.
type Option func(*Plugin)

// WithName sets the plugin name reported in the metadata (default Name).
// Use NameForExecutable(os.Args[0]) in an executable.
func WithName(name string) Option { return func(p *Plugin) { p.name = name } }

// WithEnv sets where XSIGNER_* fallbacks are read (default os.LookupEnv).
func WithEnv(lookupEnv func(string) (string, bool)) Option {
	return func(p *Plugin) { p.lookupEnv = lookupEnv }
}

// WithEnvelopeGenerator sets the generate-envelope implementation.
func WithEnvelopeGenerator(g EnvelopeGenerator) Option { return func(p *Plugin) { p.generator = g } }

// WithSignatureVerifier sets the verify-signature implementation.
func WithSignatureVerifier(v SignatureVerifier) Option { return func(p *Plugin) { p.verifier = v } }

// New returns a Plugin backed by AWS Signer: generate-envelope calls
// SignPayload and verify-signature calls GetRevocationStatus, with the
// credentials and role chain the configuration names. WithEnvelopeGenerator
// and WithSignatureVerifier replace those implementations.
func New(opts ...Option) *Plugin {
	p := &Plugin{name: Name, lookupEnv: os.LookupEnv}
	for _, o := range opts {
		o(p)
	}
	if p.name == "" {
		p.name = Name
	}
	if p.lookupEnv == nil {
		p.lookupEnv = func(string) (string, bool) { return "", false }
	}
	if p.generator == nil {
		p.generator = awsGenerator(p.lookupEnv)
	}
	if p.verifier == nil {
		p.verifier = awsVerifier(p.lookupEnv)
	}
	return p
}

// PluginName returns the name the plugin reports.
func (p *Plugin) PluginName() string { return p.name }

// GetMetadata returns static metadata. It does no I/O and reads neither the
// environment nor pluginConfig: notation calls it before every sign and
// verify.
func (p *Plugin) GetMetadata(_ context.Context, _ *proto.GetMetadataRequest) (*proto.GetMetadataResponse, error) {
	desc := "Signs and verifies with AWS Signer, across AWS accounts (xsigner)"
	if p.name == AWSPluginName {
		desc = "xsigner, installed under the AWS Signer plugin name: signs and verifies with AWS Signer, across AWS accounts"
	}
	return &proto.GetMetadataResponse{
		Name:                      p.name,
		Description:               desc,
		Version:                   version.Get(),
		URL:                       URL,
		SupportedContractVersions: []string{proto.ContractVersion},
		Capabilities: []proto.Capability{
			proto.CapabilityEnvelopeGenerator,
			proto.CapabilityTrustedIdentityVerifier,
			proto.CapabilityRevocationCheckVerifier,
		},
	}, nil
}

// DescribeKey is not supported: xsigner advertises no SIGNATURE_GENERATOR.RAW.
func (p *Plugin) DescribeKey(context.Context, *proto.DescribeKeyRequest) (*proto.DescribeKeyResponse, error) {
	return nil, proto.NewUnsupportedError(string(proto.CommandDescribeKey))
}

// GenerateSignature is not supported: xsigner advertises no SIGNATURE_GENERATOR.RAW.
func (p *Plugin) GenerateSignature(context.Context, *proto.GenerateSignatureRequest) (*proto.GenerateSignatureResponse, error) {
	return nil, proto.NewUnsupportedError(string(proto.CommandGenerateSignature))
}

// GenerateEnvelope validates the request (contract version, configuration,
// key ID, region), applies the timeout and debug log, and delegates to the
// EnvelopeGenerator. Every error it returns is a bare *proto.Error.
func (p *Plugin) GenerateEnvelope(ctx context.Context, req *proto.GenerateEnvelopeRequest) (resp *proto.GenerateEnvelopeResponse, err error) {
	defer recoverAsError(proto.CommandGenerateEnvelope, &resp, &err)
	if req == nil {
		return nil, proto.NewValidationError("generate-envelope request is missing")
	}
	if err := checkRequest(req, req.ContractVersion); err != nil {
		return nil, err
	}
	cfg, cerr := p.parseConfig(req.PluginConfig)
	if cerr != nil {
		return nil, cerr
	}
	key, kerr := arn.ParseSigningProfile(req.KeyID)
	if kerr != nil {
		return nil, proto.NewValidationErrorf("key ID: %v", kerr)
	}
	region, rerr := config.ResolveRegion(cfg, key.Region)
	if rerr != nil {
		return nil, proto.NewValidationError(rerr.Error())
	}
	ctx, log, done, serr := start(ctx, cfg, proto.CommandGenerateEnvelope)
	if serr != nil {
		return nil, serr
	}
	defer done()
	if p.generator == nil {
		return nil, notConfigured(proto.CommandGenerateEnvelope)
	}
	log.Debug("generate-envelope", "key", key.String(), "region", region, "envelopeType", req.SignatureEnvelopeType)
	out, gerr := p.generator.GenerateEnvelope(ctx, SignInvocation{Request: req, Config: cfg, Key: key, Region: region, Logger: log})
	return finish(log, proto.CommandGenerateEnvelope, out, gerr)
}

// VerifySignature validates the request (contract version, required fields,
// configuration), applies the timeout and debug log, and delegates to the
// SignatureVerifier. Every error it returns is a bare *proto.Error.
func (p *Plugin) VerifySignature(ctx context.Context, req *proto.VerifySignatureRequest) (resp *proto.VerifySignatureResponse, err error) {
	defer recoverAsError(proto.CommandVerifySignature, &resp, &err)
	if req == nil {
		return nil, proto.NewValidationError("verify-signature request is missing")
	}
	if err := checkRequest(req, req.ContractVersion); err != nil {
		return nil, err
	}
	cfg, cerr := p.parseConfig(req.PluginConfig)
	if cerr != nil {
		return nil, cerr
	}
	ctx, log, done, serr := start(ctx, cfg, proto.CommandVerifySignature)
	if serr != nil {
		return nil, serr
	}
	defer done()
	if p.verifier == nil {
		return nil, notConfigured(proto.CommandVerifySignature)
	}
	log.Debug("verify-signature", "plugin", p.name, "checks", fmt.Sprint(req.TrustPolicy.SignatureVerification))
	out, verr := p.verifier.VerifySignature(ctx, VerifyInvocation{Request: req, Config: cfg, PluginName: p.name, Logger: log})
	return finish(log, proto.CommandVerifySignature, out, verr)
}

// checkRequest applies the framework's required-field checks (which the
// executable path has already run, but an in-process caller has not) and
// then requires contract version 1.0.
func checkRequest(req proto.Request, contractVersion string) *proto.Error {
	if err := req.Validate(); err != nil {
		return asPluginError(err, proto.ErrorCodeValidation)
	}
	if contractVersion != proto.ContractVersion {
		return proto.NewUnsupportedContractVersionError(contractVersion)
	}
	return nil
}

func (p *Plugin) parseConfig(pluginConfig map[string]string) (config.Config, *proto.Error) {
	cfg, err := config.Parse(pluginConfig, p.lookupEnv)
	if err != nil {
		return config.Config{}, proto.NewValidationError(err.Error())
	}
	return cfg, nil
}

// start applies the configured deadline and opens the debug log. The
// returned done releases both.
func start(ctx context.Context, cfg config.Config, cmd proto.Command) (context.Context, *slog.Logger, func(), *proto.Error) {
	log, closer, err := debuglog.Open(cfg.DebugLog)
	if err != nil {
		return nil, nil, nil, proto.NewValidationErrorf("debug-log: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	log.Debug("start", "command", string(cmd), "version", version.Get(), "timeout", cfg.Timeout.String())
	return ctx, log, func() {
		cancel()
		_ = closer.Close()
	}, nil
}

// finish turns the seam's result into what crosses the protocol boundary:
// a response, or a bare *proto.Error.
func finish[R any](log *slog.Logger, cmd proto.Command, resp *R, err error) (*R, error) {
	if err != nil {
		pe := awserr.ToPluginError(err, "")
		log.Debug("failed", "command", string(cmd), "code", string(pe.ErrCode), "message", pe.Message)
		return nil, pe
	}
	if resp == nil {
		log.Debug("failed", "command", string(cmd), "reason", "empty response")
		return nil, proto.NewGenericErrorf("%s produced no response", cmd)
	}
	log.Debug("done", "command", string(cmd))
	return resp, nil
}

// recoverAsError turns a panic in a protocol command into an ERROR response,
// so notation gets one JSON error on stderr and an empty stdout instead of a
// goroutine dump. Deferred with the command's named results. Only the text of
// a runtime error (index out of range, nil dereference) is quoted: any other
// panic value is arbitrary data and could hold anything, so only its type is.
func recoverAsError[R any](cmd proto.Command, resp **R, err *error) {
	r := recover()
	if r == nil {
		return
	}
	what := fmt.Sprintf("%T", r)
	if re, ok := r.(runtime.Error); ok {
		what = re.Error()
	}
	*resp = nil
	*err = proto.NewGenericErrorf("xsigner failed unexpectedly during %s (internal error: %s). "+
		"This is a bug in xsigner: please report it with the notation command and xsigner version %s.", cmd, what, version.Get())
}

func notConfigured(cmd proto.Command) *proto.Error {
	return proto.NewGenericErrorf("%s is not configured in this build of xsigner", cmd)
}

func asPluginError(err error, code proto.ErrorCode) *proto.Error {
	var pe *proto.Error
	if errors.As(err, &pe) {
		return pe
	}
	return proto.NewError(code, err.Error())
}
