package render

import (
	"errors"
	"io"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/trace"
)

// PcapEpoch is the wall-clock time a run's At durations count from in a
// pcap file: the simulator's epoch, 2000-01-01 UTC.
var PcapEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrNoPackets is returned by Pcap for events recorded without
// their packets' bytes (sim.Config.KeepPackets, scenario.Options).
var ErrNoPackets = errors.New("render: the events hold no packets: record them with KeepPackets")

// Pcap writes the packets of a run as a pcap file (raw IP,
// nanosecond timestamps) that Wireshark and tshark open: each packet as it
// left its sender, duplicates twice, lost ones too (a capture at the
// senders' interfaces).
func Pcap(w io.Writer, events []trace.Event) error {
	pw, err := pcap.NewWriterNano(w, pcap.LinkTypeRaw)
	if err != nil {
		return err
	}
	packets := make(map[int][]byte)
	wrote := false
	for _, e := range events {
		switch e.Kind {
		case trace.SegmentSent:
			if e.Packet == nil {
				continue
			}
			packets[e.ID] = e.Packet
		case trace.SegmentDuplicated:
			if packets[e.ID] == nil {
				continue
			}
		default:
			continue
		}
		if err := pw.WritePacket(PcapEpoch.Add(e.At), packets[e.ID]); err != nil {
			return err
		}
		wrote = true
	}
	if !wrote && len(events) > 0 {
		return ErrNoPackets
	}
	return pw.Flush()
}
