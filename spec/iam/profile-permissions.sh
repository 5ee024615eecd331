#!/usr/bin/env bash
# profile-permissions.sh: run in account A (the signing profile's owner) for the
# profile-permission model: account B's CodeBuild role may call SignPayload with
# the profile directly, without assuming a role in account A. See spec/README.md.
#
# Needs: ACCOUNT_B_ID, CODEBUILD_ROLE_NAME, SIGNING_PROFILE_NAME, AWS_REGION and
# credentials of account A allowed signer:AddProfilePermission. AWS_PARTITION
# (aws, aws-cn or aws-us-gov) is optional: unset, it follows from AWS_REGION as
# in the buildspecs.
set -euo pipefail
: "${ACCOUNT_B_ID:?set ACCOUNT_B_ID}" "${CODEBUILD_ROLE_NAME:?set CODEBUILD_ROLE_NAME}"
: "${SIGNING_PROFILE_NAME:?set SIGNING_PROFILE_NAME}" "${AWS_REGION:?set AWS_REGION}"
if [ -z "${AWS_PARTITION:-}" ]; then
  case "$AWS_REGION" in cn-*) AWS_PARTITION=aws-cn ;; us-gov-*) AWS_PARTITION=aws-us-gov ;; *) AWS_PARTITION=aws ;; esac
fi

# The principal is the role, not the account: granting the account would let
# every principal of account B that its own IAM allows sign with the profile.
aws signer add-profile-permission --region "$AWS_REGION" \
  --profile-name "$SIGNING_PROFILE_NAME" \
  --action signer:SignPayload \
  --principal "arn:${AWS_PARTITION}:iam::${ACCOUNT_B_ID}:role/${CODEBUILD_ROLE_NAME}" \
  --statement-id codebuild-sign
