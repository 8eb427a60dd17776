package stack_test

import (
	"crypto/sha256"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// Packets made in place in the send queue's shared buffers (MTU 65535)
// survive a link that drops, duplicates, corrupts and reorders them,
// both ways at once: every byte arrives intact, packets were framed and
// segments resent, and once both ends are closed no shared buffer is
// held, even those of packets the link dropped without recycling them
// (the garbage collector takes those).
func TestFramedPacketsOverBadLink(t *testing.T) {
	sharedBefore := link.SharedBuffersInUse()
	a, b := pipe.New(65535)
	cfg := &tcp.Config{InitialRTO: 20 * time.Millisecond, MinRTO: 10 * time.Millisecond, MSL: 10 * time.Millisecond}
	client, server := stack.New(stack.Options{TCP: cfg}), stack.New(stack.Options{TCP: cfg})
	// Mostly delivered; now and then dropped (1), duplicated (2),
	// corrupted (3) or held back behind the next packet (4).
	plan := []byte{0, 0, 1, 0, 0, 2, 0, 0, 0, 4, 0, 0, 3, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0}
	client.AddInterface(&mutatingLink{Endpoint: a, plan: plan}, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(&mutatingLink{Endpoint: b, plan: append([]byte{0, 0, 0}, plan...)}, netip.MustParsePrefix("192.0.2.2/24"))
	c, s := dialPair(t, client, server, 7)
	deadline := time.Now().Add(time.Minute)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)

	const size = 8 << 20
	up, down := make([]byte, size), make([]byte, size)
	for i := range up {
		up[i], down[i] = byte(i*7/3), byte(i*5/11)
	}
	var wg sync.WaitGroup
	var gotUp, gotDown [32]byte
	var errUp, errDown error
	transfer := func(from, to *stack.Conn, data []byte, sum *[32]byte, errp *error) {
		defer wg.Done()
		go func() {
			for p := data; len(p) > 0; p = p[min(len(p), 100<<10):] {
				if _, err := from.Write(p[:min(len(p), 100<<10)]); err != nil {
					return
				}
			}
			from.CloseWrite()
		}()
		h := sha256.New()
		n, err := io.Copy(h, to)
		if err == nil && n != int64(len(data)) {
			err = io.ErrUnexpectedEOF
		}
		*errp = err
		copy(sum[:], h.Sum(nil))
	}
	wg.Add(2)
	go transfer(c, s, up, &gotUp, &errUp)
	go transfer(s, c, down, &gotDown, &errDown)
	wg.Wait()
	if errUp != nil || errDown != nil {
		t.Fatalf("transfers: up %v, down %v", errUp, errDown)
	}
	if gotUp != sha256.Sum256(up) || gotDown != sha256.Sum256(down) {
		t.Fatal("SHA-256 of the bytes received differs from the bytes sent")
	}
	framed := client.Stats().PacketsFramed.Load() + server.Stats().PacketsFramed.Load()
	resent := client.Stats().TCP.Retransmissions.Load() + server.Stats().TCP.Retransmissions.Load()
	t.Logf("%d packets framed in place, %d segments resent", framed, resent)
	if framed < 2*size/(64<<10)/2 || resent == 0 {
		t.Errorf("%d packets framed in place, %d segments resent; want at least %d framed, and some resent", framed, resent, 2*size/(64<<10)/2)
	}
	c.Close()
	s.Close()
	client.Close()
	server.Close()
	for deadline := time.Now().Add(10 * time.Second); link.SharedBuffersInUse() > sharedBefore; {
		if time.Now().After(deadline) {
			t.Fatalf("%d shared buffers held after both stacks closed, want %d", link.SharedBuffersInUse(), sharedBefore)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
