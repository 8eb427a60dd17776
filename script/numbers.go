package script

import (
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Numbers translates between a script's numbers and a target's. A script
// writes sequence and acknowledgment numbers relative to each side's ISN
// (RFC 9293 §3.4: each side numbers from its own), except a SYN's
// sequence number, which is literal, and echoes timestamps by the TSval it
// wrote on ">" lines; the target's are absolute. A runner keeps one
// Numbers per run, sets Local, and tells it what the target sent (Sent)
// and which ">" line each segment matched (Matched). The zero value is
// ready to use.
type Numbers struct {
	// Local is the target's ISN: the runner sets it when it opens a
	// connection or sees the target's SYN. Remote is the script's, set by
	// Inject from the script's SYN.
	Local, Remote tcp.Seq

	ts        map[uint32]uint32 // a ">" line's TSval → the target's real one
	lastTSVal uint32            // the latest TSval the target sent
}

// Inject translates an injected segment's numbers from the script's
// relative ones to absolute ones: the sequence number from the script's
// ISN (which a SYN sets, its seq being literal), the acknowledgment and
// SACK blocks from the target's, and TSecr to the real TSval the script
// echoes (RFC 7323 §3: TSecr is the peer's TSval), or else the latest.
// The payload is a fresh zeroed buffer: scripts give lengths, not bytes.
func (n *Numbers) Inject(seg tcp.Segment) tcp.Segment {
	seg.Payload = make([]byte, len(seg.Payload))
	if seg.Flags.Has(wire.FlagSYN) {
		n.Remote = seg.Seq
	} else {
		seg.Seq += n.Remote
	}
	if seg.Flags.Has(wire.FlagACK) {
		seg.Ack += n.Local
	}
	for i := range seg.Options.NumSACK {
		seg.Options.SACK[i].Left += uint32(n.Local)
		seg.Options.SACK[i].Right += uint32(n.Local)
	}
	if o := &seg.Options; o.HasTimestamps && o.TSEcr != 0 {
		if v, ok := n.ts[o.TSEcr]; ok {
			o.TSEcr = v
		} else {
			o.TSEcr = n.lastTSVal
		}
	}
	return seg
}

// Sent notes a segment the target sent: its TSval is what an injected
// TSecr the script has no ">" line for stands for.
func (n *Numbers) Sent(seg *tcp.Segment) {
	if seg.Options.HasTimestamps {
		n.lastTSVal = seg.Options.TSVal
	}
}

// Matched notes that the target's segment got matched the ">" line want:
// from now on an injected TSecr equal to want's TSval echoes got's.
func (n *Numbers) Matched(want *Packet, got *tcp.Segment) {
	if w, g := want.Seg.Options, got.Options; w.HasTimestamps && g.HasTimestamps {
		if n.ts == nil {
			n.ts = make(map[uint32]uint32)
		}
		n.ts[w.TSVal] = g.TSVal
	}
}

// Format prints a segment the target sent with the script's relative
// numbers.
func (n *Numbers) Format(seg tcp.Segment) string {
	return seg.Format(n.seqBase(&seg), n.Remote)
}

// seqBase is what a segment the target sent numbers its seq from: our
// ISN, except for a RST with sequence number 0, the answer to a segment
// without ACK for no connection (RFC 9293 §3.10.7.1: <SEQ=0>), whose 0
// is literal, as a SYN's seq is: it belongs to no connection of ours.
func (n *Numbers) seqBase(seg *tcp.Segment) tcp.Seq {
	if seg.Flags.Has(wire.FlagRST) && seg.Seq == 0 {
		return 0
	}
	return n.Local
}

// Compare returns the first field in which the target's segment got
// differs from the expected packet, by packetdrill's name for it
// ("tcp_flags", "tcp_seq", ...), or "" if none does. Local numbers got's
// seq, Remote its ack and SACK blocks; a SYN's seq is not compared.
// Options are compared as a set (NOPs and order are not kept by
// wire.TCPOptions).
func (n *Numbers) Compare(want *Packet, got *tcp.Segment) string {
	w := &want.Seg
	switch {
	case w.Flags != got.Flags:
		return "tcp_flags"
	case !w.Flags.Has(wire.FlagSYN) && uint32(w.Seq) != uint32(got.Seq-n.seqBase(got)):
		return "tcp_seq"
	case w.Flags.Has(wire.FlagACK) && uint32(w.Ack) != uint32(got.Ack-n.Remote):
		return "tcp_ack"
	case len(w.Payload) != len(got.Payload):
		return "tcp_data_len"
	case want.HasWindow && w.Window != got.Window:
		return "tcp_window"
	case w.Flags.Has(wire.FlagURG) && w.Urgent != got.Urgent:
		return "tcp_urg_ptr"
	}
	if want.AnyOptions {
		return ""
	}
	wo, gotO := w.Options, got.Options
	// TS val is checked only with --tcp_ts_tick_usecs and ecr never, as
	// in packetdrill; presence is.
	wo.TSVal, wo.TSEcr, gotO.TSVal, gotO.TSEcr = 0, 0, 0, 0
	for i := range gotO.NumSACK {
		gotO.SACK[i].Left -= uint32(n.Remote)
		gotO.SACK[i].Right -= uint32(n.Remote)
	}
	if wo != gotO {
		return "tcp_options"
	}
	return ""
}
