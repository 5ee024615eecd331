#!/usr/bin/env bash
# install-tools.sh builds the pinned end-to-end tools (notation, registry, oras)
# into .tools/bin at the repository root.
#
# Each tool has its own tools module under internal/tools/<tool>/ (a go.mod
# with a `tool` directive and a committed go.sum), so its dependencies stay out
# of the main go.mod and minimal version selection never mixes them. The pinned
# version is the one in that go.mod; nothing else needs editing to bump it.
#
# A tool is rebuilt only when its binary is missing or its stamp file
# (.tools/stamps/<tool>.stamp) differs from what this run would build: the
# module version, the ldflags and a hash of the tools module's go.mod and go.sum.
# Needs only Go and the Go module proxy.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "${script_dir}/../.." && pwd)
bin_dir="${repo_root}/.tools/bin"
stamp_dir="${repo_root}/.tools/stamps"

# The tools modules are standalone: never let a go.work or the caller's
# GOFLAGS (e.g. -mod=mod) change how they resolve.
export GOWORK=off
export GOFLAGS=-mod=readonly

log() {
	printf 'install-tools: %s\n' "$*"
}

# module_version prints the version of module $2 required by the tools module in directory $1.
module_version() {
	(cd "$1" && go list -m -f '{{.Version}}' "$2")
}

# files_hash prints a sha256 over the tools module's go.mod and go.sum.
files_hash() {
	if command -v sha256sum >/dev/null 2>&1; then
		cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -d' ' -f1
	else # macOS
		cat "$1/go.mod" "$1/go.sum" | shasum -a 256 | cut -d' ' -f1
	fi
}

# install_tool NAME MODULE PACKAGE LDFLAGS_X builds PACKAGE from the tools module
# internal/tools/NAME into .tools/bin/NAME unless the stamp says it is current.
# LDFLAGS_X may contain {{VERSION}}, replaced by the module's pinned version.
install_tool() {
	local name=$1 module=$2 package=$3 ldflags_x=$4
	local mod_dir="${script_dir}/${name}"
	local version ldflags stamp stamp_file binary start elapsed

	version=$(module_version "${mod_dir}" "${module}")
	ldflags="-s -w ${ldflags_x//\{\{VERSION\}\}/${version}}"
	stamp="${module}@${version} ldflags=${ldflags} modsum=$(files_hash "${mod_dir}")"
	stamp_file="${stamp_dir}/${name}.stamp"
	binary="${bin_dir}/${name}"

	if [[ -x "${binary}" && -f "${stamp_file}" && "$(<"${stamp_file}")" == "${stamp}" ]]; then
		log "${name} ${version}: up to date (${binary#"${repo_root}/"})"
		return 0
	fi

	if [[ ! -x "${binary}" ]]; then
		log "${name} ${version}: not installed, building"
	else
		log "${name} ${version}: stamp differs, rebuilding"
	fi
	start=${SECONDS}
	# Build to a temporary name and rename, so an interrupted build never
	# leaves a half-written binary that a later run would take as current.
	(cd "${mod_dir}" && go build -trimpath -ldflags "${ldflags}" -o "${binary}.tmp" "${package}")
	mv -f "${binary}.tmp" "${binary}"
	printf '%s\n' "${stamp}" >"${stamp_file}"
	elapsed=$((SECONDS - start))
	log "${name} ${version}: built in ${elapsed}s (${binary#"${repo_root}/"})"
}

command -v go >/dev/null 2>&1 || {
	log "error: go not found on PATH"
	exit 1
}
mkdir -p "${bin_dir}" "${stamp_dir}"

# notation reports "v1.3.2+unreleased" unless BuildMetadata is emptied.
install_tool notation github.com/notaryproject/notation \
	github.com/notaryproject/notation/cmd/notation \
	"-X github.com/notaryproject/notation/internal/version.BuildMetadata="
# registry reports "v3.1.2+unknown" unless its version is set.
install_tool registry github.com/distribution/distribution/v3 \
	github.com/distribution/distribution/v3/cmd/registry \
	"-X github.com/distribution/distribution/v3/version.version={{VERSION}}"
install_tool oras oras.land/oras \
	oras.land/oras/cmd/oras \
	""
