// Package workload holds the workloads that seqack's benchmarks measure:
// bulk transfer, connection setup and teardown, and the memory an idle
// connection costs. Each runs against a Net, so the very same code
// measures seqack (two stacks over an in-memory pipe) and the kernel
// (Go's net over loopback); quoting one against the other is only fair
// if nothing but the stack differs.
//
// Every workload gives up with an error rather than hang: a stack under
// test may lose a segment or deadlock, and a benchmark that never
// returns tells nobody which.
package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// Timeout bounds every wait a workload makes that should take
// milliseconds: a dial, a one-byte exchange, a spell with no bytes
// delivered. It is generous because seqack's first SYN retransmission
// comes after a second, and a loaded machine may need it; it is finite
// so that a stuck stack ends the run with an error.
const Timeout = 10 * time.Second

// chunk is the size of each Write in Bulk: large enough that the cost
// measured is the stack's, not the system call's or the Write's.
const chunk = 64 << 10

// Net is a network to run workloads on: a way to listen, a way to dial,
// and the address to listen on.
type Net struct {
	// Listen listens as net.Listen does.
	Listen func(network, addr string) (net.Listener, error)
	// Dial connects as net.Dial does. It must give up after a bounded
	// time (see Timeout), since a workload cannot cancel it.
	Dial func(network, addr string) (net.Conn, error)
	// Addr is the address to listen on. It must name a host, not only a
	// port, because workloads dial the listener's Addr: ":80" would
	// yield the unspecified address.
	Addr string
	// ListenPacket opens a UDP socket as net.ListenPacket does, for
	// Datagrams; nil where the Net has no UDP.
	ListenPacket func(network, addr string) (net.PacketConn, error)
}

// Seqack returns a Net of two seqack stacks joined by a pipe with the
// given MTU: the server at 192.0.2.2, the client at 192.0.2.1. The
// returned function closes both stacks.
func Seqack(mtu int) (Net, func()) { return SeqackWith(mtu, stack.Options{}) }

// SeqackWith is Seqack with both stacks made with opts.
func SeqackWith(mtu int, opts stack.Options) (Net, func()) {
	a, b := pipe.New(mtu)
	// Memory does not flip bits: like the kernel over loopback, the
	// stacks skip TCP checksums here.
	a.SetChecksumOffload(true)
	b.SetChecksumOffload(true)
	client := stack.New(opts)
	server := stack.New(opts)
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	n := Net{
		Listen: server.Listen,
		Dial: func(network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			defer cancel()
			return client.DialContext(ctx, network, addr)
		},
		Addr: "192.0.2.2:80",
		ListenPacket: func(network, addr string) (net.PacketConn, error) {
			c, err := server.ListenPacket(network, addr)
			if err != nil {
				return nil, err // not a nil *UDPConn in a non-nil interface
			}
			return c, nil
		},
	}
	return n, func() { client.Close(); server.Close() }
}

// Kernel returns a Net of Go's net package over the 127.0.0.1 loopback,
// the baseline seqack is quoted against.
func Kernel() Net {
	d := &net.Dialer{Timeout: Timeout}
	return Net{Listen: net.Listen, Dial: d.Dial, Addr: "127.0.0.1:0", ListenPacket: net.ListenPacket}
}

// Bulk sends over one connection for d, 64 KiB per Write, while the
// server discards, and returns the throughput in bytes per second as the
// receiver saw it: bytes received over the time from accepting to the
// end of the stream. Measuring at the receiver counts only bytes that
// crossed, not bytes queued in a send buffer when the clock stopped.
func Bulk(n Net, d time.Duration) (bytesPerSec float64, err error) {
	var end time.Time
	more := func() bool {
		// The clock starts at the first write, so the dial does not eat
		// into d.
		if end.IsZero() {
			end = time.Now().Add(d)
		}
		return time.Now().Before(end)
	}
	bytes, elapsed, err := bulk(n, more)
	if err != nil {
		return 0, err
	}
	return float64(bytes) / elapsed.Seconds(), nil
}

// bulk is Bulk with the stopping rule left to the caller: more is called
// before each write, on one goroutine. It returns the bytes received and
// the receiver's elapsed time.
func bulk(n Net, more func() bool) (bytes int64, elapsed time.Duration, err error) {
	ln, err := n.Listen("tcp", n.Addr)
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()

	type result struct {
		bytes   int64
		elapsed time.Duration
		err     error
	}
	received := make(chan result, 1)
	var (
		mu       sync.Mutex
		conns    []net.Conn
		stalled  atomic.Bool
		listener = ln
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	// A watchdog rather than a deadline per Read and Write: setting
	// deadlines costs system calls on the kernel and would be part of
	// what is measured. The sender feeds the watchdog after every
	// write; if either side stops, the sender's writes stop completing,
	// and the watchdog unblocks both ends.
	watchdog := time.AfterFunc(Timeout, func() {
		stalled.Store(true)
		listener.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.SetDeadline(time.Unix(1, 0))
		}
	})
	defer watchdog.Stop()

	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- result{err: fmt.Errorf("accept: %w", err)}
			return
		}
		defer c.Close()
		track(c)
		start := time.Now()
		n, err := io.Copy(io.Discard, c)
		received <- result{n, time.Since(start), err}
	}()

	conn, err := n.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-received
		return 0, 0, err
	}
	track(conn)
	data := make([]byte, chunk)
	var werr error
	for more() {
		if _, werr = conn.Write(data); werr != nil {
			break
		}
		watchdog.Reset(Timeout)
	}
	conn.Close()
	r := <-received
	switch {
	case stalled.Load():
		return 0, 0, fmt.Errorf("bulk: no progress for %v", Timeout)
	case werr != nil:
		return 0, 0, fmt.Errorf("bulk: write: %w", werr)
	case r.err != nil:
		return 0, 0, fmt.Errorf("bulk: read: %w", r.err)
	case r.bytes == 0:
		return 0, 0, errors.New("bulk: no bytes received")
	}
	return r.bytes, r.elapsed, nil
}

// Handshake opens, uses and closes connections for d and returns the
// connections completed per second. Each connection dials, writes one
// byte, reads the server's one-byte echo and closes; the server closes
// after echoing. Four dialers run at once so that neither side waits
// idle for the other, as a busy server's clients would not.
//
// The server closes first, so the TIME_WAITs are the server's and the
// client's ephemeral ports come free at once. Should the ports run out
// anyway, Dial fails and so does Handshake.
func Handshake(n Net, d time.Duration) (connsPerSec float64, err error) {
	end := time.Now().Add(d)
	count, elapsed, err := handshake(n, 4, func() bool { return time.Now().Before(end) })
	if err != nil {
		return 0, err
	}
	return float64(count) / elapsed.Seconds(), nil
}

// handshake is Handshake with the stopping rule left to the caller: more
// is called before each connection but a dialer's first, concurrently
// from the dialers. It
// returns the connections completed and the time they took.
func handshake(n Net, dialers int, more func() bool) (count int64, elapsed time.Duration, err error) {
	ln, err := n.Listen("tcp", n.Addr)
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	addr := ln.Addr().String()

	// The server: a goroutine per connection, as a Go server has. Each
	// one's deadline bounds it, so waiting for them cannot hang.
	var served sync.WaitGroup
	defer served.Wait()
	served.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			served.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(Timeout))
				var b [1]byte
				if _, err := io.ReadFull(c, b[:]); err == nil {
					c.Write(b[:])
				}
			})
		}
	})

	var (
		done     atomic.Int64
		failed   atomic.Bool
		firstErr error
		errOnce  sync.Once
		clients  sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	start := time.Now()
	for range dialers {
		clients.Go(func() {
			var b [1]byte
			// Each dialer makes at least one connection, so that a
			// measurement whose time ran out while the listener was set
			// up on a loaded machine still measures something.
			for first := true; !failed.Load() && (first || more()); first = false {
				c, err := n.Dial("tcp", addr)
				if err != nil {
					fail(fmt.Errorf("handshake: %w", err))
					return
				}
				c.SetDeadline(time.Now().Add(Timeout))
				b[0] = 'x'
				_, err = c.Write(b[:])
				if err == nil {
					_, err = io.ReadFull(c, b[:])
				}
				c.Close()
				if err != nil {
					fail(fmt.Errorf("handshake: echo: %w", err))
					return
				}
				done.Add(1)
			}
		})
	}
	clients.Wait()
	elapsed = time.Since(start)
	ln.Close()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	if done.Load() == 0 {
		return 0, 0, errors.New("handshake: no connection completed")
	}
	return done.Load(), elapsed, nil
}

// IdleHeap opens conns connections and returns the Go heap each
// ESTABLISHED connection end holds while idle: the live heap after
// opening them less the live heap before, over 2×conns ends (client and
// server). No goroutine reads any of them, since a blocked reader's
// stack and wake-up machinery would be counted as the connection's;
// what is left is what an idle connection is. All are closed before
// IdleHeap returns.
//
// For the kernel only Go's side is visible (a file descriptor and its
// poller entry); its socket buffers are not in the Go heap.
func IdleHeap(n Net, conns int) (bytesPerConnEnd float64, err error) {
	if conns <= 0 {
		return 0, fmt.Errorf("idle heap: %d connections", conns)
	}
	ln, err := n.Listen("tcp", n.Addr)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr := ln.Addr().String()

	// Both slices are allocated before the first measurement, so that
	// their backing arrays are not counted as the connections'.
	dialed := make([]net.Conn, 0, conns)
	accepted := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range dialed {
			c.Close()
		}
		for _, c := range accepted {
			c.Close()
		}
	}()

	before := liveHeap()
	// One goroutine accepts them all: the listener's backlog is smaller
	// than conns, and a full accept queue would turn SYNs away.
	acceptErr := make(chan error, 1)
	go func() {
		for len(accepted) < conns {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- fmt.Errorf("idle heap: accept: %w", err)
				return
			}
			accepted = append(accepted, c)
		}
		acceptErr <- nil
	}()
	for range conns {
		c, err := n.Dial("tcp", addr)
		if err != nil {
			ln.Close()
			<-acceptErr
			return 0, fmt.Errorf("idle heap: %w", err)
		}
		dialed = append(dialed, c)
	}
	select {
	case err := <-acceptErr:
		if err != nil {
			return 0, err
		}
	case <-time.After(Timeout):
		ln.Close()
		<-acceptErr
		return 0, fmt.Errorf("idle heap: %d of %d connections accepted after %v", len(accepted), conns, Timeout)
	}
	after := liveHeap()
	return float64(int64(after)-int64(before)) / float64(2*conns), nil
}

// liveHeap returns the bytes of heap objects that survive a full
// collection, once they stop shrinking. One collection is not enough:
// what an earlier workload left behind, such as a closed stack whose
// goroutines are still on their way out, stays reachable until those
// goroutines end, and freeing megabytes between the two measurements
// would swamp the connections' kilobytes. So it collects until a
// collection frees next to nothing, for at most half a second.
func liveHeap() uint64 {
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	h := heap()
	for range 50 {
		time.Sleep(10 * time.Millisecond)
		next := heap()
		if next+settled >= h {
			return next
		}
		h = next
	}
	return h
}

// settled is the shrinkage between two collections below which liveHeap
// takes the heap to have settled: small beside the thousands of
// connections measured, large beside the runtime's own churn.
const settled = 4 << 10
