package stack_test

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// The configuration recipes of the README, each run between two stacks:
// what the Options say is what the connection runs, and nothing else
// changes. Each case states the SYN options both sides send, the window
// scale (7 for a buffer auto-tuned up to 4 MiB), and whether Nagle's
// algorithm holds a second small write back.
func TestConfigRecipes(t *testing.T) {
	modern := synOptions{sack: true, timestamps: true, wscale: 7}
	for _, c := range []struct {
		name  string
		tcp   *tcp.Config // the client's Options.TCP; the server runs the defaults
		syn   synOptions  // what the client's SYN offers
		agree synOptions  // what the server's SYN+ACK agrees to
		nagle bool
		rack  bool // tail loss probes go
	}{
		{"defaults", nil, modern, modern, false, true},
		{"zero Config", &tcp.Config{}, modern, modern, false, true},
		// RACK-TLP is on by default; NoRACK turns it, and it alone, off.
		{"no RACK-TLP", &tcp.Config{NoRACK: true}, modern, modern, false, false},
		// Without SACK there is no RACK-TLP (RFC 8985 needs it).
		{"no SACK", &tcp.Config{NoSACK: true}, synOptions{timestamps: true, wscale: 7}, synOptions{timestamps: true, wscale: 7}, false, false},
		{"no timestamps", &tcp.Config{NoTimestamps: true}, synOptions{sack: true, wscale: 7}, synOptions{sack: true, wscale: 7}, false, true},
		{"no SACK, no timestamps", &tcp.Config{NoSACK: true, NoTimestamps: true}, synOptions{wscale: 7}, synOptions{wscale: 7}, false, false},
		{"Nagle", &tcp.Config{Nagle: true}, modern, modern, true, true},
		// The window scale follows the buffer: 256 KiB needs 3.
		{"no auto-tuning", &tcp.Config{MaxReceiveBufferSize: -1}, synOptions{sack: true, timestamps: true, wscale: 3}, modern, false, true},
		{"plain", tcp.PlainConfig(), synOptions{wscale: -1}, synOptions{wscale: -1}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runRecipe(t, stack.Options{TCP: c.tcp})
			if r.syn != c.syn {
				t.Errorf("SYN offers %+v, want %+v", r.syn, c.syn)
			}
			if r.synAck != c.agree {
				t.Errorf("SYN+ACK agrees to %+v, want %+v", r.synAck, c.agree)
			}
			if r.nagle != c.nagle {
				t.Errorf("Nagle's algorithm on: %v, want %v", r.nagle, c.nagle)
			}
			if r.rack != c.rack {
				t.Errorf("tail loss probes: %v, want %v", r.rack, c.rack)
			}
		})
	}
}

// synOptions are the options of a SYN that the defaults decide.
type synOptions struct {
	sack, timestamps bool
	wscale           int // -1: no window scale option
}

func optionsOf(seg tcp.Segment) synOptions {
	o := synOptions{sack: seg.Options.SACKPermitted, timestamps: seg.Options.HasTimestamps, wscale: -1}
	if seg.Options.HasWindowScale {
		o.wscale = int(seg.Options.WindowScale)
	}
	return o
}

// recipe is what a connection made with some Options did.
type recipe struct {
	syn, synAck synOptions
	nagle       bool // a second small write waited for the first's ACK
	rack        bool // a tail loss probe went when the ACKs stopped
}

// runRecipe connects a client made with opts to a server with the
// default Options and finds out what the connection runs. Once
// connected, the server's packets stop reaching the client, so that
// nothing is acknowledged: two 1-byte writes then go as two segments
// unless Nagle's algorithm holds the second back; and the first
// retransmission is a tail loss probe with RACK-TLP, a timeout without.
func runRecipe(t *testing.T, opts stack.Options) recipe {
	t.Helper()
	var mu sync.Mutex
	var sent []tcp.Segment // by the client
	opts.Trace = func(e trace.Event) {
		if e.Kind == trace.SegmentSent && e.Host == "192.0.2.1" {
			mu.Lock()
			sent = append(sent, e.Segment)
			mu.Unlock()
		}
	}
	var synAck tcp.Segment
	a, b := pipe.New(1500)
	back := &cutLink{Endpoint: b}
	client := stack.New(opts)
	server := stack.New(stack.Options{Trace: func(e trace.Event) {
		if e.Kind == trace.SegmentSent && e.Segment.Flags.Has(wire.FlagSYN) {
			mu.Lock()
			synAck = e.Segment
			mu.Unlock()
		}
	}})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(back, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); server.Close() })
	c, _ := dialPair(t, client, server, 80)
	back.cut.Store(true)

	var r recipe
	mu.Lock()
	r.synAck = optionsOf(synAck)
	r.syn = optionsOf(sent[0])
	sent = sent[:0]
	mu.Unlock()
	c.Write([]byte("a"))
	c.Write([]byte("b"))
	mu.Lock()
	r.nagle = len(sent) == 1
	mu.Unlock()
	c.Write(make([]byte, 4000)) // more than one segment: a probe need not wait for a delayed ACK
	k := &client.Stats().TCP
	for deadline := time.Now().Add(5 * time.Second); k.Retransmissions.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	r.rack = k.TLPProbes.Load() > 0
	return r
}

// cutLink is a link whose packets stop going once cut is set.
type cutLink struct {
	link.Endpoint
	cut atomic.Bool
}

func (l *cutLink) WritePacket(p []byte) error {
	if l.cut.Load() {
		return nil
	}
	return l.Endpoint.WritePacket(p)
}

func (l *cutLink) WritePackets(ps [][]byte) (int, error) {
	if l.cut.Load() {
		return len(ps), nil
	}
	return l.Endpoint.WritePackets(ps)
}
