package pcap_test

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// Endpoints with each optional interface of package link, alone, so that
// Wrap is checked on every one. Embedding link.Endpoint (an interface)
// hides whatever else the endpoint beneath has.
type (
	bareEP  struct{ link.Endpoint }
	csumEP  struct{ link.Endpoint }
	segEP   struct{ link.Endpoint }
	batchEP struct {
		link.Endpoint
		b link.BatchAttacher
	}
)

func (csumEP) ChecksumOffload() bool                 { return true }
func (segEP) SegmentOffload() int                    { return 65535 }
func (e batchEP) AttachBatch(deliver func([][]byte)) { e.b.AttachBatch(deliver) }
func (e *offloadEP) SegmentOffload() int             { return e.segment }
func (e *offloadEP) MTU() int                        { return e.mtu }
func (e *offloadEP) AttachBatch(deliver func([][]byte)) {
	e.batched.Store(true)
	e.Endpoint.AttachBatch(deliver)
}

// offloadEP has every optional interface: a pipe end carrying packets
// up to 64 KiB, with checksum offload, that says its MTU is mtu and that
// it cuts segments up to segment bytes (it hands them to the other end
// whole, which a stack there takes). It notes the longest packet it was
// given and whether it was attached by bursts.
type offloadEP struct {
	*pipe.Endpoint
	mtu, segment int
	longest      atomic.Int64
	batched      atomic.Bool
}

func (e *offloadEP) note(p []byte) {
	for n := int64(len(p)); n > e.longest.Load(); {
		if e.longest.CompareAndSwap(e.longest.Load(), n) {
			break
		}
	}
}

func (e *offloadEP) WritePacket(p []byte) error {
	e.note(p)
	return e.Endpoint.WritePacket(p)
}

func (e *offloadEP) WritePackets(ps [][]byte) (int, error) {
	for _, p := range ps {
		e.note(p)
	}
	return e.Endpoint.WritePackets(ps)
}

// offloads is what a stack learns of an endpoint by type assertions, as
// stack.AddInterface asks.
type offloads struct {
	checksum bool
	segment  int
	batch    bool
}

func offloadsOf(ep link.Endpoint) offloads {
	var o offloads
	if c, ok := ep.(link.ChecksumOffloader); ok {
		o.checksum = c.ChecksumOffload()
	}
	if s, ok := ep.(link.SegmentOffloader); ok {
		o.segment = s.SegmentOffload()
	}
	_, o.batch = ep.(link.BatchAttacher)
	return o
}

// Wrap keeps every optional interface of what it wraps, with the same
// answers, and adds none: a stack's type assertions on the wrapper are
// as true as on the endpoint.
func TestWrapKeepsInterfaces(t *testing.T) {
	a, b := pipe.New(1500)
	defer a.Close()
	defer b.Close()
	a.SetChecksumOffload(true)
	all := &offloadEP{Endpoint: a, mtu: 1500, segment: 65535}
	for _, c := range []struct {
		name string
		ep   link.Endpoint
		want offloads
	}{
		{"none", bareEP{b}, offloads{}},
		{"checksum", csumEP{b}, offloads{checksum: true}},
		{"segment", segEP{b}, offloads{segment: 65535}},
		{"batch", batchEP{b, b}, offloads{batch: true}},
		{"pipe", b, offloads{batch: true}},
		{"all", all, offloads{checksum: true, segment: 65535, batch: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, _ := pcap.NewWriter(io.Discard, pcap.LinkTypeRaw)
			if got := offloadsOf(c.ep); got != c.want {
				t.Fatalf("the endpoint itself offers %+v, want %+v", got, c.want)
			}
			if got := offloadsOf(pcap.Wrap(c.ep, w)); got != c.want {
				t.Errorf("wrapped, it offers %+v, want %+v", got, c.want)
			}
		})
	}
}

// A stack on a recorded endpoint sends as on the bare endpoint: segments
// larger than the MTU where the endpoint takes them (TSO), MTU-sized
// ones where it does not; and the capture holds those large segments,
// each record's checksum verifying.
func TestWrapKeepsSegmentOffload(t *testing.T) {
	for _, c := range []struct {
		name    string
		offload bool
	}{{"plain", false}, {"offload", true}} {
		for _, wrapped := range []bool{false, true} {
			name := c.name + "/bare"
			if wrapped {
				name = c.name + "/wrapped"
			}
			t.Run(name, func(t *testing.T) {
				mtu := 1500
				a, b := pipe.New(mtu)
				if c.offload {
					a, b = pipe.New(pipe.MaxMTU)
					a.SetChecksumOffload(true)
					b.SetChecksumOffload(true)
				}
				ep := &offloadEP{Endpoint: a, mtu: mtu}
				if c.offload {
					ep.segment = 65535
				}
				var capture bytes.Buffer
				w, _ := pcap.NewWriter(&capture, pcap.LinkTypeRaw)
				var clientEP link.Endpoint = ep
				if !c.offload {
					clientEP = bareEP{ep} // no optional interface at all
				}
				if wrapped {
					clientEP = pcap.Wrap(clientEP, w)
				}
				transfer(t, clientEP, b, 1<<20)

				longest := int(ep.longest.Load())
				if c.offload && longest <= mtu {
					t.Errorf("longest packet sent %d bytes: segmentation offload not used (MTU %d)", longest, mtu)
				}
				if !c.offload && longest > mtu {
					t.Errorf("longest packet sent %d bytes, over the MTU %d", longest, mtu)
				}
				if ep.batched.Load() != c.offload {
					t.Errorf("attached by bursts: %v, want %v", ep.batched.Load(), c.offload)
				}
				if !wrapped {
					return
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				recorded := checkRecords(t, &capture)
				if recorded != longest {
					t.Errorf("longest packet recorded %d bytes, sent %d", recorded, longest)
				}
			})
		}
	}
}

// transfer sends n bytes from a stack on clientEP to one on serverEP and
// waits until they have all arrived and both stacks are closed.
func transfer(t *testing.T, clientEP, serverEP link.Endpoint, n int) {
	t.Helper()
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	client.AddInterface(clientEP, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(serverEP, netip.MustParsePrefix("192.0.2.2/24"))
	defer client.Close()
	defer server.Close()
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		m, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- int(m)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, "tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if m := <-got; m != n {
		t.Fatalf("server received %d bytes, want %d", m, n)
	}
}

// checkRecords reads a capture of TCP packets, fails the test for any
// record whose checksums do not verify, and returns the longest record.
func checkRecords(t *testing.T, capture io.Reader) int {
	t.Helper()
	r, err := pcap.NewReader(capture)
	if err != nil {
		t.Fatal(err)
	}
	longest, bad := 0, 0
	for {
		p, err := r.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, len(p.Data))
		if _, _, _, err := wire.ParseTCPPacket(p.Data); err != nil {
			if bad++; bad <= 3 {
				t.Errorf("record of %d bytes: %v", len(p.Data), err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d records do not verify", bad)
	}
	return longest
}
