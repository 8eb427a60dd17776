package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/seqack/seqack/stack"
)

const forwardUsage = `Usage: seqack forward [flags]

A transparent proxy: seqack, on a TUN device, takes every TCP connection
and UDP flow the kernel routes into the device, whatever its destination,
and relays it to that destination with the host's own sockets (net.Dial),
until interrupted (Ctrl-C, SIGTERM). A connection the destination refuses
is refused (RST); one it does not answer gets no answer either. UDP flows
end after --udp-idle without a datagram.

Route what is to be proxied into the device, and make sure seqack's own
sockets are not routed there too: run seqack in another network namespace
than the programs whose traffic it relays (move the device there with
ip link set DEV netns NS), or mark its sockets (--mark) and give the mark
a route of its own (ip rule add fwmark MARK lookup TABLE).

Flags:
  --udp-idle D        close a UDP flow after D without a datagram (default 60s)
  --max-pending N     handshakes waiting for their upstream dial (default 1024);
                      past it, SYNs are answered with SYN cookies
  --dial-timeout D    give up an upstream dial after D (default 10s)
  --mark N            set SO_MARK N on the upstream sockets (Linux, needs
                      CAP_NET_ADMIN), for a policy route that keeps them
                      out of the device
  -v                  log every flow on stderr
` + tunFlagsUsage + `
Example, relaying 203.0.113.0/24 for programs in namespace "client":
  sudo seqack forward --tun sq0 &
  sudo ip link set sq0 netns client
  sudo ip -n client addr add 192.0.2.1/24 dev sq0
  sudo ip -n client link set sq0 up
  sudo ip -n client route add 203.0.113.0/24 dev sq0
  sudo ip netns exec client curl http://203.0.113.5/
`

func runForward(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack forward", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf netFlags
	nf.register(fs)
	var r relay
	fs.DurationVar(&r.udpIdle, "udp-idle", stack.DefaultForwardUDPIdleAfter, "")
	fs.IntVar(&r.maxPending, "max-pending", stack.DefaultForwardMaxInFlight, "")
	fs.DurationVar(&r.dialTimeout, "dial-timeout", 10*time.Second, "")
	fs.BoolVar(&r.verbose, "v", false, "")
	fs.IntVar(&r.mark, "mark", 0, "")
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, forwardUsage)
		return exitOK
	}
	switch {
	case err != nil:
	case len(positional) > 0:
		err = fmt.Errorf("want no arguments, got %d", len(positional))
	case r.udpIdle <= 0 || r.dialTimeout <= 0:
		err = errors.New("--udp-idle and --dial-timeout must be positive")
	case r.maxPending <= 0:
		err = errors.New("--max-pending must be positive")
	case r.mark < 0 || r.mark > 1<<32-1:
		err = fmt.Errorf("--mark %d: want 0 to %d", r.mark, uint32(1<<32-1))
	default:
		err = nf.check()
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack forward", args, err))
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := openTunNet(&nf, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "seqack forward: %v\n", err)
		return exitError
	}
	r.log = stderr
	r.start(n.stack)
	fmt.Fprintf(stderr, "seqack: forwarding every TCP connection and UDP flow on %s to the host's sockets\n", n.dev.Name())
	<-ctx.Done()
	fmt.Fprintf(stderr, "seqack: shutting down\n")
	r.stop()
	if err := n.close(lingerAtExit); err != nil {
		fmt.Fprintf(stderr, "seqack forward: %v\n", err)
		return exitError
	}
	return exitOK
}

// relay joins the flows a stack's forwarders hand over to the host's
// own sockets: each TCP connection to one net.Dial'd to its original
// destination, each UDP flow to a connected UDP socket.
type relay struct {
	udpIdle     time.Duration
	maxPending  int
	dialTimeout time.Duration
	verbose     bool
	mark        int // SO_MARK of the upstream sockets; 0: none
	log         io.Writer

	logMu  sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc // ends the dials under way
}

// start turns the stack's forwarders on, relaying to the host.
func (r *relay) start(s *stack.Stack) {
	r.ctx, r.cancel = context.WithCancel(context.Background())
	s.SetTCPForwarder(stack.TCPForwarder{Handler: r.tcp, MaxInFlight: r.maxPending, Decision: r.dialTimeout + time.Second})
	s.SetUDPForwarder(stack.UDPForwarder{Handler: r.udp, MaxInFlight: r.maxPending, Decision: r.dialTimeout + time.Second, IdleTimeout: r.udpIdle})
}

// stop cancels the dials under way; the stack's Close ends the flows
// themselves.
func (r *relay) stop() { r.cancel() }

// dialer returns the dialer of the upstream sockets.
func (r *relay) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: r.dialTimeout}
	if r.mark != 0 {
		d.Control = markControl(r.mark)
	}
	return d
}

// logf writes a line on the log if -v was given.
func (r *relay) logf(format string, args ...any) {
	if !r.verbose {
		return
	}
	r.logMu.Lock()
	fmt.Fprintf(r.log, "seqack: "+format+"\n", args...)
	r.logMu.Unlock()
}

// tcp dials the request's original destination, then accepts it (or
// refuses it if the destination refused, or drops it if it did not
// answer) and copies both ways.
func (r *relay) tcp(req *stack.TCPForwardRequest) {
	ctx, cancel := context.WithTimeout(r.ctx, r.dialTimeout)
	defer cancel()
	up, err := r.dialer().DialContext(ctx, "tcp", req.LocalAddr().String())
	if err != nil {
		r.logf("tcp %v -> %v: %v", req.RemoteAddr(), req.LocalAddr(), err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			req.Refuse()
		} else {
			req.Drop()
		}
		return
	}
	down, err := req.Accept(ctx)
	if err != nil {
		up.Close()
		r.logf("tcp %v -> %v: %v", req.RemoteAddr(), req.LocalAddr(), err)
		return
	}
	r.logf("tcp %v -> %v", req.RemoteAddr(), req.LocalAddr())
	splice(down, up.(*net.TCPConn))
}

// halfCloser is a connection that can send its FIN and keep reading.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// splice copies a to b and b to a, passing on each direction's end as a
// half-close, and closes both when both directions are done.
func splice(a, b halfCloser) {
	var wg sync.WaitGroup
	wg.Add(2)
	pass := func(dst, src halfCloser) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil {
			// A reset or an error: the other side is reset too (SetLinger 0
			// on close), rather than seeing a clean end of stream.
			if l, ok := dst.(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0)
			}
			dst.Close()
			src.Close()
			return
		}
		dst.CloseWrite()
	}
	go pass(a, b)
	go pass(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}

// udp opens a connected UDP socket of the host's to the flow's original
// destination, accepts the flow and copies datagrams both ways until the
// flow is idle.
func (r *relay) udp(req *stack.UDPForwardRequest) {
	up, err := r.dialer().DialContext(r.ctx, "udp", req.LocalAddr().String())
	if err != nil {
		r.logf("udp %v -> %v: %v", req.RemoteAddr(), req.LocalAddr(), err)
		req.Refuse()
		return
	}
	down, err := req.Accept()
	if err != nil {
		up.Close()
		return
	}
	r.logf("udp %v -> %v", req.RemoteAddr(), req.LocalAddr())
	// The flow closes itself when idle; its reader then closes up,
	// which ends the other reader.
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					continue // an ICMP error for an earlier datagram: keep relaying
				}
				down.Close()
				return
			}
			if _, err := down.Write(buf[:n]); err != nil && errors.Is(err, net.ErrClosed) {
				up.Close()
				return
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, err := down.Read(buf)
		if err != nil {
			up.Close()
			return
		}
		up.Write(buf[:n])
	}
}
