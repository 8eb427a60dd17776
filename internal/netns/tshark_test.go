package netns_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/wire"
)

// recordingT is a testing.TB whose Errorf is recorded rather than
// failing the test, to test a checker's verdicts.
type recordingT struct {
	testing.TB
	errors []string
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// CheckCapture passes a clean capture and catches a bad TCP checksum
// and a truncated packet.
func TestCheckCapture(t *testing.T) {
	netns.RequireTools(t, "tshark")
	h := wire.TCPHeader{SrcPort: 40000, DstPort: 47000, Seq: 1, Flags: wire.FlagSYN, Window: 65535}
	good := make([]byte, 60)
	n, err := wire.BuildTCPPacket(good, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), 64, &h, nil)
	if err != nil {
		t.Fatal(err)
	}
	good = good[:n]
	badSum := append([]byte(nil), good...)
	badSum[len(badSum)-5] ^= 0xff // inside the TCP header, away from the IP checksum
	for _, c := range []struct {
		name    string
		packets [][]byte
		want    string // in the error; "" for none
	}{
		{"clean", [][]byte{good}, ""},
		{"bad checksum", [][]byte{good, badSum}, "bad checksums"},
		{"truncated", [][]byte{good[:30]}, "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := pcap.NewWriter(f, pcap.LinkTypeRaw)
			for _, p := range c.packets {
				w.WritePacket(time.Now(), p)
			}
			w.Flush()
			f.Close()
			rt := &recordingT{TB: t}
			netns.CheckCapture(rt, path)
			got := strings.Join(rt.errors, "\n")
			if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
				t.Errorf("CheckCapture errors:\n%s\nwant %q", got, c.want)
			}
		})
	}
}
