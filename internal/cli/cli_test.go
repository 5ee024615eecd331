package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/plugin"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"help", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Run(t.Context(), append([]string{"notation-xsigner"}, args...), strings.NewReader(""), &stdout, &stderr, plugin.New())
			if code != 0 || stderr.Len() != 0 {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr.String())
			}
			out := stdout.String()
			for _, k := range config.Keys {
				for _, want := range append([]string{k.Name, k.Env, k.Doc, k.Example}, k.Aliases...) {
					if !strings.Contains(out, want) {
						t.Errorf("help lacks %q (key %s)", want, k.Name)
					}
				}
			}
			for _, want := range []string{"Examples:", "get-plugin-metadata", "notation-xsigner <command>"} {
				if !strings.Contains(out, want) {
					t.Errorf("help lacks %q", want)
				}
			}
		})
	}
}

func TestHelpNamesAliasExecutable(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	Run(t.Context(), []string{"x", "help"}, nil, &stdout, &bytes.Buffer{}, plugin.New(plugin.WithName(plugin.AWSPluginName)))
	if !strings.Contains(stdout.String(), "notation-com.amazonaws.signer.notation.plugin <command>") {
		t.Errorf("help does not name the alias executable:\n%s", stdout.String())
	}
}

func TestNoArgsUsageOnStderr(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"notation-xsigner"}, nil, &stdout, &stderr, plugin.New())
	if code == 0 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "Usage") {
		t.Errorf("exit %d, stdout %q, stderr %.40q; want non-zero, empty stdout, usage on stderr", code, stdout.String(), stderr.String())
	}
}

func TestHelpRejectsExtraArgs(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help", "extra"}, {"help", "--bogus"}} {
		var stdout, stderr bytes.Buffer
		code := Run(t.Context(), append([]string{"notation-xsigner"}, args...), nil, &stdout, &stderr, plugin.New())
		if code == 0 || stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want non-zero, empty stdout, an error", args, code, stdout.String(), stderr.String())
		}
	}
}
