package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/invocation"
)

// accessDeniedHint explains, for a SignPayload AccessDenied, who called, on
// what, and the two places that must both allow it. roleARNs is the
// configured role chain (empty when the base credentials call Signer).
func accessDeniedHint(callerARN string, key arn.SigningProfile, roleARNs []string) string {
	caller := "the caller"
	if callerARN != "" {
		caller = fmt.Sprintf("caller %q", callerARN)
	}
	profile := key.String()
	var b strings.Builder
	fmt.Fprintf(&b, "%s may not call signer:SignPayload on signing profile %q (owner account %s). ", upperFirst(caller), profile, key.Account)

	if len(roleARNs) > 0 {
		role := roleARNs[len(roleARNs)-1]
		roleAccount := accountOf(role)
		fmt.Fprintf(&b, "Signer is called as the assumed role %q, so both must allow it: "+
			"(1) the permissions policy of role %q must allow signer:SignPayload on %q", role, role, key.ProfileARN())
		if roleAccount != "" && roleAccount != key.Account {
			fmt.Fprintf(&b, "; (2) the role is in account %s, not the profile's account %s, so the profile must also grant it: "+
				"aws signer add-profile-permission --profile-name %s --action signer:SignPayload --principal %s --statement-id xsigner-%s "+
				"(run in account %s, region %s), or choose a role in account %s with role-arn.",
				roleAccount, key.Account, key.Name, roleAccount, roleAccount, key.Account, key.Region, key.Account)
		} else {
			fmt.Fprintf(&b, "; (2) no service control policy or permissions boundary on the role may deny it "+
				"(the role is in the profile's account %s, so no profile permission is needed).", key.Account)
		}
		return b.String()
	}

	callerAccount := accountOf(callerARN)
	switch callerAccount {
	case key.Account:
		fmt.Fprintf(&b, "The caller is in the profile's account %s: its identity policy must allow signer:SignPayload on %q, "+
			"and no service control policy or permissions boundary may deny it.", key.Account, key.ProfileARN())
	case "":
		fmt.Fprintf(&b, "The caller's identity could not be found out. Its identity policy must allow signer:SignPayload on %q; "+
			"if it is not in account %s, the profile's owner must also grant a profile permission: "+
			"aws signer add-profile-permission --profile-name %s --action signer:SignPayload --principal <caller account id> --statement-id xsigner "+
			"(region %s), or set role-arn to a role in account %s that may sign with the profile.",
			key.ProfileARN(), key.Account, key.Name, key.Region, key.Account)
	default:
		fmt.Fprintf(&b, "No role-arn is set, so Signer is called across accounts with the base credentials and both must allow it: "+
			"(1) the caller's identity policy in account %s must allow signer:SignPayload on %q; "+
			"(2) the profile's owner (account %s) must grant a profile permission: "+
			"aws signer add-profile-permission --profile-name %s --action signer:SignPayload --principal %s --statement-id xsigner "+
			"(region %s). Alternatively set role-arn to a role in account %s that may sign with the profile.",
			callerAccount, key.ProfileARN(), key.Account, key.Name, callerAccount, key.Region, key.Account)
	}
	return b.String()
}

// notFoundHint explains a SignPayload ResourceNotFound.
func notFoundHint(key arn.SigningProfile, region string) string {
	if region == "" {
		region = key.Region
	}
	return fmt.Sprintf("AWS Signer found no usable signing profile %q owned by account %s in region %s. "+
		"Check the profile name and owner in the key id %q, that the profile exists in that region and is Active (not canceled or revoked), "+
		"and that aws-region (if set) is the profile's region.", key.Name, key.Account, region, key.String())
}

// deadlineHint explains a call cut short by the command's deadline, or
// returns "" when ctx has not run out.
func deadlineHint(ctx context.Context, inv invocation.Sign) string {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ""
	}
	limit := "the command's deadline"
	if d := inv.Config.Timeout; d > 0 {
		limit = fmt.Sprintf("the command's deadline of %s", d)
	}
	return fmt.Sprintf("AWS did not answer within %s (retries included). "+
		"Check that the AWS endpoints are reachable from here (proxy, VPC endpoints, signer-endpoint-url, sts-endpoint-url), "+
		"or raise the deadline with pluginConfig timeout (e.g. --plugin-config timeout=2m) or XSIGNER_TIMEOUT.", limit)
}

// credentialsHint explains a SignPayload refused before authorization: the
// credentials themselves were not accepted.
func credentialsHint(code string, roleARNs []string) string {
	if len(roleARNs) > 0 {
		return fmt.Sprintf("AWS Signer did not accept the session credentials of role %q (%s). "+
			"Check that signer-endpoint-url and sts-endpoint-url belong to the same AWS partition and that the system clock is correct.",
			roleARNs[len(roleARNs)-1], code)
	}
	if code == "ExpiredTokenException" {
		return "The base AWS credentials have expired: refresh them (e.g. aws sso login, or a new CodeBuild role session) and retry."
	}
	return "AWS Signer did not accept the base AWS credentials: check that the access key exists and is active, " +
		"that its secret key is the right one (environment, aws-profile, shared credentials file) and that the system clock is correct."
}

// accountOf returns the account field of an ARN such as
// arn:aws:sts::111122223333:assumed-role/R/S, or "" when s is no ARN.
func accountOf(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
