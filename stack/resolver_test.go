package stack_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/seqack/seqack/internal/echo"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// dnsServer is a small authoritative DNS server (RFC 1035) on a stack:
// it answers A and AAAA queries for the names it holds and NXDOMAIN for
// the others, over UDP and TCP (RFC 7766). Over UDP it sets TC, with no
// answers, when a name has more than maxUDPAnswers addresses, so that
// the client must ask again over TCP.
type dnsServer struct {
	records    map[string][]netip.Addr // by lower-case name with the final dot
	udpQueries atomic.Int32
	tcpQueries atomic.Int32
}

const maxUDPAnswers = 8

// serveDNS runs d on s at port 53 (UDP and TCP) until the test ends.
func serveDNS(t testing.TB, s *stack.Stack, d *dnsServer) {
	pc := listenUDP(t, s, "udp", ":53")
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			d.udpQueries.Add(1)
			if resp := d.answer(buf[:n], true); resp != nil {
				pc.WriteToUDPAddrPort(resp, from)
			}
		}
	}()
	ln, err := s.Listen("tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.serveTCP(c)
		}
	}()
}

// serveTCP answers the length-prefixed queries of one connection
// (RFC 1035 §4.2.2).
func (d *dnsServer) serveTCP(c net.Conn) {
	defer c.Close()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		d.tcpQueries.Add(1)
		resp := d.answer(q, false)
		if resp == nil {
			return
		}
		c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(resp))))
		c.Write(resp)
	}
}

// answer returns the response to the query q, or nil if q is not one.
func (d *dnsServer) answer(q []byte, udp bool) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil
	}
	question, err := p.Question()
	if err != nil {
		return nil
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	addrs, ok := d.records[strings.ToLower(question.Name.String())]
	if !ok {
		rh.RCode = dnsmessage.RCodeNameError
	}
	var answers []netip.Addr
	for _, a := range addrs {
		if a.Is4() && question.Type == dnsmessage.TypeA || a.Is6() && question.Type == dnsmessage.TypeAAAA {
			answers = append(answers, a)
		}
	}
	if udp && len(answers) > maxUDPAnswers {
		rh.Truncated, answers = true, nil
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(question)
	b.StartAnswers()
	for _, a := range answers {
		r := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 60}
		if a.Is4() {
			b.AResource(r, dnsmessage.AResource{A: a.As4()})
		} else {
			b.AAAAResource(r, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
	}
	resp, err := b.Finish()
	if err != nil {
		return nil
	}
	return resp
}

// dnsStacks joins a client stack whose DNS server is the server stack
// (192.0.2.2, 2001:db8::2), which runs d.
func dnsStacks(t testing.TB, d *dnsServer) (client, server *stack.Stack) {
	a, b := pipe.New(1500)
	client = stack.New(stack.Options{DNSServers: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:53")}})
	server = stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
	t.Cleanup(func() { client.Close(); server.Close() })
	serveDNS(t, server, d)
	return client, server
}

// testZone is what the test DNS server holds.
func testZone() *dnsServer {
	big := make([]netip.Addr, 20)
	for i := range big {
		big[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
	}
	return &dnsServer{records: map[string][]netip.Addr{
		"server.test.": {netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::2")},
		"v4only.test.": {netip.MustParseAddr("192.0.2.2")},
		"big.test.":    big,
	}}
}

func TestResolverLookups(t *testing.T) {
	d := testZone()
	client, _ := dnsStacks(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := client.Resolver()
	for _, tc := range []struct {
		network, host string
		want          []string
	}{
		{"ip4", "server.test", []string{"192.0.2.2"}},
		{"ip6", "server.test", []string{"2001:db8::2"}},
		{"ip", "server.test", []string{"192.0.2.2", "2001:db8::2"}},
		{"ip", "v4only.test.", []string{"192.0.2.2"}},
	} {
		addrs, err := r.LookupNetIP(ctx, tc.network, tc.host)
		if err != nil {
			t.Errorf("LookupNetIP(%s, %s): %v", tc.network, tc.host, err)
			continue
		}
		var got []string
		for _, a := range addrs {
			got = append(got, a.Unmap().String())
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("LookupNetIP(%s, %s) = %v, want %v", tc.network, tc.host, got, tc.want)
		}
	}
	_, err := r.LookupHost(ctx, "nothere.test")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("LookupHost(nothere.test): %v, want a *net.DNSError that IsNotFound", err)
	}
	if d.udpQueries.Load() == 0 {
		t.Error("no query reached the server over UDP")
	}
}

// An answer too long for UDP comes truncated; the resolver asks again
// over TCP on the stack (RFC 7766 §5).
func TestResolverTCPFallback(t *testing.T) {
	d := testZone()
	client, _ := dnsStacks(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := client.Resolver().LookupNetIP(ctx, "ip4", "big.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 20 {
		t.Errorf("%d addresses, want 20", len(addrs))
	}
	if d.tcpQueries.Load() == 0 {
		t.Error("no query came over TCP")
	}
}

// A server that refuses (ICMP port unreachable) is passed over for the
// next; servers given to Resolver replace the stack's, over IPv6 too.
func TestResolverServers(t *testing.T) {
	client, _ := dnsStacks(t, testZone())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := client.Resolver(netip.MustParseAddrPort("192.0.2.2:5353"), netip.MustParseAddrPort("[2001:db8::2]:0"))
	for i := 0; i < 2; i++ {
		addrs, err := r.LookupNetIP(ctx, "ip4", "v4only.test")
		if err != nil || len(addrs) != 1 {
			t.Fatalf("lookup %d: %v, %v", i, addrs, err)
		}
	}
}

// Dial takes host names, resolved over the stack: TCP, UDP and ping.
func TestDialByName(t *testing.T) {
	client, server := dnsStacks(t, testZone())
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo.Serve(ln)
	go udpEcho(listenUDP(t, server, "udp", ":7"))

	for _, network := range []string{"tcp", "tcp4", "tcp6"} {
		c, err := client.Dial(network, "server.test:80")
		if err != nil {
			t.Fatalf("Dial(%s, server.test:80): %v", network, err)
		}
		c.Write([]byte("hi"))
		buf := make([]byte, 2)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
			t.Errorf("%s: echo %q, %v", network, buf, err)
		}
		if ra := c.RemoteAddr().(*net.TCPAddr); network == "tcp4" && ra.IP.To4() == nil || network == "tcp6" && ra.IP.To4() != nil {
			t.Errorf("%s: connected to %v", network, ra)
		}
		c.Close()
	}
	u, err := client.Dial("udp", "server.test:7")
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("datagram"))
	if got := readWithin(t, u); got != "datagram" {
		t.Errorf("UDP echo %q", got)
	}
	u.Close()
	p, err := client.Dial("ping4", "server.test")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Write(echoRequest(t, false, 5, "by name"))
	if e, from := readEcho(t, p.(*stack.PingConn)); from != netip.MustParseAddr("192.0.2.2") || e.Seq != 5 {
		t.Errorf("ping reply from %v seq %d", from, e.Seq)
	}

	if _, err := client.Dial("tcp", "nothere.test:80"); !isNotFound(err) {
		t.Errorf("Dial(nothere.test): %v, want a *net.OpError with a *net.DNSError that IsNotFound", err)
	}
	if _, err := client.Dial("tcp6", "v4only.test:80"); err == nil {
		t.Error("Dial(tcp6, a name with only an A record) succeeded")
	}
}

func isNotFound(err error) bool {
	var op *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &op) && errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// Without DNS servers, a name fails at once with an error that says
// why; IP addresses still dial.
func TestDialByNameWithoutServers(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	_, err := client.Dial("tcp", "server.test:80")
	var op *net.OpError
	if !errors.As(err, &op) || !errors.Is(err, stack.ErrNoDNSServers) {
		t.Errorf("Dial by name without DNS servers: %v, want a *net.OpError wrapping ErrNoDNSServers", err)
	}
	_, err = client.Resolver().LookupHost(context.Background(), "server.test")
	if err == nil || !strings.Contains(err.Error(), stack.ErrNoDNSServers.Error()) {
		t.Errorf("Resolver without DNS servers: %v", err)
	}
}

// A server that never answers: the lookup, and a dial by name, end
// with the context, as timeouts.
func TestResolverTimeout(t *testing.T) {
	a, b := pipe.New(1500)
	client := stack.New(stack.Options{DNSServers: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.2:53")}})
	server := stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); server.Close() })
	silent := listenUDP(t, server, "udp", ":53")
	go func() {
		for {
			if _, _, err := silent.ReadFromUDPAddrPort(make([]byte, 1500)); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := client.Resolver().LookupHost(ctx, "server.test")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsTimeout {
		t.Errorf("lookup from a silent server: %v, want a *net.DNSError that IsTimeout", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = client.DialContext(ctx, "tcp", "server.test:80")
	var op *net.OpError
	if !errors.As(err, &op) || !op.Timeout() {
		t.Errorf("dial by name, the server silent: %v, want a *net.OpError that is a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, the contexts allowed 400ms", d)
	}
}

// Dial keeps to the server that answered: a refusing first server is
// asked once, not at every dial.
func TestDialByNameRemembersServer(t *testing.T) {
	a, b := pipe.New(1500)
	client := stack.New(stack.Options{DNSServers: []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.2:5353"), // nobody: port unreachable
		netip.MustParseAddrPort("192.0.2.2:53"),
	}})
	server := stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); server.Close() })
	serveDNS(t, server, testZone())
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var refused uint64
	for i := 0; i < 3; i++ {
		c, err := client.Dial("tcp4", "server.test:80")
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.Close()
		if i == 0 {
			refused = server.Stats().UDP.NoPort.Load()
		}
	}
	if got := server.Stats().UDP.NoPort.Load(); refused == 0 || got != refused {
		t.Errorf("queries to the refusing server: %d after the first dial, %d after three; want more than 0, then no more", refused, got)
	}
}
