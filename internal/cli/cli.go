// Package cli is the notation-xsigner command dispatcher. Protocol commands
// (get-plugin-metadata, generate-envelope, verify-signature, ...) and
// `version` go to notation-plugin-framework-go unchanged; help and the other
// non-protocol subcommands (a table, so later ones such as doctor plug in)
// are parsed here with pflag.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	fwcli "github.com/notaryproject/notation-plugin-framework-go/cli"
	"github.com/spf13/pflag"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/version"
	"github.com/xsigner/xsigner/plugin"
)

// Streams are the standard streams of a non-protocol subcommand.
type Streams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Command is a non-protocol subcommand.
type Command struct {
	// Name is the first argument that selects the command.
	Name string
	// Summary is the one-line description shown in help.
	Summary string
	// Run runs the command with the arguments after its name and returns the
	// process exit code.
	Run func(ctx context.Context, args []string, s Streams, p *plugin.Plugin) int
}

// commands is the table of non-protocol subcommands. Add new ones here.
func commands() []Command {
	return []Command{
		{Name: "help", Summary: "Show this help (also --help, -h).", Run: runHelp},
	}
}

// Run runs notation-xsigner with args (args[0] is the executable path) and
// returns the exit code.
//
// help, --help and -h print usage to stdout and exit 0. With no arguments the
// usage goes to stderr and the exit code is 1, so nothing ever reads a
// non-protocol answer from stdout. Registered subcommands use the given
// streams. Everything else, protocol commands and `version` included, is
// handed to the framework's CLI, which reads os.Stdin, writes os.Stdout and
// os.Stderr, and calls os.Exit(1) on failure: that path returns 0 only on
// success and is tested through the built binary.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, p *plugin.Plugin) int {
	s := Streams{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) < 2 {
		writeUsage(stderr, p)
		return 1
	}
	sub := args[1]
	if sub == "--help" || sub == "-h" {
		sub = "help"
	}
	for _, c := range commands() {
		if c.Name == sub {
			return c.Run(ctx, args[2:], s, p)
		}
	}
	fw, err := fwcli.New(p)
	if err != nil {
		fmt.Fprintf(stderr, "notation-xsigner: %v\n", err)
		return 1
	}
	fw.Execute(ctx, args)
	return 0
}

func runHelp(_ context.Context, args []string, s Streams, p *plugin.Plugin) int {
	fs := pflag.NewFlagSet("help", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolP("help", "h", false, "show help")
	if err := fs.Parse(args); err != nil && !errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintf(s.Stderr, "notation-xsigner help: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.Stderr, "notation-xsigner help: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	writeUsage(s.Stdout, p)
	return 0
}

func writeUsage(w io.Writer, p *plugin.Plugin) {
	exe := "notation-" + p.PluginName()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: a Notary Project notation plugin that signs and verifies with AWS Signer,\n", exe, version.Get())
	b.WriteString("across AWS accounts (assumes an IAM role with STS, then calls Signer).\n\n")
	b.WriteString("notation runs this program; you normally do not. Usage:\n\n")
	fmt.Fprintf(&b, "  %s <command>\n\n", exe)
	b.WriteString("Protocol commands (request JSON on stdin, response JSON on stdout):\n")
	b.WriteString("  get-plugin-metadata, generate-envelope, verify-signature\n")
	b.WriteString("  version           Print name, description and version.\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-17s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nConfiguration: notation --plugin-config KEY=VALUE, or the environment variable\n")
	b.WriteString("(pluginConfig wins). notation -d prints pluginConfig, so keep anything sensitive\n")
	b.WriteString("in the environment. Unknown keys are rejected.\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tENVIRONMENT\tDEFAULT")
	for _, k := range config.Keys {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.Name, k.Env, k.Default)
	}
	_ = tw.Flush()
	b.WriteString("\n")
	for _, k := range config.Keys {
		fmt.Fprintf(&b, "  %s", k.Name)
		if len(k.Aliases) > 0 {
			fmt.Fprintf(&b, " (alias %s)", strings.Join(k.Aliases, ", "))
		}
		fmt.Fprintf(&b, "\n      %s\n      Example: %s=%s\n", k.Doc, k.Name, k.Example)
	}
	b.WriteString(`
Examples:
  notation key add signer --plugin xsigner \
    --id arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile \
    --plugin-config role-arn=arn:aws:iam::111122223333:role/xsigner-signer
  notation sign --key signer registry.example.com/app@sha256:...
  XSIGNER_EXTERNAL_ID=... notation sign --key signer registry.example.com/app@sha256:...
  notation verify registry.example.com/app@sha256:...
`)
	_, _ = io.WriteString(w, b.String())
}
