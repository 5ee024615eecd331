#!/usr/bin/env bash
# demo.sh walks through xsigner's cross-account flow, offline, against the
# emulator: account B's CI user signs an artifact in a local registry through
# a role in account A, notation verifies it, account A revokes the signing
# job, and notation refuses it.
#
# Run it with `make demo` (which first builds bin/ and .tools/bin). It prints
# every command it runs, so each step can be repeated by hand. Everything it
# starts is stopped and every file it writes is removed when it exits, also on
# failure or Ctrl-C. notation's configuration lives in a throwaway directory
# (NOTATION_CONFIG), so the caller's own keys, plugins and policies are not
# touched.
#
# Environment:
#   XSIGNER_DEMO_NO_AWS_CLI=1  revoke with the Go helper internal/demo/revoke
#                              even when the aws CLI is installed.
# Every other AWS_*, XSIGNER_* and NOTATION_* variable of the caller is
# ignored, as are ~/.aws/config and ~/.aws/credentials: a leftover
# AWS_SESSION_TOKEN or AWS_PROFILE from the caller's own AWS work would
# otherwise be sent to the emulator and make the demo fail.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${script_dir}/../.." && pwd)
cd "${repo_root}"

no_aws_cli=${XSIGNER_DEMO_NO_AWS_CLI:-}
while read -r name; do
	case "${name}" in
	AWS_* | XSIGNER_* | NOTATION_*) unset "${name}" ;;
	esac
done < <(compgen -e)

world_file=internal/emulator/testdata/world-two-accounts.json

# From the world file: account A (111111111111) owns the signing profile and
# the signing role; account B (222222222222) runs CI as user ci.
profile_arn='arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer'
ci_role_arn='arn:aws:iam::222222222222:role/codebuild-ci'
signer_role_arn='arn:aws:iam::111111111111:role/xsigner-signer'
external_id='xsigner-release-7f3a'
ci_key_id='AKIACIUSER222222EXMP'
ci_secret='ci-secret-222222222222-example-key000000'
admin_key_id='AKIAADMIN1111111EXMP'
admin_secret='admin-secret-111111111111-example-key000'
aws_plugin_name='com.amazonaws.signer.notation.plugin'

# ---------------------------------------------------------------- helpers

step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n==> %d. %s\n' "${step_no}" "$*"
}

say() {
	printf '    %s\n' "$*"
}

# show prints a command as the user would type it: words with characters
# the shell would interpret are single-quoted; a lone & or a word starting
# with # (a comment) is printed as is.
show() {
	local word
	printf '$'
	for word in "$@"; do
		if [[ "${word}" =~ ^[][A-Za-z0-9_@%+=:,./-]+$ || "${word}" == '&' || "${word}" == '#'* ]]; then
			printf ' %s' "${word}"
		else
			printf " '%s'" "${word//\'/\'\\\'\'}"
		fi
	done
	printf '\n'
}

# run shows a command, then runs it.
run() {
	show "$@"
	"$@"
}

die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

for tool in .tools/bin/notation .tools/bin/oras .tools/bin/registry bin/notation-xsigner bin/xsigner-emulator; do
	[[ -x "${tool}" ]] || die "${tool} is missing: run 'make build tools' (or just 'make demo')"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/xsigner-demo.XXXXXX")
pids=()

# cleanup stops every process the demo started (SIGTERM, then SIGKILL after
# 5 s) and removes the work directory. It runs on every exit.
cleanup() {
	local status=$? pid i
	trap - EXIT INT TERM
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -TERM "${pid}" 2>/dev/null || true
	done
	for pid in ${pids[@]+"${pids[@]}"}; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "${pid}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "${pid}" 2>/dev/null || true
		wait "${pid}" 2>/dev/null || true
	done
	if ((status != 0)); then
		for log in "${work}"/*.log; do
			[[ -f "${log}" ]] || continue
			printf '\n--- %s (last lines) ---\n' "${log##*/}" >&2
			tail -n 20 "${log}" >&2 || true
		done
	fi
	rm -rf "${work}"
	printf '\nCleaned up: stopped %d process(es), removed %s\n' "${#pids[@]}" "${work}"
	exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE PATTERN prints the first line of FILE matching the
# extended regex PATTERN, waiting up to 15 s for it to appear.
wait_for_line() {
	local file=$1 pattern=$2 line i
	for ((i = 0; i < 150; i++)); do
		if line=$(grep -E -m1 "${pattern}" "${file}" 2>/dev/null); then
			printf '%s\n' "${line}"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# fetch URL writes the body of an HTTP GET to stdout (curl, or bash's
# /dev/tcp where curl is missing; loopback plain HTTP only).
fetch() {
	local url=$1
	if command -v curl >/dev/null 2>&1; then
		curl -fsS "${url}"
		return
	fi
	local rest=${url#http://} hostport path
	hostport=${rest%%/*}
	path=/${rest#*/}
	exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "${path}" "${hostport}" >&3
	sed '1,/^\r\{0,1\}$/d' <&3
	exec 3<&-
}

# --------------------------------------------------------------- the demo

printf 'xsigner demo: sign in account B through a role in account A, verify, revoke.\n'
printf 'Everything runs on 127.0.0.1 against xsigner-emulator; nothing reaches AWS.\n'
printf 'To repeat a step by hand, run from %s after:\n' "${repo_root}"
# shellcheck disable=SC2016 # printed for the user to run, unexpanded
printf '$ export PATH="$PWD/.tools/bin:$PWD/bin:$PATH"\n'
printf 'The demo keeps notation'"'"'s configuration in a throwaway directory (leave these out to use your own):\n'
export PATH="${repo_root}/.tools/bin:${repo_root}/bin:${PATH}"

# Helpers first, with the caller's Go caches.
go build -o "${work}/helpers/" ./internal/demo/revoke ./internal/demo/worldinfo

export NOTATION_CONFIG="${work}/notation" NOTATION_LIBEXEC="${work}/notation" NOTATION_CACHE="${work}/notation-cache"
export XDG_CACHE_HOME="${work}/cache" DOCKER_CONFIG="${work}/docker"
# No shared AWS config or credentials files (these do not exist), and no
# instance metadata probing: the only credentials are the ones exported below.
export AWS_CONFIG_FILE="${work}/aws/config" AWS_SHARED_CREDENTIALS_FILE="${work}/aws/credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=''
show export "NOTATION_CONFIG=${NOTATION_CONFIG}" "NOTATION_LIBEXEC=${NOTATION_LIBEXEC}" \
	"NOTATION_CACHE=${NOTATION_CACHE}" "XDG_CACHE_HOME=${XDG_CACHE_HOME}" "DOCKER_CONFIG=${DOCKER_CONFIG}"

step "The world: two AWS accounts, from ${world_file}"
say "Account A (111111111111) owns signing profile release_signer and role xsigner-signer."
say "Account B (222222222222) runs CI as user ci, which may assume its role codebuild-ci,"
say "which may assume xsigner-signer in account A with external id ${external_id}."
show go run ./internal/demo/worldinfo "${world_file}"
"${work}/helpers/worldinfo" "${world_file}"

step "Start the emulator (AWS STS and AWS Signer) and a registry"
show xsigner-emulator --listen 127.0.0.1:0 --world "${world_file}" '&'
xsigner-emulator --listen 127.0.0.1:0 --world "${world_file}" >"${work}/emulator.out" 2>"${work}/emulator.log" &
pids+=($!)
emulator=$(wait_for_line "${work}/emulator.out" '^http://127\.0\.0\.1:[0-9]+$') || die "the emulator did not print its URL"
say "emulator: ${emulator}"

cat >"${work}/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  inmemory: {}
http:
  addr: 127.0.0.1:0
EOF
show registry serve "${work}/registry.yml" '&' '# in-memory storage, http.addr 127.0.0.1:0'
REGISTRY_HTTP_SECRET="demo-$$-${RANDOM}" registry serve "${work}/registry.yml" >"${work}/registry.log" 2>&1 &
pids+=($!)
line=$(wait_for_line "${work}/registry.log" 'listening on 127\.0\.0\.1:[0-9]+') || die "the registry did not start"
registry=$(printf '%s\n' "${line}" | sed -E 's/.*listening on (127\.0\.0\.1:[0-9]+).*/\1/')
say "registry: ${registry}"

step "Push an artifact with oras"
printf 'hello from the xsigner demo\n' >"${work}/hello.txt"
say "hello.txt is a one-line text file in ${work}"
(
	cd "${work}"
	run oras push --plain-http --artifact-type application/vnd.example.demo "${registry}/demo/app:v1" hello.txt
)
show oras resolve --plain-http "${registry}/demo/app:v1"
digest=$(oras resolve --plain-http "${registry}/demo/app:v1")
ref="${registry}/demo/app@${digest}"
say "artifact: ${ref}"

step "Install xsigner as a notation plugin, also under the AWS Signer plugin's name"
say "Signatures made by AWS Signer name ${aws_plugin_name} as their verification plugin."
run notation plugin install --file bin/notation-xsigner
run cp bin/notation-xsigner "${work}/notation-${aws_plugin_name}"
run notation plugin install --file "${work}/notation-${aws_plugin_name}"
run notation plugin ls

step "Sign as account B's CI user through role xsigner-signer in account A"
show unset AWS_SESSION_TOKEN AWS_PROFILE '# leftovers of your own AWS work would be sent along'
show export "AWS_ACCESS_KEY_ID=${ci_key_id}" "AWS_SECRET_ACCESS_KEY=<secretAccessKey of user ci in ${world_file}>"
export AWS_ACCESS_KEY_ID="${ci_key_id}" AWS_SECRET_ACCESS_KEY="${ci_secret}"
run notation sign --insecure-registry \
	--plugin xsigner --id "${profile_arn}" \
	--plugin-config "role-arn=${ci_role_arn},${signer_role_arn}" \
	--plugin-config "external-id=${external_id}" \
	--plugin-config "sts-endpoint-url=${emulator}" \
	--plugin-config "signer-endpoint-url=${emulator}" \
	"${ref}"
say "The emulator saw the role chain, then Signer called as the role in account A:"
grep -E 'AssumeRole|SignPayload' "${work}/emulator.log" | sed 's/^/      /'

step "List the signature"
run notation ls --insecure-registry "${ref}"
show notation inspect --insecure-registry "${ref}" '# shows, among the signed attributes:'
inspect=$(notation inspect --insecure-registry -o json "${ref}")
job_arn=$(printf '%s\n' "${inspect}" | sed -n -E 's/.*"com\.amazonaws\.signer\.signingJob": *"([^"]+)".*/\1/p' | head -n 1)
[[ -n "${job_arn}" ]] || die "the signature names no signing job"
say "signed by profile version: $(printf '%s\n' "${inspect}" | sed -n -E 's/.*"com\.amazonaws\.signer\.signingProfileVersion": *"([^"]+)".*/\1/p' | head -n 1)"
say "signing job:               ${job_arn}"

step "Trust the emulator's root CA for signatures of profile release_signer"
show curl -fsS "${emulator}/_xsigner/ca.pem" -o "${work}/ca.pem"
fetch "${emulator}/_xsigner/ca.pem" >"${work}/ca.pem"
run notation cert add --type signingAuthority --store xsigner-emulator "${work}/ca.pem"
cat >"${work}/trustpolicy.json" <<EOF
{
  "version": "1.0",
  "trustPolicies": [
    {
      "name": "xsigner-demo",
      "registryScopes": ["${registry}/demo/app"],
      "signatureVerification": {"level": "strict"},
      "trustStores": ["signingAuthority:xsigner-emulator"],
      "trustedIdentities": ["${profile_arn}"]
    }
  ]
}
EOF
say "trust policy ${work}/trustpolicy.json:"
sed 's/^/    /' "${work}/trustpolicy.json"
run notation policy import "${work}/trustpolicy.json"

step "Verify: trusted identity, and revocation checked with AWS Signer (GetRevocationStatus)"
say "notation runs the plugin the signature names, ${aws_plugin_name} (xsigner)."
say "It checks the profile ARN against trustedIdentities and calls GetRevocationStatus"
say "as role codebuild-ci (user ci itself may only assume roles)."
verify=(notation verify --insecure-registry
	--plugin-config "role-arn=${ci_role_arn}"
	--plugin-config "sts-endpoint-url=${emulator}"
	--plugin-config "signer-endpoint-url=${emulator}")
run "${verify[@]}" "${ref}"

step "Account A's admin revokes the signing job"
revoke_cmd=(aws signer revoke-signature --region us-west-2 --endpoint-url "${emulator}"
	--job-id "${job_arn##*/}" --job-owner 111111111111 --reason "demo: revoked")
show export "AWS_ACCESS_KEY_ID=${admin_key_id}" "AWS_SECRET_ACCESS_KEY=<secretAccessKey of user admin in ${world_file}>"
show "${revoke_cmd[@]}"
if [[ -z "${no_aws_cli}" ]] && command -v aws >/dev/null 2>&1; then
	AWS_ACCESS_KEY_ID="${admin_key_id}" AWS_SECRET_ACCESS_KEY="${admin_secret}" AWS_MAX_ATTEMPTS=1 \
		"${revoke_cmd[@]}"
	say "revoked signing job ${job_arn} (aws CLI)"
else
	say "(no aws CLI: the same call with the AWS SDK for Go)"
	show go run ./internal/demo/revoke --endpoint-url "${emulator}" --job-arn "${job_arn}" --reason "demo: revoked"
	AWS_ACCESS_KEY_ID="${admin_key_id}" AWS_SECRET_ACCESS_KEY="${admin_secret}" \
		"${work}/helpers/revoke" --endpoint-url "${emulator}" --job-arn "${job_arn}" --reason "demo: revoked" | sed 's/^/    /'
fi

step "Verify again: refused, the signing job is revoked"
say "(-v shows why)"
show "${verify[@]}" -v "${ref}"
if "${verify[@]}" -v "${ref}" >"${work}/verify-revoked.out" 2>&1; then
	cat "${work}/verify-revoked.out"
	die "verification of a revoked signature succeeded"
fi
grep -E 'failed verification with error|^Error:' "${work}/verify-revoked.out" | sed 's/^level=warning msg=//'
grep -q 'was revoked' "${work}/verify-revoked.out" || die "verification failed, but not because of the revocation"

printf '\nDemo complete: signed across accounts, verified, revoked, refused.\n'
