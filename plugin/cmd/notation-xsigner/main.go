// Command notation-xsigner is the xsigner notation plugin executable.
// Install it as notation-xsigner, or as
// notation-com.amazonaws.signer.notation.plugin to verify AWS Signer signatures.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/xsigner/xsigner/internal/cli"
	"github.com/xsigner/xsigner/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	p := plugin.New(
		plugin.WithName(plugin.NameForExecutable(os.Args[0])),
	)
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, p)
	stop()
	os.Exit(code)
}
