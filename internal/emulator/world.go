package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/iam"
)

// World is the emulator's starting state, read from a JSON world file. The
// emulator never changes it: API calls change a copy (see state.go), and
// POST /_xsigner/reset goes back to it.
//
// A complete example is testdata/world-two-accounts.json. Unknown fields are
// rejected so that a typo does not silently change the permission model.
type World struct {
	// Accounts maps a 12-digit AWS account id to what exists in it.
	Accounts map[string]*Account `json:"accounts"`
	// WebIdentity lists the OIDC providers the emulator acts as. Tokens for
	// them are minted with POST /_xsigner/web-identity-token and accepted by
	// AssumeRoleWithWebIdentity.
	WebIdentity *WebIdentity `json:"webIdentity,omitempty"`
	// Faults are injected from the start, as if POSTed to /_xsigner/faults.
	Faults []Fault `json:"faults,omitempty"`
	// ErrorMessageField is the JSON key of the message in Signer error bodies:
	// "message" (default) or "Message" (the casing some AWS front ends send,
	// which the SDK's typed errors do not read; aws.md §0.3).
	ErrorMessageField string `json:"errorMessageField,omitempty"`
}

// Account is one AWS account.
type Account struct {
	// Partition the account belongs to: "aws" (default), "aws-cn" or
	// "aws-us-gov". As in AWS, the account's users, roles and sessions
	// exist only there: a request signed for a region of another partition
	// is refused as an unknown key (InvalidClientTokenId /
	// UnrecognizedClientException), its ARNs start with arn:<partition>:,
	// and its signing profiles and repositories must be in regions of that
	// partition: a world file that puts them elsewhere is refused.
	Partition string `json:"partition,omitempty"`
	// Users maps an IAM user name to the user. Users are the only holders of
	// long-term access keys.
	Users map[string]*User `json:"users,omitempty"`
	// Roles maps an IAM role name to the role.
	Roles map[string]*Role `json:"roles,omitempty"`
	// SigningProfiles are the AWS Signer signing profiles the account owns.
	SigningProfiles []*SigningProfile `json:"signingProfiles,omitempty"`
	// Repositories maps an Amazon ECR repository name (e.g. "team/app") to
	// the repository. Its images live in the upstream registry (see
	// Options.RegistryUpstream and ecr.go).
	Repositories map[string]*Repository `json:"repositories,omitempty"`
}

// Repository is an Amazon ECR private repository.
type Repository struct {
	// Region the repository lives in, e.g. us-west-2.
	Region string `json:"region"`
	// Policy is the repository policy (a resource-based IAM policy document,
	// as set with SetRepositoryPolicy); absent means no repository policy,
	// so only same-account identity policies grant access.
	Policy json.RawMessage `json:"policy,omitempty"`
}

// User is an IAM user.
type User struct {
	// AccessKeys are the user's long-term keys (AKIA...). Key ids must be
	// unique across the world.
	AccessKeys []AccessKey `json:"accessKeys,omitempty"`
	// Policies are the user's identity-based IAM policy documents.
	Policies []json.RawMessage `json:"policies,omitempty"`
}

// AccessKey is a long-term access key pair.
type AccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// Role is an IAM role.
type Role struct {
	// TrustPolicy is the role's trust (assume-role) policy document. Required.
	TrustPolicy json.RawMessage `json:"trustPolicy"`
	// Policies are the role's identity-based IAM policy documents.
	Policies []json.RawMessage `json:"policies,omitempty"`
	// MaxSessionDuration in seconds, 3600..43200; 0 means the AWS default 3600.
	MaxSessionDuration int `json:"maxSessionDuration,omitempty"`
	// Path of the role, "/" (default) or like "/ci/". It becomes part of the ARN.
	Path string `json:"path,omitempty"`
}

// SigningProfile is an AWS Signer signing profile that exists at start.
type SigningProfile struct {
	// Name: 2..64 letters, digits and underscores.
	Name string `json:"name"`
	// Region the profile lives in (Signer state is per account and region).
	Region string `json:"region"`
	// PlatformID defaults to Notation-OCI-SHA384-ECDSA, the only platform
	// the emulator signs for.
	PlatformID string `json:"platformId,omitempty"`
	// SignatureValidityPeriod defaults to 135 MONTHS, as in AWS.
	SignatureValidityPeriod *ValidityPeriod `json:"signatureValidityPeriod,omitempty"`
	// Permissions are the profile's cross-account permissions, as if added
	// with AddProfilePermission.
	Permissions []ProfilePermission `json:"permissions,omitempty"`
}

// ValidityPeriod is a signature validity period: Value in Type units
// (DAYS, MONTHS or YEARS).
type ValidityPeriod struct {
	Value int    `json:"value"`
	Type  string `json:"type"`
}

// ProfilePermission is one statement of a signing profile's resource policy.
type ProfilePermission struct {
	// StatementID is unique within the profile.
	StatementID string `json:"statementId"`
	// Action: signer:SignPayload, signer:GetSigningProfile or signer:RevokeSignature.
	Action string `json:"action"`
	// Principal: a 12-digit account id or an IAM role ARN without a path.
	Principal string `json:"principal"`
	// ProfileVersion optionally names the profile version the statement is for.
	ProfileVersion string `json:"profileVersion,omitempty"`
}

// WebIdentity configures the emulator's own OIDC issuer(s).
type WebIdentity struct {
	Providers []WebIdentityProvider `json:"providers"`
}

// WebIdentityProvider is an OIDC identity provider the emulator impersonates.
// In trust policies it is the Federated principal
// arn:<partition>:iam::<role account>:oidc-provider/<issuer host and path>, with
// condition keys <issuer host and path>:sub and :aud.
type WebIdentityProvider struct {
	// Issuer is an https URL without query or fragment, e.g. https://oidc.example.
	Issuer string `json:"issuer"`
	// Audiences are the client ids (aud values) the provider is registered with.
	Audiences []string `json:"audiences"`
}

// Notation platform facts (aws.md §1.5, §3).
const (
	notationPlatformID          = "Notation-OCI-SHA384-ECDSA"
	notationPlatformDisplayName = "Notary v2 for Container Registries"
	defaultMaxSessionDuration   = 3600
)

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	profileNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_]{2,64}$`)
	userNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	accessKeyPattern   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	statementIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	// repositoryNamePattern is the ECR RepositoryName pattern of the API
	// model (length 2..256 is checked separately).
	repositoryNamePattern = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
)

// ParseWorld parses and validates a world file. Unknown fields, malformed
// account ids, unparsable policies, duplicate access keys and similar
// mistakes are errors that name the offending place.
func ParseWorld(data []byte) (*World, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("parsing world file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parsing world file: trailing data after the JSON object")
	}
	if err := w.validate(); err != nil {
		return nil, fmt.Errorf("invalid world file: %w", err)
	}
	return &w, nil
}

func (w *World) validate() error {
	if len(w.Accounts) == 0 {
		return errors.New(`"accounts" is empty; declare at least one 12-digit account`)
	}
	keys := map[string]string{}
	for _, acct := range sortedKeys(w.Accounts) {
		a := w.Accounts[acct]
		where := fmt.Sprintf("accounts[%q]", acct)
		if !accountIDPattern.MatchString(acct) {
			return fmt.Errorf("%s: account id must be 12 digits", where)
		}
		if a == nil {
			return fmt.Errorf("%s: is null", where)
		}
		switch a.Partition {
		case "", "aws", "aws-cn", "aws-us-gov":
		default:
			return fmt.Errorf("%s: partition %q must be \"aws\", \"aws-cn\" or \"aws-us-gov\"", where, a.Partition)
		}
		if err := checkRegionsInPartition(where, a); err != nil {
			return err
		}
		for _, name := range sortedKeys(a.Users) {
			u := a.Users[name]
			uw := fmt.Sprintf("%s.users[%q]", where, name)
			if !userNamePattern.MatchString(name) {
				return fmt.Errorf("%s: user name must be 1 to 64 of letters, digits and +=,.@_-", uw)
			}
			if u == nil {
				return fmt.Errorf("%s: is null", uw)
			}
			for i, k := range u.AccessKeys {
				if !accessKeyPattern.MatchString(k.AccessKeyID) {
					return fmt.Errorf("%s.accessKeys[%d]: accessKeyId must be 16 to 128 upper-case letters or digits", uw, i)
				}
				if strings.HasPrefix(k.AccessKeyID, "ASIA") {
					return fmt.Errorf("%s.accessKeys[%d]: accessKeyId %q starts with ASIA, which the emulator reserves for session keys", uw, i, k.AccessKeyID)
				}
				if k.SecretAccessKey == "" {
					return fmt.Errorf("%s.accessKeys[%d]: secretAccessKey is empty", uw, i)
				}
				if prev, dup := keys[k.AccessKeyID]; dup {
					return fmt.Errorf("%s.accessKeys[%d]: accessKeyId %q is also used by %s", uw, i, k.AccessKeyID, prev)
				}
				keys[k.AccessKeyID] = uw
			}
			if err := checkPolicies(uw, u.Policies); err != nil {
				return err
			}
		}
		for _, name := range sortedKeys(a.Roles) {
			r := a.Roles[name]
			rw := fmt.Sprintf("%s.roles[%q]", where, name)
			if r == nil {
				return fmt.Errorf("%s: is null", rw)
			}
			path := r.Path
			if path == "" {
				path = "/"
			}
			if _, err := arn.ParseRole("arn:" + a.partition() + ":iam::" + acct + ":role" + path + name); err != nil {
				return fmt.Errorf("%s: name or path is not valid: %w", rw, err)
			}
			if len(r.TrustPolicy) == 0 {
				return fmt.Errorf("%s: trustPolicy is required", rw)
			}
			if err := checkPolicy(r.TrustPolicy, iam.ValidateTrustPolicy); err != nil {
				return fmt.Errorf("%s.trustPolicy: %w", rw, err)
			}
			if err := checkPolicies(rw, r.Policies); err != nil {
				return err
			}
			if r.MaxSessionDuration != 0 && (r.MaxSessionDuration < 3600 || r.MaxSessionDuration > 43200) {
				return fmt.Errorf("%s: maxSessionDuration %d must be between 3600 and 43200 seconds", rw, r.MaxSessionDuration)
			}
		}
		seen := map[string]bool{}
		for i, p := range a.SigningProfiles {
			pw := fmt.Sprintf("%s.signingProfiles[%d]", where, i)
			if p == nil {
				return fmt.Errorf("%s: is null", pw)
			}
			if !profileNamePattern.MatchString(p.Name) {
				return fmt.Errorf("%s: name %q must be 2 to 64 letters, digits or underscores", pw, p.Name)
			}
			if !arn.ValidRegion(p.Region) {
				return fmt.Errorf("%s: region %q is not a region name like us-west-2", pw, p.Region)
			}
			if seen[p.Region+"/"+p.Name] {
				return fmt.Errorf("%s: profile %q is declared twice in %s", pw, p.Name, p.Region)
			}
			seen[p.Region+"/"+p.Name] = true
			if p.PlatformID != "" && p.PlatformID != notationPlatformID {
				return fmt.Errorf("%s: platformId %q is not supported; the emulator only signs for %s", pw, p.PlatformID, notationPlatformID)
			}
			if p.SignatureValidityPeriod != nil {
				if err := validateValidity(*p.SignatureValidityPeriod); err != nil {
					return fmt.Errorf("%s.signatureValidityPeriod: %w", pw, err)
				}
			}
			ids := map[string]bool{}
			for j, perm := range p.Permissions {
				if msg := validatePermission(perm.Action, perm.Principal, perm.StatementID); msg != "" {
					return fmt.Errorf("%s.permissions[%d]: %s", pw, j, msg)
				}
				if ids[perm.StatementID] {
					return fmt.Errorf("%s.permissions[%d]: statementId %q is used twice", pw, j, perm.StatementID)
				}
				ids[perm.StatementID] = true
			}
		}
	}
	if err := w.validateRepositories(); err != nil {
		return err
	}
	if w.WebIdentity != nil {
		issuers := map[string]bool{}
		for i, p := range w.WebIdentity.Providers {
			pw := fmt.Sprintf("webIdentity.providers[%d]", i)
			if _, err := providerHost(p.Issuer); err != nil {
				return fmt.Errorf("%s: %w", pw, err)
			}
			if issuers[p.Issuer] {
				return fmt.Errorf("%s: issuer %q is declared twice", pw, p.Issuer)
			}
			issuers[p.Issuer] = true
			if len(p.Audiences) == 0 {
				return fmt.Errorf("%s: audiences is empty", pw)
			}
		}
	}
	for i, f := range w.Faults {
		if err := f.validate(); err != nil {
			return fmt.Errorf("faults[%d]: %w", i, err)
		}
	}
	switch w.ErrorMessageField {
	case "", "message", "Message":
	default:
		return fmt.Errorf("errorMessageField %q must be \"message\" or \"Message\"", w.ErrorMessageField)
	}
	return nil
}

// partition returns the account's partition: its "partition" field, or
// "aws" when the field is absent.
func (a *Account) partition() string {
	if a.Partition == "" {
		return "aws"
	}
	return a.Partition
}

// checkRegionsInPartition refuses signing profiles and repositories outside
// the account's partition: one AWS account cannot own resources in two
// partitions.
func checkRegionsInPartition(where string, a *Account) error {
	part := a.partition()
	check := func(what, region string) error {
		if region == "" || !arn.ValidRegion(region) {
			return nil // reported with the resource's own checks
		}
		rp := arn.RegionPartition(region)
		if rp == part {
			return nil
		}
		account := "the account is in partition " + part
		if a.Partition == "" {
			account = "the account sets no \"partition\", so it is in partition aws"
		}
		return fmt.Errorf("%s.%s: region %s is in partition %s, but %s (an AWS account belongs to one partition: set \"partition\": %q on the account, or move the resource to an account of partition %s)",
			where, what, region, rp, account, rp, rp)
	}
	for i, p := range a.SigningProfiles {
		if p != nil {
			if err := check(fmt.Sprintf("signingProfiles[%d]", i), p.Region); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(a.Repositories) {
		if r := a.Repositories[name]; r != nil {
			if err := check(fmt.Sprintf("repositories[%q]", name), r.Region); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPolicies checks identity-based policies (of users and roles).
func checkPolicies(where string, docs []json.RawMessage) error {
	for i, d := range docs {
		if err := checkPolicy(d, iam.ValidateIdentityPolicy); err != nil {
			return fmt.Errorf("%s.policies[%d]: %w", where, i, err)
		}
	}
	return nil
}

// checkPolicy parses a policy document and applies the rules IAM has for
// its kind (identity, trust or resource policy), so that a document AWS
// refuses with MalformedPolicyDocument is refused here too.
func checkPolicy(doc json.RawMessage, validate func(*iam.Policy) error) error {
	p, err := iam.ParsePolicy(doc)
	if err != nil {
		return err
	}
	return validate(p)
}

func validateValidity(v ValidityPeriod) error {
	switch v.Type {
	case "DAYS", "MONTHS", "YEARS":
	default:
		return fmt.Errorf("type %q must be DAYS, MONTHS or YEARS", v.Type)
	}
	if v.Value < 1 {
		return fmt.Errorf("value %d must be positive", v.Value)
	}
	return nil
}

// providerHost returns the issuer's host and path, the name AWS gives an OIDC
// provider (arn:aws:iam::ACCOUNT:oidc-provider/<host and path>).
func providerHost(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("issuer %q must be an https URL without user, query or fragment, e.g. https://oidc.example", issuer)
	}
	return u.Host + strings.TrimSuffix(u.Path, "/"), nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (w *World) validateRepositories() error {
	for _, acct := range sortedKeys(w.Accounts) {
		a := w.Accounts[acct]
		for _, name := range sortedKeys(a.Repositories) {
			r := a.Repositories[name]
			rw := fmt.Sprintf("accounts[%q].repositories[%q]", acct, name)
			if r == nil {
				return fmt.Errorf("%s: is null", rw)
			}
			if !validRepositoryName(name) {
				return fmt.Errorf("%s: name must be 2 to 256 lower-case letters, digits and ._-/ separated components, like team/app", rw)
			}
			if !arn.ValidRegion(r.Region) {
				return fmt.Errorf("%s: region %q is not a region name like us-west-2", rw, r.Region)
			}
			if len(r.Policy) > 0 {
				if err := checkPolicy(r.Policy, iam.ValidateResourcePolicy); err != nil {
					return fmt.Errorf("%s.policy: %w", rw, err)
				}
			}
		}
	}
	return nil
}

func validRepositoryName(name string) bool {
	return len(name) >= 2 && len(name) <= 256 && repositoryNamePattern.MatchString(name)
}
