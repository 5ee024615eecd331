package arn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSigningProfile(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    SigningProfile
		wantErr string
	}{
		"profile":           {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile", want: SigningProfile{"aws", "us-west-2", "111122223333", "MyProfile", ""}},
		"profile version":   {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile/a1b2c3d4e5", want: SigningProfile{"aws", "us-west-2", "111122223333", "MyProfile", "a1b2c3d4e5"}},
		"china":             {in: "arn:aws-cn:signer:cn-north-1:111122223333:/signing-profiles/P_1", want: SigningProfile{"aws-cn", "cn-north-1", "111122223333", "P_1", ""}},
		"govcloud":          {in: "arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/P1", want: SigningProfile{"aws-us-gov", "us-gov-west-1", "111122223333", "P1", ""}},
		"max name":          {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/" + strings.Repeat("a", 64), want: SigningProfile{"aws", "us-west-2", "111122223333", strings.Repeat("a", 64), ""}},
		"empty":             {in: "", wantErr: "it is not an ARN"},
		"plain name":        {in: "MyProfile", wantErr: "it is not an ARN"},
		"too few fields":    {in: "arn:aws:signer:us-west-2:111122223333", wantErr: "it is not an ARN"},
		"upper ARN":         {in: "ARN:aws:signer:us-west-2:111122223333:/signing-profiles/P1", wantErr: "it is not an ARN"},
		"unknown partition": {in: "arn:aws-iso:signer:us-iso-east-1:111122223333:/signing-profiles/P1", wantErr: `partition "aws-iso"`},
		"wrong service":     {in: "arn:aws:kms:us-west-2:111122223333:/signing-profiles/P1", wantErr: `service is "kms"`},
		"no region":         {in: "arn:aws:signer::111122223333:/signing-profiles/P1", wantErr: "the region is empty"},
		"bad region":        {in: "arn:aws:signer:uswest2:111122223333:/signing-profiles/P1", wantErr: `region "uswest2" is malformed`},
		"region partition":  {in: "arn:aws:signer:cn-north-1:111122223333:/signing-profiles/P1", wantErr: `not in partition "aws"`},
		"gov region in aws": {in: "arn:aws-us-gov:signer:us-west-2:111122223333:/signing-profiles/P1", wantErr: `not in partition "aws-us-gov"`},
		"short account":     {in: "arn:aws:signer:us-west-2:1111:/signing-profiles/P1", wantErr: "must be 12 digits"},
		"alpha account":     {in: "arn:aws:signer:us-west-2:11112222333a:/signing-profiles/P1", wantErr: "must be 12 digits"},
		"no leading slash":  {in: "arn:aws:signer:us-west-2:111122223333:signing-profiles/P1", wantErr: "slash after the account id"},
		"signing job":       {in: "arn:aws:signer:us-west-2:111122223333:/signing-jobs/abc", wantErr: "not a signing-profile ARN"},
		"empty name":        {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/", wantErr: "profile name"},
		"short name":        {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P", wantErr: "profile name"},
		"dash in name":      {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/My-Profile", wantErr: "profile name"},
		"long name":         {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/" + strings.Repeat("a", 65), wantErr: "profile name"},
		"short version":     {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P1/abc", wantErr: "profile version"},
		"empty version":     {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P1/", wantErr: "profile version"},
		"too many segments": {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P1/a1b2c3d4e5/x", wantErr: "too many path segments"},
		"trailing space":    {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P1 ", wantErr: "profile name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSigningProfile(tc.in)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseSigningProfile(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				if err != nil && !strings.Contains(err.Error(), "want arn:<partition>:signer:") {
					t.Errorf("error %q does not give the valid form", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSigningProfile(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want the input %q", got.String(), tc.in)
			}
			if want := strings.TrimSuffix(tc.in, "/"+tc.want.Version); got.ProfileARN() != want {
				t.Errorf("ProfileARN() = %q, want %q", got.ProfileARN(), want)
			}
		})
	}
}

func TestParseSigningJob(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    SigningJob
		wantErr string
	}{
		"job":           {in: "arn:aws:signer:us-west-2:111122223333:/signing-jobs/2a3c4b5d-6e7f-8a9b-0c1d-2e3f4a5b6c7d", want: SigningJob{"aws", "us-west-2", "111122223333", "2a3c4b5d-6e7f-8a9b-0c1d-2e3f4a5b6c7d"}},
		"profile":       {in: "arn:aws:signer:us-west-2:111122223333:/signing-profiles/P1", wantErr: "not a signing-job ARN"},
		"empty id":      {in: "arn:aws:signer:us-west-2:111122223333:/signing-jobs/", wantErr: "not a signing-job ARN"},
		"slash in id":   {in: "arn:aws:signer:us-west-2:111122223333:/signing-jobs/a/b", wantErr: "not a signing-job ARN"},
		"no region":     {in: "arn:aws:signer::111122223333:/signing-jobs/a", wantErr: "region is empty"},
		"wrong service": {in: "arn:aws:iam::111122223333:/signing-jobs/a", wantErr: `service is "iam"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSigningJob(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseSigningJob(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || got.String() != tc.in {
				t.Errorf("ParseSigningJob(%q) = %+v (%q), %v; want %+v", tc.in, got, got.String(), err, tc.want)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    Role
		wantErr string
	}{
		"role":           {in: "arn:aws:iam::111122223333:role/xsigner-signer", want: Role{"aws", "111122223333", "/", "xsigner-signer"}},
		"path":           {in: "arn:aws:iam::111122223333:role/ci/team/signer", want: Role{"aws", "111122223333", "/ci/team/", "signer"}},
		"all name chars": {in: "arn:aws:iam::111122223333:role/a+=,.@_-Z9", want: Role{"aws", "111122223333", "/", "a+=,.@_-Z9"}},
		"govcloud":       {in: "arn:aws-us-gov:iam::111122223333:role/r", want: Role{"aws-us-gov", "111122223333", "/", "r"}},
		"user":           {in: "arn:aws:iam::111122223333:user/bob", wantErr: "not a role ARN"},
		"region":         {in: "arn:aws:iam:us-east-1:111122223333:role/r", wantErr: "IAM ARNs have no region"},
		"sts":            {in: "arn:aws:sts::111122223333:assumed-role/r/s", wantErr: `service is "sts"`},
		"empty name":     {in: "arn:aws:iam::111122223333:role/", wantErr: "role name"},
		"long name":      {in: "arn:aws:iam::111122223333:role/" + strings.Repeat("r", 65), wantErr: "role name"},
		"bad name char":  {in: "arn:aws:iam::111122223333:role/a:b", wantErr: "role name"},
		"empty path":     {in: "arn:aws:iam::111122223333:role//r", wantErr: "role path"},
		"bad account":    {in: "arn:aws:iam::aws:role/r", wantErr: "12 digits"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRole(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseRole(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || got.String() != tc.in {
				t.Errorf("ParseRole(%q) = %+v (%q), %v; want %+v", tc.in, got, got.String(), err, tc.want)
			}
		})
	}
}

func TestRegions(t *testing.T) {
	t.Parallel()
	partitions := map[string]string{"us-west-2": "aws", "eu-central-1": "aws", "cn-northwest-1": "aws-cn", "us-gov-east-1": "aws-us-gov"}
	for region, want := range partitions {
		if got := RegionPartition(region); got != want {
			t.Errorf("RegionPartition(%q) = %q, want %q", region, got, want)
		}
		if !ValidRegion(region) {
			t.Errorf("ValidRegion(%q) = false", region)
		}
	}
	for _, bad := range []string{"", "us-west", "US-WEST-2", "us_west_2", "uswest2", "us-west-2 "} {
		if ValidRegion(bad) {
			t.Errorf("ValidRegion(%q) = true", bad)
		}
	}
}

// FuzzParseSigningProfile: no input panics, and every accepted ARN
// round-trips through String.
func FuzzParseSigningProfile(f *testing.F) {
	for _, s := range []string{
		"arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile",
		"arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile/a1b2c3d4e5",
		"arn:aws-cn:signer:cn-north-1:111122223333:/signing-profiles/P1",
		"arn:aws:iam::111122223333:role/ci/r", "arn:::::", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParseSigningProfile(s); err == nil && p.String() != s {
			t.Errorf("ParseSigningProfile(%q).String() = %q", s, p.String())
		}
		if r, err := ParseRole(s); err == nil && r.String() != s {
			t.Errorf("ParseRole(%q).String() = %q", s, r.String())
		}
		if j, err := ParseSigningJob(s); err == nil && j.String() != s {
			t.Errorf("ParseSigningJob(%q).String() = %q", s, j.String())
		}
	})
}
