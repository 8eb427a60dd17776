package render

import (
	"strconv"
	"strings"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// windowScales learns from a trace's SYNs the window scale each side
// uses, so that a label shows the window a segment advertises, scaled,
// as Wireshark's "calculated window size" does. Scaling is in effect
// only when both SYNs carry the option (RFC 7323 §2.2), and never
// applies to a SYN's own window.
type windowScales struct {
	syn   map[string]int // host → its SYN's shift count, -1 without the option
	shift map[string]int // host → the shift in effect, once both SYNs are seen
}

// see notes the window scale option of a SYN that host sends to peer.
func (w *windowScales) see(host, peer string, seg *tcp.Segment) {
	if !seg.Flags.Has(wire.FlagSYN) {
		return
	}
	if w.syn == nil {
		w.syn, w.shift = map[string]int{}, map[string]int{}
	}
	w.syn[host] = -1
	if seg.Options.HasWindowScale {
		w.syn[host] = int(min(seg.Options.WindowScale, 14)) // RFC 7323 §2.3: at most 14
	}
	delete(w.shift, host)
	delete(w.shift, peer)
	if mine, ok := w.syn[host]; ok && seg.Flags.Has(wire.FlagACK) {
		if theirs, ok := w.syn[peer]; ok && mine >= 0 && theirs >= 0 {
			w.shift[host], w.shift[peer] = mine, theirs
		}
	}
}

// scale rewrites the "win N" of label, the label of seg sent by host,
// to the scaled window when the handshake set a scale.
func (w *windowScales) scale(label, host string, seg *tcp.Segment) string {
	shift, ok := w.shift[host]
	if !ok || shift == 0 || seg.Flags.Has(wire.FlagSYN) {
		return label
	}
	raw := " win " + strconv.Itoa(int(seg.Window))
	scaled := " win " + strconv.FormatUint(uint64(seg.Window)<<shift, 10)
	return strings.Replace(label, raw, scaled, 1)
}
