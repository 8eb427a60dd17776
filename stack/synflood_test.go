package stack_test

import (
	"io"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/echo"
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
	echo.Serve(ln)
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

// Blind ACKs to a listener whose SYN queue has not overflowed are not
// checked as SYN cookies: no SYN+ACK carried one, so an ACK that would
// pass the check is a lucky guess at 24 bits (one in 2^24 of random
// ACKs). They are answered with a RST and counted, and open nothing, as
// in Linux (tcp_synq_no_recent_overflow). Tens of millions of ACKs go
// through the stack's decision, and one of them guesses right.
func TestBlindACKsOpenNothingWithoutOverflow(t *testing.T) {
	server, _ := newRawPeer(t)
	server.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: 0})
	if _, err := server.Listen("tcp", ":80"); err != nil {
		t.Fatal(err)
	}
	n := 20_000_000
	if raceEnabled || testing.Short() {
		n = 200_000
	}
	local := netip.MustParseAddrPort("192.0.2.1:80")
	now := time.Now()
	// The one that guesses right: the cookie of a SYN the listener never
	// answered with one.
	lucky := netip.MustParseAddrPort("198.51.100.7:40000")
	syn := tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535}
	synAck := server.CookieFor(local, lucky, &syn, now)
	ack := tcp.Segment{Seq: 1001, Ack: synAck.Seq + 1, Flags: wire.FlagACK, Window: 65535}
	if v, _ := server.Demux(local, lucky, &ack, now); v != "reset" {
		t.Fatalf("an ACK with a valid cookie that was never sent: %s, want reset", v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for i := range n {
		r := rng.Uint64()
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18 + byte(r&1), byte(r >> 8), byte(r >> 16)}), uint16(r>>24))
		ack.Seq, ack.Ack = tcp.Seq(r>>32), tcp.Seq(rng.Uint32())
		if v, _ := server.Demux(local, remote, &ack, now); v != "reset" {
			t.Fatalf("blind ACK %d (%v from %v): %s, want reset", i, &ack, remote, v)
		}
	}
	t.Logf("%d blind ACKs in %v", n+1, time.Since(start))
	if c := server.NumConns(); c != 0 {
		t.Errorf("%d connections opened by blind ACKs", c)
	}
	if got := server.Stats().SynCookiesIgnored.Load(); got != uint64(n+1) {
		t.Errorf("SynCookiesIgnored %d, want %d", got, n+1)
	}
}

// After a SYN queue overflow a listener checks ACKs as cookies for two
// minutes (Linux's TCP_SYNCOOKIE_VALID), then no more, though the
// cookie itself would still pass; a new overflow opens the window again.
func TestCookiesCheckedTwoMinutesAfterOverflow(t *testing.T) {
	server, peer := newRawPeer(t)
	ln, err := server.ListenBacklog("tcp", ":80", 1)
	if err != nil {
		t.Fatal(err)
	}
	serverAddr := netip.MustParseAddr("192.0.2.1")
	local := netip.AddrPortFrom(serverAddr, 80)
	remote := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(peer.addr, port) }
	syn := tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535, Options: wire.TCPOptions{MSS: 1460, HasMSS: true}}
	peer.sendTCP(serverAddr, 1000, 80, syn) // fills the SYN queue
	if reply, _, _ := peer.nextTCP(); reply.Flags.String() != "S." {
		t.Fatalf("reply to the first SYN: %v", &reply)
	}
	// Early in a cookie period: a cookie made at t0 passes the check
	// until t0+127s.
	t0 := time.Unix(64*30_000_000+1, 0)
	cookieACK := func(synAck tcp.Segment) *tcp.Segment {
		return &tcp.Segment{Seq: syn.Seq + 1, Ack: synAck.Seq + 1, Flags: wire.FlagACK, Window: 65535}
	}
	v, synAck2 := server.Demux(local, remote(2000), &syn, t0)
	if v != "cookie" {
		t.Fatalf("SYN to a full SYN queue: %s, want cookie", v)
	}
	_, synAck3 := server.Demux(local, remote(3000), &syn, t0)
	if v, _ := server.Demux(local, remote(2000), cookieACK(synAck2), t0.Add(119*time.Second)); v != "opened" {
		t.Fatalf("a cookie ACK 119 s after the overflow: %s, want opened", v)
	}
	if v, _ := server.Demux(local, remote(3000), cookieACK(synAck3), t0.Add(121*time.Second)); v != "reset" {
		t.Fatalf("a cookie ACK 121 s after the overflow: %s, want reset", v)
	}
	if got := server.Stats().SynCookiesIgnored.Load(); got != 1 {
		t.Errorf("SynCookiesIgnored %d, want 1", got)
	}
	// The same cookie passes after a new overflow: it was the time since
	// the last one that turned it away.
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	if v, _ := server.Demux(local, remote(4000), &syn, t0.Add(121*time.Second)); v != "cookie" {
		t.Fatalf("SYN to a full SYN queue: %s, want cookie", v)
	}
	if v, _ := server.Demux(local, remote(3000), cookieACK(synAck3), t0.Add(121*time.Second)); v != "opened" {
		t.Fatalf("the cookie ACK after a new overflow: %s, want opened", v)
	}
}
