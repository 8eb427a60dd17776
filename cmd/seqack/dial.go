package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/seqack/seqack/stack"
)

const dialUsage = `Usage: seqack dial [flags] HOST:PORT

netcat on seqack: seqack, on a TUN device, connects to HOST:PORT (an IPv4
address, or an IPv6 one in brackets: [2001:db8::1]:9000), copies standard
input to the connection and what it receives to standard output. At the
end of standard input it half-closes the connection (sends its FIN) and
keeps reading; it exits once both directions are done.

Flags:
  --timeout D         give up connecting after D (default 30s)
` + tunFlagsUsage + `
` + tunSetupUsage + `
Example, with the kernel as the server:
  nc -l 9000                                               # one terminal
  echo hello | sudo seqack dial --kernel-addr 192.0.2.1/24 192.0.2.1:9000
`

func runDial(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack dial", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf netFlags
	nf.register(fs)
	timeout := fs.Duration("timeout", 30*time.Second, "")
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, dialUsage)
		return exitOK
	}
	var dst netip.AddrPort
	if err == nil && len(positional) != 1 {
		err = fmt.Errorf("want one HOST:PORT, got %d arguments", len(positional))
	}
	if err == nil {
		if dst, err = netip.ParseAddrPort(positional[0]); err != nil || dst.Port() == 0 {
			err = fmt.Errorf("%q: want an IP address and a port, such as 192.0.2.1:9000 or [2001:db8::1]:9000 (host names are not resolved)", positional[0])
		}
	}
	if err == nil && *timeout <= 0 {
		err = fmt.Errorf("--timeout %v: must be positive", *timeout)
	}
	if err == nil {
		err = nf.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack dial", args, err))
		return exitUsage
	}

	n, err := openTunNet(&nf, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seqack dial: %v\n", err)
		return exitError
	}
	err = dialOnce(n, dst, *timeout, stdin, stdout, stderr)
	if cerr := n.close(lingerAtExit); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack dial: %v\n", err)
		return exitError
	}
	return exitOK
}

// dialOnce connects to dst and runs netcat on the connection.
func dialOnce(n *tunNet, dst netip.AddrPort, timeout time.Duration, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := n.stack.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seqack: connected to %v from %v\n", c.RemoteAddr(), c.LocalAddr())
	return netcat(c.(*stack.Conn), stdin, stdout)
}
