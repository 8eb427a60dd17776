package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seqack/seqack/lab"
)

const labUsage = `Usage: seqack lab [--listen ADDRESS]

Serves the lab: a page where you pick a built-in scenario or build one,
click any arrow of its sequence diagram to drop, delay, duplicate or
corrupt that segment, and see both sides' states, the RFC 9293 state
machine and why each step happened. Each change runs the engine again in
the simulator. The page needs nothing from the internet.

Flags:
  --listen ADDRESS  where to serve (default 127.0.0.1:8080; port 0 picks one)
`

func runLab(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack lab", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "127.0.0.1:8080", "")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, labUsage)
		return exitOK
	} else if err != nil {
		fmt.Fprintln(stderr, flagError("seqack lab", args, err))
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "seqack lab: unexpected argument %q\n\n%s", fs.Arg(0), labUsage)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "seqack lab: %v\n", err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveLab(ctx, ln, stdout, stderr)
}

// serveLab serves the lab on ln until ctx is done, then shuts down,
// letting runs in progress finish.
func serveLab(ctx context.Context, ln net.Listener, stdout, stderr io.Writer) int {
	srv := &http.Server{
		Handler:           lab.New(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	fmt.Fprintf(stdout, "seqack lab: open http://%s/ (Ctrl-C stops)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "seqack lab: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "seqack lab: %v\n", err)
		return exitError
	}
	return exitOK
}
