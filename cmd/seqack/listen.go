package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seqack/seqack/stack"
)

const listenUsage = `Usage: seqack listen [flags] PORT

netcat on seqack: seqack, on a TUN device, accepts one TCP connection on
PORT (IPv4 and IPv6), copies standard input to it and what it receives to
standard output. At the end of standard input it half-closes the
connection (sends its FIN) and keeps reading; it exits once both
directions are done.

Flags:
` + tunFlagsUsage + `
` + tunSetupUsage + `
Example, with the kernel as the client:
  sudo seqack listen --kernel-addr 192.0.2.1/24 9000      # one terminal
  echo hello | nc -N 192.0.2.2 9000                       # another
`

// lingerAtExit is how long a command waits, before it exits, for its
// connections to finish closing.
const lingerAtExit = 5 * time.Second

func runListen(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack listen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf netFlags
	nf.register(fs)
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, listenUsage)
		return exitOK
	}
	var port uint16
	if err == nil && len(positional) != 1 {
		err = fmt.Errorf("want one PORT, got %d arguments", len(positional))
	}
	if err == nil {
		port, err = parsePort(positional[0])
	}
	if err == nil {
		err = nf.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack listen", args, err))
		return exitUsage
	}

	n, err := openTunNet(&nf, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seqack listen: %v\n", err)
		return exitError
	}
	err = listenOnce(n, port, stdin, stdout, stderr)
	if cerr := n.close(lingerAtExit); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack listen: %v\n", err)
		return exitError
	}
	return exitOK
}

// listenOnce accepts one connection on port and runs netcat on it.
func listenOnce(n *tunNet, port uint16, stdin io.Reader, stdout, stderr io.Writer) error {
	ln, err := n.stack.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seqack: listening on port %d\n", port)
	c, err := ln.Accept()
	// One connection, as nc -l: later SYNs are refused.
	ln.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "seqack: connection from %v\n", c.RemoteAddr())
	return netcat(c.(*stack.Conn), stdin, stdout)
}

// netcat copies stdin to conn and conn to stdout at once. At the end of
// stdin it half-closes conn (CloseWrite sends a FIN, RFC 9293 §3.6) and
// goes on receiving. It returns when both directions are done, or at
// once if receiving fails (the peer reset the connection), since stdin
// may never end.
func netcat(conn *stack.Conn, stdin io.Reader, stdout io.Writer) error {
	defer conn.Close()
	sent := make(chan error, 1)
	received := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stdin)
		if err != nil {
			err = fmt.Errorf("sending: %w", err)
		} else if err = conn.CloseWrite(); err != nil {
			err = fmt.Errorf("half-close: %w", err)
		}
		sent <- err
	}()
	go func() {
		_, err := io.Copy(stdout, conn)
		if err != nil {
			err = fmt.Errorf("receiving: %w", err)
		}
		received <- err
	}()
	if err := <-received; err != nil {
		return err
	}
	return <-sent
}
