// Package arn parses the Amazon Resource Names that xsigner accepts from users:
// AWS Signer signing-profile ARNs (with or without a profile version), signing
// job ARNs and IAM role ARNs. Parsing happens once, at the edge, into typed
// values; every error says what was wrong and what the valid form is.
package arn

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Partitions lists the AWS partitions xsigner accepts, each with the prefix
// its region names carry ("" = any region not claimed by another partition).
var partitions = map[string]string{
	"aws":        "",
	"aws-cn":     "cn-",
	"aws-us-gov": "us-gov-",
}

var (
	accountPattern      = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	profileNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9_]{2,64}$`)
	profileVersionPatt  = regexp.MustCompile(`^[a-zA-Z0-9]{10}$`)
	roleNamePattern     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathPattern     = regexp.MustCompile(`^(/[\x21-\x7E]+)*/$`)
	signingJobIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`)
)

// ErrInvalid is wrapped by every parse error of this package.
var ErrInvalid = errors.New("invalid ARN")

// SigningProfile is a parsed AWS Signer signing-profile ARN. Version is empty
// for a profile ARN (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME) and
// set for a profile-version ARN (.../signing-profiles/NAME/VERSION).
type SigningProfile struct {
	Partition string
	Region    string
	Account   string
	Name      string
	Version   string
}

// ProfileARN returns the ARN of the profile, without any version.
func (p SigningProfile) ProfileARN() string {
	return fmt.Sprintf("arn:%s:signer:%s:%s:/signing-profiles/%s", p.Partition, p.Region, p.Account, p.Name)
}

// String returns the ARN as parsed: the version ARN when a version is set.
func (p SigningProfile) String() string {
	if p.Version == "" {
		return p.ProfileARN()
	}
	return p.ProfileARN() + "/" + p.Version
}

// ParseSigningProfile parses a signing-profile ARN or a profile-version ARN:
//
//	arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile
//	arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile/a1b2c3d4e5
//
// Partitions aws, aws-cn and aws-us-gov are accepted; the region must belong
// to the partition.
func ParseSigningProfile(s string) (SigningProfile, error) {
	const want = "want arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>[/<version>]"
	f, err := split(s, "signer", want)
	if err != nil {
		return SigningProfile{}, err
	}
	if f.region == "" {
		return SigningProfile{}, invalid(s, "the region is empty", want)
	}
	res := f.resource
	if strings.HasPrefix(res, "signing-profiles/") {
		return SigningProfile{}, invalid(s, "the resource must start with \"/signing-profiles/\" (AWS Signer ARNs have a slash after the account id)", want)
	}
	if !strings.HasPrefix(res, "/signing-profiles/") {
		return SigningProfile{}, invalid(s, "it is not a signing-profile ARN", want)
	}
	parts := strings.Split(strings.TrimPrefix(res, "/signing-profiles/"), "/")
	if len(parts) > 2 {
		return SigningProfile{}, invalid(s, "too many path segments after /signing-profiles/", want)
	}
	p := SigningProfile{Partition: f.partition, Region: f.region, Account: f.account, Name: parts[0]}
	if !profileNamePattern.MatchString(p.Name) {
		return SigningProfile{}, invalid(s, fmt.Sprintf("profile name %q must be 2 to 64 letters, digits or underscores", p.Name), want)
	}
	if len(parts) == 2 {
		p.Version = parts[1]
		if !profileVersionPatt.MatchString(p.Version) {
			return SigningProfile{}, invalid(s, fmt.Sprintf("profile version %q must be 10 letters or digits", p.Version), want)
		}
	}
	return p, nil
}

// SigningJob is a parsed AWS Signer signing-job ARN
// (arn:aws:signer:REGION:ACCOUNT:/signing-jobs/JOB_ID).
type SigningJob struct {
	Partition string
	Region    string
	Account   string
	ID        string
}

// String returns the job ARN.
func (j SigningJob) String() string {
	return fmt.Sprintf("arn:%s:signer:%s:%s:/signing-jobs/%s", j.Partition, j.Region, j.Account, j.ID)
}

// ParseSigningJob parses a signing-job ARN.
func ParseSigningJob(s string) (SigningJob, error) {
	const want = "want arn:<partition>:signer:<region>:<account>:/signing-jobs/<job-id>"
	f, err := split(s, "signer", want)
	if err != nil {
		return SigningJob{}, err
	}
	if f.region == "" {
		return SigningJob{}, invalid(s, "the region is empty", want)
	}
	id, ok := strings.CutPrefix(f.resource, "/signing-jobs/")
	if !ok || !signingJobIDPattern.MatchString(id) {
		return SigningJob{}, invalid(s, "it is not a signing-job ARN", want)
	}
	return SigningJob{Partition: f.partition, Region: f.region, Account: f.account, ID: id}, nil
}

// Role is a parsed IAM role ARN (arn:aws:iam::ACCOUNT:role[/PATH]/NAME).
type Role struct {
	Partition string
	Account   string
	Path      string // "/" when the role has no path
	Name      string
}

// String returns the role ARN.
func (r Role) String() string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", r.Partition, r.Account, r.Path, r.Name)
}

// ParseRole parses an IAM role ARN such as arn:aws:iam::111122223333:role/xsigner-signer
// or one with a path (arn:aws:iam::111122223333:role/ci/xsigner-signer).
func ParseRole(s string) (Role, error) {
	const want = "want arn:<partition>:iam::<account>:role/<name>"
	f, err := split(s, "iam", want)
	if err != nil {
		return Role{}, err
	}
	if f.region != "" {
		return Role{}, invalid(s, "IAM ARNs have no region", want)
	}
	rest, ok := strings.CutPrefix(f.resource, "role/")
	if !ok {
		return Role{}, invalid(s, "it is not a role ARN", want)
	}
	i := strings.LastIndex(rest, "/")
	path, name := "/"+rest[:i+1], rest[i+1:] // i == -1 gives path "/"
	if !roleNamePattern.MatchString(name) {
		return Role{}, invalid(s, fmt.Sprintf("role name %q must be 1 to 64 of letters, digits and +=,.@_-", name), want)
	}
	if !rolePathPattern.MatchString(path) {
		return Role{}, invalid(s, fmt.Sprintf("role path %q is malformed", path), want)
	}
	return Role{Partition: f.partition, Account: f.account, Path: path, Name: name}, nil
}

// RegionPartition returns the partition a region belongs to
// ("aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws").
func RegionPartition(region string) string {
	for p, prefix := range partitions {
		if prefix != "" && strings.HasPrefix(region, prefix) {
			return p
		}
	}
	return "aws"
}

// ValidRegion reports whether s has the shape of an AWS region name.
func ValidRegion(s string) bool { return regionPattern.MatchString(s) }

type fields struct{ partition, region, account, resource string }

func split(s, service, want string) (fields, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fields{}, invalid(s, "it is not an ARN", want)
	}
	f := fields{partition: parts[1], region: parts[3], account: parts[4], resource: parts[5]}
	if _, ok := partitions[f.partition]; !ok {
		return fields{}, invalid(s, fmt.Sprintf("partition %q is not one of aws, aws-cn, aws-us-gov", f.partition), want)
	}
	if parts[2] != service {
		return fields{}, invalid(s, fmt.Sprintf("service is %q, not %q", parts[2], service), want)
	}
	if f.region != "" {
		if !regionPattern.MatchString(f.region) {
			return fields{}, invalid(s, fmt.Sprintf("region %q is malformed", f.region), want)
		}
		if RegionPartition(f.region) != f.partition {
			return fields{}, invalid(s, fmt.Sprintf("region %q is not in partition %q", f.region, f.partition), want)
		}
	}
	if !accountPattern.MatchString(f.account) {
		return fields{}, invalid(s, fmt.Sprintf("account %q must be 12 digits", f.account), want)
	}
	return f, nil
}

func invalid(s, why, want string) error {
	return fmt.Errorf("%w %q: %s (%s)", ErrInvalid, s, why, want)
}
