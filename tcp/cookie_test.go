package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// A SYN cookie carries the handshake's state: the ACK that echoes it
// yields an ESTABLISHED connection with the MSS, window scale, SACK and
// timestamps of the SYN; a forged or stale ACK does not.
func TestSynCookies(t *testing.T) {
	cfg := plain(tcp.Config{ReceiveBufferSize: 1 << 20, DelayedAck: -1}, withSACK, withTimestamps, withoutNagle)
	jar := tcp.NewCookieJar([]byte("secret"))
	local, remote := netip.MustParseAddrPort("192.0.2.2:80"), netip.MustParseAddrPort("192.0.2.1:40000")
	syn, _ := tcp.ParseSegment("S 5000:5000(0) win 65535 <mss 1400,sackOK,TS val 700 ecr 0,wscale 7>")
	synAck := jar.SynAck(cfg, &syn, local, remote, epoch)
	if synAck.Ack != 5001 || !synAck.Options.SACKPermitted || !synAck.Options.HasWindowScale || !synAck.Options.HasTimestamps || synAck.Options.MSS != 1460 {
		t.Fatalf("SYN+ACK %v", synAck)
	}
	ack := tcp.Segment{Seq: 5001, Ack: synAck.Seq + 1, Flags: 0x10, Window: 100}
	ack.Options.HasTimestamps, ack.Options.TSVal, ack.Options.TSEcr = true, 710, synAck.Options.TSVal
	later := epoch.Add(100 * time.Millisecond)
	k, ok := jar.Check(cfg, &ack, local, remote, later)
	if !ok || k.MSS != 1220 || k.WindowScale != 7 || !k.SACK || !k.Timestamps {
		t.Fatalf("cookie %+v, %v: want MSS 1220 (the table's largest under 1400), scale 7, SACK, timestamps", k, ok)
	}
	c := tcp.NewConnFromCookie(cfg, k, &ack, later)
	if c.State() != tcp.Established || c.Stats().SendWindow != 100<<7 {
		t.Fatalf("state %v, send window %d", c.State(), c.Stats().SendWindow)
	}
	c.Write([]byte("hello"), later)
	out := c.Outgoing()
	if len(out) != 1 || out[0].Seq != synAck.Seq+1 || out[0].Options.TSEcr != 710 || out[0].Options.TSVal < synAck.Options.TSVal {
		t.Fatalf("first data %v after a SYN+ACK with TSval %d", out, synAck.Options.TSVal)
	}
	for name, bad := range map[string]func(s tcp.Segment) tcp.Segment{
		"wrong ack":       func(s tcp.Segment) tcp.Segment { s.Ack++; return s },
		"wrong seq":       func(s tcp.Segment) tcp.Segment { s.Seq += 7; return s },
		"with SYN":        func(s tcp.Segment) tcp.Segment { s.Flags |= 0x02; return s },
		"another address": func(s tcp.Segment) tcp.Segment { return s },
	} {
		seg := bad(ack)
		r := remote
		if name == "another address" {
			r = netip.MustParseAddrPort("192.0.2.9:40000")
		}
		if _, ok := jar.Check(cfg, &seg, local, r, later); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := jar.Check(cfg, &ack, local, remote, epoch.Add(3*time.Minute)); ok {
		t.Error("a three-minute-old cookie was accepted")
	}
}
