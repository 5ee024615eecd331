# xsigner: make help lists the targets.

VERSION    ?= 0.1.0
MODULE     := github.com/xsigner/xsigner
LDFLAGS    := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
GO         ?= go
GOFLAGS_BUILD := -trimpath -ldflags "$(LDFLAGS)"
PLATFORMS  := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
FUZZTIME   ?= 20s
STATICCHECK_VERSION := v0.8.2
AWS_ALIAS  := com.amazonaws.signer.notation.plugin
SHELL_SCRIPTS := install.sh .ci/run internal/demo/demo.sh internal/tools/install-tools.sh spec/iam/profile-permissions.sh
SHA256SUM  := $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo "shasum -a 256")
# Archives are byte-for-byte reproducible with GNU tar: entries sorted, owned
# by 0:0, modes normalised, every mtime the last commit's time, and gzip
# without a name or timestamp. Other tars still work, without that promise.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
TAR_REPRO  := $(shell tar --version 2>/dev/null | grep -q 'GNU tar' && echo "--sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner --mode=a+rX,u+w,go-w")

export CGO_ENABLED := 0

.DEFAULT_GOAL := help

.PHONY: help build test unit conformance e2e bench fuzz lint package install demo clean tools

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build bin/notation-xsigner and bin/xsigner-emulator (set VERSION=x.y.z)
	$(GO) build $(GOFLAGS_BUILD) -o bin/notation-xsigner ./plugin/cmd/notation-xsigner
	$(GO) build $(GOFLAGS_BUILD) -o bin/xsigner-emulator ./internal/cmd/xsigner-emulator

test: lint unit conformance e2e ## Lint (vet, gofmt, staticcheck, shellcheck), unit tests with -race, conformance, e2e

unit: ## go vet, gofmt check and go test -race ./...
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	CGO_ENABLED=1 $(GO) test -race ./...

conformance: build ## Run spec/conformance against bin/notation-xsigner and its AWS-name alias
	@mkdir -p bin/aws-alias
	cp bin/notation-xsigner bin/aws-alias/notation-$(AWS_ALIAS)
	PLUGIN_BIN=$(CURDIR)/bin/notation-xsigner $(GO) test -count=1 ./spec/conformance/
	PLUGIN_BIN=$(CURDIR)/bin/aws-alias/notation-$(AWS_ALIAS) $(GO) test -count=1 ./spec/conformance/

# e2e runs the real notation CLI, a registry, oras, the plugin (bare binary
# and the archive of `make package`) and the emulator, each test on its own
# loopback ports; every process is killed when its test ends, failed or not.
# ./spec/... picks up e2e-tagged spec tests (the conformance tests skip here:
# no PLUGIN_BIN).
e2e: build package tools ## End-to-end tests: real notation CLI, registry, oras, plugin and emulator
	CGO_ENABLED=1 $(GO) test -race -count=1 -tags e2e ./internal/e2e/... ./spec/...

bench: ## Run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## Run every fuzz target for FUZZTIME (default 20s) each
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' plugin internal spec); do \
	  dir=$$(dirname $$f); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz ./$$dir $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./$$dir; \
	  done; \
	done

lint: ## go vet, gofmt, staticcheck (also the e2e-tagged files), shellcheck (when installed)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags e2e ./...
	@if command -v shellcheck >/dev/null 2>&1; then \
	  echo "shellcheck $(SHELL_SCRIPTS)"; shellcheck $(SHELL_SCRIPTS); \
	else echo "shellcheck not installed: skipped (apt-get install shellcheck)"; fi

package: ## Build reproducible dist/notation-xsigner_VERSION_OS_ARCH.tar.gz for linux/darwin x amd64/arm64 and dist/checksums.txt
	@set -e; mkdir -p dist; \
	for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  stage=dist/.stage-$$os-$$arch; rm -rf $$stage; mkdir -p $$stage; \
	  GOOS=$$os GOARCH=$$arch $(GO) build $(GOFLAGS_BUILD) -o $$stage/notation-xsigner ./plugin/cmd/notation-xsigner; \
	  cp LICENSE README.md $$stage/; \
	  archive=notation-xsigner_$(VERSION)_$${os}_$${arch}.tar.gz; \
	  tar $(TAR_REPRO) -cf - -C $$stage notation-xsigner LICENSE README.md | gzip -9n > dist/$$archive; \
	  rm -rf $$stage; \
	  echo "dist/$$archive"; \
	done; \
	cd dist && $(SHA256SUM) notation-xsigner_$(VERSION)_*.tar.gz > checksums.txt && cat checksums.txt

install: build ## Install bin/notation-xsigner into notation's plugin directory (install.sh)
	bash install.sh --binary bin/notation-xsigner

tools: ## Install the e2e tools (notation, oras, registry) into .tools/bin
	bash internal/tools/install-tools.sh

demo: build tools ## Offline walk-through: sign across accounts, verify, revoke, verify refused (internal/demo/demo.sh)
	@bash internal/demo/demo.sh

clean: ## Delete build outputs (bin/, dist/ archives) by name
	rm -f bin/notation-xsigner bin/xsigner-emulator bin/aws-alias/notation-$(AWS_ALIAS)
	-rmdir bin/aws-alias bin 2>/dev/null
	rm -f dist/notation-xsigner_*.tar.gz dist/checksums.txt
	-rmdir dist 2>/dev/null
