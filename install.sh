#!/usr/bin/env bash
# install.sh: install the xsigner notation plugin (notation-xsigner).
# Run ./install.sh --help for usage.
set -euo pipefail

readonly PLUGIN_NAME="xsigner"
readonly AWS_PLUGIN_NAME="com.amazonaws.signer.notation.plugin"
readonly MODULE="github.com/xsigner/xsigner"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly REPO_DIR

usage() {
	cat <<USAGE
Usage: ./install.sh [--binary PATH] [--as-aws-plugin] [--help]

Installs the xsigner notation plugin into notation's plugin directory:
  \$NOTATION_LIBEXEC/plugins                             when NOTATION_LIBEXEC is set
  \${XDG_CONFIG_HOME:-~/.config}/notation/plugins         on Linux
  ~/Library/Application Support/notation/plugins         on macOS
as <dir>/xsigner/notation-xsigner. When notation is on PATH the plugin is
installed with 'notation plugin install --file --force'; otherwise it is copied.
Running it again replaces the installed copy.

Options:
  --binary PATH     install this executable instead of building from source
                    (building needs Go >= the version in go.mod)
  --as-aws-plugin   also install it as com.amazonaws.signer.notation.plugin, the
                    name real AWS Signer signatures ask for at verification
  -h, --help        show this help

Environment: VERSION sets the version of a source build (default 0.1.0).
USAGE
}

info() { printf 'install.sh: %s\n' "$*"; }
fatal() {
	printf 'install.sh: error: %s\n' "$*" >&2
	exit 1
}

binary=""
as_aws=0
while [ $# -gt 0 ]; do
	case "$1" in
	--binary)
		[ $# -ge 2 ] || fatal "--binary needs a path"
		binary="$2"
		shift 2
		;;
	--binary=*)
		binary="${1#--binary=}"
		shift
		;;
	--as-aws-plugin)
		as_aws=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		fatal "unknown argument: $1"
		;;
	esac
done

workdir="$(mktemp -d "${TMPDIR:-/tmp}/xsigner-install.XXXXXX")"
cleanup() { rm -rf "$workdir"; }
trap cleanup EXIT INT TERM

plugin_root() {
	if [ -n "${NOTATION_LIBEXEC:-}" ]; then
		printf '%s/plugins\n' "$NOTATION_LIBEXEC"
		return
	fi
	case "$(uname -s)" in
	Darwin)
		# notation uses Go's os.UserConfigDir, which ignores XDG_CONFIG_HOME on macOS.
		[ -n "${HOME:-}" ] || fatal "HOME is not set"
		printf '%s/Library/Application Support/notation/plugins\n' "$HOME"
		;;
	Linux | *BSD)
		if [ -n "${XDG_CONFIG_HOME:-}" ]; then
			printf '%s/notation/plugins\n' "$XDG_CONFIG_HOME"
		else
			[ -n "${HOME:-}" ] || fatal "neither XDG_CONFIG_HOME nor HOME is set"
			printf '%s/.config/notation/plugins\n' "$HOME"
		fi
		;;
	*) fatal "unsupported system $(uname -s); install by hand (see README.md)" ;;
	esac
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
	local IFS=.
	local -a a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	local i
	for i in 0 1 2; do
		local x="${a[i]:-0}" y="${b[i]:-0}"
		if ((10#$x > 10#$y)); then return 0; fi
		if ((10#$x < 10#$y)); then return 1; fi
	done
	return 0
}

build_from_source() {
	command -v go >/dev/null 2>&1 || fatal "go is not on PATH: install Go or pass --binary PATH"
	[ -f "$REPO_DIR/go.mod" ] || fatal "no go.mod next to install.sh: run it from the xsigner source tree or pass --binary"
	local want have
	want="$(awk '$1 == "go" { print $2; exit }' "$REPO_DIR/go.mod")"
	have="$(go env GOVERSION)"
	have="${have#go}"
	have="${have%%[!0-9.]*}"
	[ -n "$want" ] || fatal "cannot read the Go version from go.mod"
	version_ge "$have" "$want" || fatal "Go $have is too old: go.mod needs Go >= $want"
	info "building notation-xsigner with Go $have"
	(cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X $MODULE/internal/version.Version=${VERSION:-0.1.0}" \
		-o "$workdir/build/notation-xsigner" ./plugin/cmd/notation-xsigner)
	binary="$workdir/build/notation-xsigner"
}

# install_as NAME: install $binary as plugin NAME; prints the installed path.
install_as() {
	local name="$1" stage dir target
	stage="$workdir/stage-$name"
	mkdir -p "$stage"
	cp "$binary" "$stage/notation-$name"
	chmod 0755 "$stage/notation-$name"
	dir="$(plugin_root)/$name"
	target="$dir/notation-$name"
	if command -v notation >/dev/null 2>&1; then
		info "notation plugin install --file $stage/notation-$name --force" >&2
		notation plugin install --file "$stage/notation-$name" --force >&2
	else
		mkdir -p "$dir"
		cp "$stage/notation-$name" "$dir/.notation-$name.tmp"
		chmod 0755 "$dir/.notation-$name.tmp"
		mv -f "$dir/.notation-$name.tmp" "$target"
		info "copied to $target" >&2
	fi
	[ -x "$target" ] || fatal "expected $target after installing; is NOTATION_LIBEXEC or XDG_CONFIG_HOME set differently for notation?"
	printf '%s\n' "$target"
}

if [ -n "$binary" ]; then
	[ -f "$binary" ] || fatal "--binary $binary: no such file"
	[ -x "$binary" ] || fatal "--binary $binary: not executable"
else
	build_from_source
fi

names=("$PLUGIN_NAME")
[ "$as_aws" -eq 1 ] && names+=("$AWS_PLUGIN_NAME")
for name in "${names[@]}"; do
	target="$(install_as "$name")"
	info "installed $target; its metadata:"
	printf '{}' | "$target" get-plugin-metadata
	printf '\n'
done
