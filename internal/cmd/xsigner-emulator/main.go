// Command xsigner-emulator serves an offline, wire-faithful emulation of AWS
// STS, AWS Signer and Amazon ECR (see package emulator):
//
//	xsigner-emulator --listen 127.0.0.1:0 --world world.json [--state-dir DIR] [--registry-upstream URL]
//
// It prints its base URL (http://127.0.0.1:PORT) as the first line of
// stdout, logs one line per call to stderr (never secrets) and stops cleanly
// on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/xsigner/xsigner/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: xsigner-emulator --world FILE [--listen 127.0.0.1:0] [--state-dir DIR] [--registry-upstream URL]

Serves emulated AWS STS, AWS Signer and Amazon ECR on one HTTP endpoint. Point
clients at the printed URL, e.g. AWS_ENDPOINT_URL_STS=URL
AWS_ENDPOINT_URL_SIGNER=URL AWS_ENDPOINT_URL_ECR=URL. The same endpoint serves
the OCI registry API (/v2/) of the emulated ECR repositories, authenticated with
the ECR token and authorized by IAM; image content is stored in the real
registry given by --registry-upstream. The admin API under /_xsigner/ is
unauthenticated and answers loopback only.

Flags:
`

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("xsigner-emulator", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (host:port); port 0 picks a free port")
	worldPath := fs.String("world", "", "world file (JSON) describing accounts, users, roles and signing profiles (required)")
	stateDir := fs.String("state-dir", "", "directory that keeps CA keys and API-changed state across restarts (default: in memory)")
	registryUpstream := fs.String("registry-upstream", "", "base URL of a real OCI registry (e.g. http://127.0.0.1:5000) that stores the emulated ECR repositories' content (default: none; /v2/ answers 503 after authorizing)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --listen address (the admin API is unauthenticated)")
	help := fs.BoolP("help", "h", false, "show this help")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "xsigner-emulator: %v (see --help)\n", err)
		return 2
	}
	if *help {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, usage)
		fs.PrintDefaults()
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "xsigner-emulator: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *worldPath == "" {
		fmt.Fprintln(stderr, "xsigner-emulator: --world is required")
		return 2
	}
	if err := checkListen(*listen, *allowRemote); err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: %v\n", err)
		return 2
	}
	data, err := os.ReadFile(*worldPath)
	if err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: reading world file: %v\n", err)
		return 1
	}
	world, err := emulator.ParseWorld(data)
	if err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: %s: %v\n", *worldPath, err)
		return 1
	}
	emu, err := emulator.New(world, emulator.Options{StateDir: *stateDir, Log: stderr, RegistryUpstream: *registryUpstream})
	if err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "xsigner-emulator: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	_ = emu.Close() // release requests hung by faults so Shutdown can finish
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "xsigner-emulator: shutdown: %v\n", err)
		return 1
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "xsigner-emulator: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "xsigner-emulator: stopped")
	return 0
}

// checkListen refuses non-loopback addresses unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v (want host:port, e.g. 127.0.0.1:0)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	if !allowRemote {
		return fmt.Errorf("--listen %q is not a loopback address; the admin API is unauthenticated, so pass --allow-remote to expose it anyway", addr)
	}
	return nil
}
