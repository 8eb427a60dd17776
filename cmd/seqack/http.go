package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const httpUsage = `Usage: seqack http [flags] [[ADDR]:PORT]

Serves the files of a directory over HTTP (Go's net/http FileServer) on
seqack, on a TUN device, until interrupted (Ctrl-C, SIGTERM). The address
defaults to :80, every address of seqack's, IPv4 and IPv6.

Flags:
  --dir DIR           directory to serve (default .)
` + tunFlagsUsage + `
` + tunSetupUsage + `
Example:
  sudo seqack http --kernel-addr 192.0.2.1/24 --kernel-addr 2001:db8::1/64 --dir /tmp
  curl http://192.0.2.2/        # or: curl -g 'http://[2001:db8::2]/'
`

func runHTTP(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack http", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf netFlags
	nf.register(fs)
	dir := fs.String("dir", ".", "")
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, httpUsage)
		return exitOK
	}
	addr := ":80"
	if err == nil && len(positional) > 1 {
		err = fmt.Errorf("want at most one [ADDR]:PORT, got %d arguments", len(positional))
	}
	if err == nil && len(positional) == 1 {
		addr, err = parseListenAddr(positional[0])
	}
	if err == nil {
		err = nf.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack http", args, err))
		return exitUsage
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		fmt.Fprintf(stderr, "seqack http: --dir %s: %v\n", *dir, err)
		return exitError
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := openTunNet(&nf, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seqack http: %v\n", err)
		return exitError
	}
	err = serveHTTP(ctx, n, addr, *dir, stderr)
	if cerr := n.close(lingerAtExit); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack http: %v\n", err)
		return exitError
	}
	return exitOK
}

// parseListenAddr accepts "PORT", ":PORT" or "ADDR:PORT" with ADDR an
// IP address, and returns it as Listen takes it.
func parseListenAddr(s string) (string, error) {
	if !strings.Contains(s, ":") {
		s = ":" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q: want [ADDR]:PORT, such as :8080 or 192.0.2.2:80: %w", s, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return "", fmt.Errorf("%q: %s is not an IP address (host names are not resolved)", s, host)
		}
	}
	if _, err := parsePort(port); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

// serveHTTP serves dir on addr until ctx is done, logging each request
// to stderr, then shuts the server down gracefully.
func serveHTTP(ctx context.Context, n *tunNet, addr, dir string, stderr io.Writer) error {
	ln, err := n.stack.Listen("tcp", addr)
	if err != nil {
		return err
	}
	files := http.FileServer(http.Dir(dir))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(stderr, "seqack: %s %s %s from %s\n", time.Now().Format("15:04:05.000"), r.Method, r.URL, r.RemoteAddr)
			files.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 30 * time.Second,
	}
	fmt.Fprintf(stderr, "seqack: serving %s on %s\n", dir, addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(stderr, "seqack: shutting down\n")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
