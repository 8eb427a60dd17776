package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"text/tabwriter"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

const traceUsage = `Usage: seqack trace [flags] FILE.pcap

Draws one TCP connection of a capture (tcpdump, Wireshark, or seqack's own
pcap output) as a sequence diagram. A capture is taken at one point, so a
segment is drawn as sent and received at the moment it was captured, and
the states are not shown: they are inside the hosts, not on the wire.

Flags (before or after FILE):
  --conn N          draw the N-th connection of the capture (default: the
                    first that starts with a SYN, else the first)
  --list            list the capture's connections
  --format FORMAT   text, svg, mermaid or html (default text)
  --out FILE        write the drawing to FILE instead of standard output
  --lang LANG       language of the explanations and the svg/html words: en or zh
  --absolute        absolute sequence numbers instead of relative ones
  --window          show advertised windows
  --ascii           draw with ASCII only
  --width N         diagram width in columns (default: the terminal's, else 100)
  --color WHEN      auto, always or never (default auto)
  --explain         after a text diagram, say why each step happened
`

// connKey names a connection by its two ends, the lower first, so that
// both directions have the same key.
type connKey struct{ a, b netip.AddrPort }

func keyFor(src, dst netip.AddrPort) connKey {
	if dst.Compare(src) < 0 {
		src, dst = dst, src
	}
	return connKey{src, dst}
}

// captured is one connection of a capture.
type captured struct {
	key     connKey
	first   netip.AddrPort // the sender of its first SYN, or of its first packet
	hasSYN  bool
	packets int
	events  []trace.Event
}

func runTrace(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		conn = fs.Int("conn", 0, "")
		list = fs.Bool("list", false, "")
		draw = addDrawFlags(fs)
	)
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, traceUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n\n%s", err, traceUsage)
		return exitUsage
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "seqack trace: want one capture file, got %d\n\n%s", len(files), traceUsage)
		return exitUsage
	}
	if err := draw.check(); err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitUsage
	}
	f, err := os.Open(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	defer f.Close()
	conns, skipped, err := readCapture(f)
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %s: %v\n", files[0], err)
		return exitError
	}
	if len(conns) == 0 {
		fmt.Fprintf(stderr, "seqack trace: %s: no TCP packets (%d others skipped)\n", files[0], skipped)
		return exitError
	}
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for i, c := range conns {
			syn := ""
			if c.hasSYN {
				syn = "from its SYN"
			}
			fmt.Fprintf(tw, "%d\t%v ↔ %v\t%d packets\t%s\n", i+1, c.first, other(c.key, c.first), c.packets, syn)
		}
		tw.Flush()
		return exitOK
	}
	var pick int
	switch {
	case *conn > 0 && *conn <= len(conns):
		pick = *conn - 1
	case *conn != 0:
		fmt.Fprintf(stderr, "seqack trace: --conn %d: the capture has %d connections (--list lists them)\n", *conn, len(conns))
		return exitUsage
	default:
		pick = 0
		for i, c := range conns {
			if c.hasSYN {
				pick = i
				break
			}
		}
	}
	c := conns[pick]
	left, right := c.first.String(), other(c.key, c.first).String()
	title := fmt.Sprintf("%s — connection %d of %d: %s ↔ %s, %d packets", files[0], pick+1, len(conns), left, right, c.packets)
	if err := draw.draw(stdout, c.events, left, right, title, false); err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "seqack trace: %d packets that are not TCP over IP were skipped\n", skipped)
	}
	return exitOK
}

func other(k connKey, end netip.AddrPort) netip.AddrPort {
	if k.a == end {
		return k.b
	}
	return k.a
}

// readCapture reads every TCP packet of a capture into the events of
// its connection, in the order the connections first appear. Each packet
// is recorded as sent and delivered at the moment it was captured. It
// returns how many records were not TCP over IP.
func readCapture(r io.Reader) ([]*captured, int, error) {
	pr, err := pcap.NewReader(r)
	if err != nil {
		return nil, 0, err
	}
	strip, ok := linkHeader(pr.LinkType())
	if !ok {
		return nil, 0, fmt.Errorf("link type %d is not read: want raw IP, Ethernet, Linux cooked or loopback", pr.LinkType())
	}
	var (
		conns   []*captured
		byKey   = map[connKey]*captured{}
		start   int64
		started bool
		id      int
		skipped int
	)
	for {
		p, err := pr.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		data, ok := strip(p.Data)
		if !ok {
			skipped++
			continue
		}
		// The TCP checksum is not verified: a capture taken on the
		// sending host often has it left for the network card to fill.
		ip, err := wire.ParseIP(data)
		if err != nil || ip.Protocol != wire.ProtocolTCP {
			skipped++
			continue
		}
		h, payload, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			skipped++
			continue
		}
		if !started {
			start, started = p.Time.UnixNano(), true
		}
		src, dst := netip.AddrPortFrom(ip.Src, h.SrcPort), netip.AddrPortFrom(ip.Dst, h.DstPort)
		k := keyFor(src, dst)
		c := byKey[k]
		if c == nil {
			c = &captured{key: k, first: src}
			byKey[k] = c
			conns = append(conns, c)
		}
		seg := tcp.SegmentFromHeader(&h, append([]byte(nil), payload...))
		if seg.Flags.Has(wire.FlagSYN) && !seg.Flags.Has(wire.FlagACK) && !c.hasSYN {
			c.hasSYN, c.first = true, src
		}
		c.packets++
		id++
		at := time.Duration(p.Time.UnixNano() - start)
		c.events = append(c.events,
			trace.Event{At: at, Kind: trace.SegmentSent, Host: src.String(), Peer: dst.String(), ID: id, Segment: seg, Packet: data},
			trace.Event{At: at, Kind: trace.SegmentDelivered, Host: dst.String(), Peer: src.String(), ID: id, Segment: seg},
		)
	}
	return conns, skipped, nil
}

// linkHeader returns a function that strips a record's link-layer header
// for the capture's link type, reporting whether what is left is IP.
func linkHeader(lt pcap.LinkType) (func([]byte) ([]byte, bool), bool) {
	skip := func(n int) func([]byte) ([]byte, bool) {
		return func(b []byte) ([]byte, bool) {
			if len(b) < n {
				return nil, false
			}
			return b[n:], true
		}
	}
	switch lt {
	case pcap.LinkTypeRaw, 228, 229: // LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6
		return skip(0), true
	case 0, 108: // LINKTYPE_NULL, LINKTYPE_LOOP: a 4-byte address family
		return skip(4), true
	case 113: // LINKTYPE_LINUX_SLL
		return skip(16), true
	case 276: // LINKTYPE_LINUX_SLL2
		return skip(20), true
	case 1: // LINKTYPE_ETHERNET, with any 802.1Q tags
		return func(b []byte) ([]byte, bool) {
			n := 12
			for len(b) >= n+2 && (b[n] == 0x81 && b[n+1] == 0x00 || b[n] == 0x88 && b[n+1] == 0xa8) {
				n += 4
			}
			if len(b) < n+2 {
				return nil, false
			}
			typ := uint16(b[n])<<8 | uint16(b[n+1])
			if typ != 0x0800 && typ != 0x86dd {
				return nil, false
			}
			return b[n+2:], true
		}, true
	}
	return nil, false
}
