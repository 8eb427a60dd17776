package stack_test

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// mutatingLink passes packets on as the fuzzer's bytes say: deliver,
// drop, duplicate, corrupt a byte (the checksum must catch it) or hold
// for a while (reordering).
type mutatingLink struct {
	link.Endpoint
	mu   sync.Mutex
	plan []byte
	i    int
	held []byte
}

func (m *mutatingLink) next() byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.plan) == 0 {
		return 0
	}
	b := m.plan[m.i%len(m.plan)]
	m.i++
	return b
}

func (m *mutatingLink) WritePacket(p []byte) error {
	op := m.next()
	switch op % 8 {
	case 1: // drop
		return nil
	case 2: // duplicate
		m.Endpoint.WritePacket(append([]byte(nil), p...))
	case 3: // corrupt one byte past the IP header
		if len(p) > 20 {
			q := append([]byte(nil), p...)
			q[20+int(op>>3)%(len(q)-20)] ^= 0x5a
			return m.Endpoint.WritePacket(q)
		}
	case 4: // hold it back behind the next packet
		m.mu.Lock()
		old := m.held
		m.held = append([]byte(nil), p...)
		m.mu.Unlock()
		if old != nil {
			return m.Endpoint.WritePacket(old)
		}
		return nil
	}
	m.mu.Lock()
	old := m.held
	m.held = nil
	m.mu.Unlock()
	err := m.Endpoint.WritePacket(p)
	if old != nil {
		m.Endpoint.WritePacket(old)
	}
	return err
}

func (m *mutatingLink) WritePackets(ps [][]byte) (int, error) {
	for i, p := range ps {
		if err := m.WritePacket(p); err != nil {
			return i, err
		}
	}
	return len(ps), nil
}

// FuzzStacks runs two whole stacks — goroutines, timers, the net.Conn
// layer — through links the fuzzer perturbs both ways, sending data each
// way at once, at MTU 1500 or 65535 (where packets are made in the send
// queues' shared buffers): nothing panics, each side reads exactly a
// prefix of what the other wrote (all of it unless the transfer gave up),
// and once both applications have closed, the stacks hold no connection
// after the Config's liveness bound.
func FuzzStacks(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0})
	f.Add([]byte{1, 1, 0, 0, 0, 4, 4, 3, 2})
	f.Add([]byte{0x40, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0})
	f.Fuzz(func(t *testing.T, plan []byte) {
		if len(plan) > 64 {
			plan = plan[:64]
		}
		mtu := 1500
		if len(plan) > 0 && plan[0]&0x40 != 0 {
			mtu = 65535 // segments framed in the send queues' shared buffers
		}
		a, b := pipe.New(mtu)
		// Short timeouts all round, so that the liveness bound checked
		// at the end is under a second.
		cfg := &tcp.Config{InitialRTO: 10 * time.Millisecond, MinRTO: 5 * time.Millisecond, MaxRTO: 50 * time.Millisecond,
			MSL: 10 * time.Millisecond, FinWait2Timeout: 100 * time.Millisecond}
		client, server := stack.New(stack.Options{TCP: cfg}), stack.New(stack.Options{TCP: cfg})
		client.AddInterface(&mutatingLink{Endpoint: a, plan: plan}, netip.MustParsePrefix("192.0.2.1/24"))
		server.AddInterface(&mutatingLink{Endpoint: b, plan: append([]byte{7}, plan...)}, netip.MustParsePrefix("192.0.2.2/24"))
		defer client.Close()
		defer server.Close()
		ln, err := server.Listen("tcp", ":9")
		if err != nil {
			t.Fatal(err)
		}
		up, down := bytes.Repeat([]byte("up-stream "), 800), bytes.Repeat([]byte("down "), 900)
		deadline := time.Now().Add(time.Second)
		var gotUp, gotDown []byte
		var wg sync.WaitGroup
		exchange := func(c net.Conn, send []byte, got *[]byte) {
			defer wg.Done()
			c.SetDeadline(deadline)
			go func() {
				c.Write(send)
				c.(*stack.Conn).CloseWrite()
			}()
			*got, _ = io.ReadAll(c)
			c.Close()
		}
		wg.Add(2)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				wg.Done()
				return
			}
			exchange(c, down, &gotUp)
		}()
		go func() {
			c, err := client.Dial("tcp", "192.0.2.2:9")
			if err != nil {
				ln.Close()
				wg.Done()
				return
			}
			exchange(c, up, &gotDown)
		}()
		wg.Wait()
		if !bytes.HasPrefix(up, gotUp) || !bytes.HasPrefix(down, gotDown) {
			t.Fatalf("data damaged: up %d/%d bytes, down %d/%d", len(gotUp), len(up), len(gotDown), len(down))
		}
		// Liveness: both applications have closed their connections;
		// within the liveness bound (and some slack for a loaded
		// machine) the stacks hold nothing for them.
		closed, bound := time.Now(), cfg.LivenessBound(nil)
		for client.NumConns()+server.NumConns() > 0 && time.Since(closed) < bound+2*time.Second {
			time.Sleep(time.Millisecond)
		}
		if n, m := client.NumConns(), server.NumConns(); n+m > 0 {
			t.Fatalf("%d and %d connections still held %v after their applications closed them (bound %v)", n, m, time.Since(closed), bound)
		}
		if n, bytes := client.NumOrphans(); n != 0 || bytes != 0 {
			t.Fatalf("the client counts %d orphans holding %d bytes with no connection", n, bytes)
		}
	})
}
