package stack_test

import (
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// A SYN flood from spoofed addresses fills a listener's SYN queue; SYN
// cookies (RFC 4987 §3.6) still let real clients in, the half-open state
// stays within the backlog, and the flood costs no memory per SYN.
func TestSynFloodWithCookies(t *testing.T) {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	defer client.Close()
	defer server.Close()
	ln, err := server.ListenBacklog("tcp", ":80", 4)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	// The flood: SYNs from addresses nobody answers for, straight into
	// the link.
	flood := func(n int) {
		for i := 0; i < n; i++ {
			src := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i%100)})
			syn := tcp.Segment{Seq: tcp.Seq(i * 7919), Flags: wire.FlagSYN, Window: 65535,
				Options: wire.TCPOptions{MSS: 1460, HasMSS: true}}
			h := syn.Header(uint16(10000+i), 80)
			buf := make([]byte, 80)
			size, _ := wire.BuildTCPPacket(buf, src, netip.MustParseAddr("192.0.2.2"), 64, &h, nil)
			for a.WritePacket(buf[:size]) != nil { // the queue is full: let it drain
				time.Sleep(time.Millisecond)
			}
		}
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	flood(20000)
	// Real clients, while the flood goes on.
	done := make(chan struct{})
	go func() { defer close(done); flood(20000) }()
	for i := 0; i < 20; i++ {
		c, err := client.Dial("tcp", "192.0.2.2:80")
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("hi"))
		got := make([]byte, 2)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "hi" {
			t.Fatalf("client %d: echo %q, %v", i, got, err)
		}
		c.Close()
	}
	<-done
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := server.Stats()
	t.Logf("40000 spoofed SYNs: %d cookies sent, %d accepted, %d half-open connections, heap %+d KiB",
		st.SynCookiesSent.Load(), st.SynCookiesAccepted.Load(), server.NumConns(), (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
	if st.SynCookiesSent.Load() < 30000 || st.SynCookiesAccepted.Load() == 0 {
		t.Errorf("%d cookies sent, %d accepted: the flood should have been answered with cookies and the clients let in by them", st.SynCookiesSent.Load(), st.SynCookiesAccepted.Load())
	}
	if n := server.NumConns(); n > 4+20 {
		t.Errorf("%d connections held: the half-open ones should stay within the backlog", n)
	}
}

// BenchmarkSynFlood measures what a spoofed SYN costs a listener whose
// SYN queue is full: parsing, the cookie and the SYN+ACK (one op = one
// SYN). At R SYNs per second the flood takes R × (ns/op) of a core.
func BenchmarkSynFlood(b *testing.B) {
	a, p := pipe.New(1500)
	server := stack.New(stack.Options{})
	server.AddInterface(p, netip.MustParsePrefix("192.0.2.2/24"))
	defer server.Close()
	a.Attach(func(pkt []byte) {}) // the SYN+ACKs go nowhere
	if _, err := server.ListenBacklog("tcp", ":80", 1); err != nil {
		b.Fatal(err)
	}
	packets := make([][]byte, 1024)
	for i := range packets {
		src := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		syn := tcp.Segment{Seq: tcp.Seq(i * 7919), Flags: wire.FlagSYN, Window: 65535, Options: wire.TCPOptions{MSS: 1460, HasMSS: true}}
		h := syn.Header(uint16(10000+i), 80)
		buf := make([]byte, 80)
		size, _ := wire.BuildTCPPacket(buf, src, netip.MustParseAddr("192.0.2.2"), 64, &h, nil)
		packets[i] = buf[:size]
	}
	server.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: 0})
	start := server.Stats().PacketsReceived.Load()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pkt := append(make([]byte, 0, 256), packets[i%len(packets)]...)
		for a.WritePacket(pkt) != nil {
			time.Sleep(10 * time.Microsecond)
		}
	}
	for server.Stats().PacketsReceived.Load()-start < uint64(b.N) {
		time.Sleep(10 * time.Microsecond)
	}
	b.ReportMetric(float64(server.Stats().SynCookiesSent.Load()), "cookies")
}

// A valid cookie that comes back while the accept queue is full is
// dropped without a reply, as Linux does: the client believes itself
// connected and its next segment, carrying the same acknowledgment, gets
// in once the application has accepted.
func TestCookieWithFullAcceptQueue(t *testing.T) {
	server, peer := newRawPeer(t)
	ln, err := server.ListenBacklog("tcp", ":80", 1)
	if err != nil {
		t.Fatal(err)
	}
	serverAddr := netip.MustParseAddr("192.0.2.1")
	send := func(port uint16, seg tcp.Segment) { peer.sendTCP(serverAddr, port, 80, seg) }
	reply := func(want string) tcp.Segment {
		t.Helper()
		seg, _, _ := peer.nextTCP()
		if seg.Flags.String() != want {
			t.Fatalf("reply %v, want flags %s", &seg, want)
		}
		return seg
	}
	syn := tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535, Options: wire.TCPOptions{MSS: 1460, HasMSS: true}}
	send(1000, syn) // fills the SYN queue
	first := reply("S.")
	send(1001, syn) // answered with a cookie
	cookie := reply("S.")
	if server.Stats().SynCookiesSent.Load() != 1 {
		t.Fatalf("%d cookies sent, want 1", server.Stats().SynCookiesSent.Load())
	}
	send(1000, tcp.Segment{Seq: 1001, Ack: first.Seq + 1, Flags: wire.FlagACK, Window: 65535}) // fills the accept queue
	deadline := time.Now().Add(2 * time.Second)
	for server.Stats().ListenOverflows.Load() == 0 && time.Now().Before(deadline) {
		// The cookie's ACK, again and again until the stack has
		// processed the first connection's and turns it away.
		send(1001, tcp.Segment{Seq: 1001, Ack: cookie.Seq + 1, Flags: wire.FlagACK, Window: 65535})
		time.Sleep(5 * time.Millisecond)
	}
	if server.Stats().ListenOverflows.Load() == 0 || server.Stats().SynCookiesAccepted.Load() != 0 {
		t.Fatalf("cookie ACK against a full accept queue: %d overflows, %d cookies accepted; want it dropped",
			server.Stats().ListenOverflows.Load(), server.Stats().SynCookiesAccepted.Load())
	}
	select {
	case pkt := <-peer.in:
		t.Fatalf("the dropped cookie ACK was answered with a packet of %d bytes", len(pkt))
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	send(1001, tcp.Segment{Seq: 1001, Ack: cookie.Seq + 1, Flags: wire.FlagACK | wire.FlagPSH, Window: 65535, Payload: []byte("hi")})
	reply(".") // the data's ACK: the connection exists now
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hi" {
		t.Fatalf("read %q, %v", got, err)
	}
}
