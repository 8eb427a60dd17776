package pcap_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// tcpPacket builds an IPv4 or IPv6 TCP packet with correct checksums.
func tcpPacket(t *testing.T, src, dst string, flags wire.TCPFlags, payload string) []byte {
	t.Helper()
	h := wire.TCPHeader{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 2000, Flags: flags, Window: 65535}
	b := make([]byte, 100+len(payload))
	n, err := wire.BuildTCPPacket(b, netip.MustParseAddr(src), netip.MustParseAddr(dst), 64, &h, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func TestWriteRead(t *testing.T) {
	packets := [][]byte{
		tcpPacket(t, "192.0.2.1", "192.0.2.2", wire.FlagSYN, ""),
		tcpPacket(t, "2001:db8::1", "2001:db8::2", wire.FlagACK|wire.FlagPSH, "hello"),
		{},
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		name   string
		new    func(io.Writer, pcap.LinkType) (*pcap.Writer, error)
		nano   bool
		stamp  time.Time // at, as the resolution keeps it
		header string    // the file header's first bytes
	}{
		{"micro", pcap.NewWriter, false, at.Truncate(time.Microsecond), "\xd4\xc3\xb2\xa1\x02\x00\x04\x00"},
		{"nano", pcap.NewWriterNano, true, at, "\x4d\x3c\xb2\xa1\x02\x00\x04\x00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := c.new(&buf, pcap.LinkTypeRaw)
			if err != nil {
				t.Fatal(err)
			}
			if buf.Len() != 24 || !strings.HasPrefix(buf.String(), c.header) {
				t.Fatalf("file header % x", buf.Bytes())
			}
			for i, p := range packets {
				if err := w.WritePacket(at.Add(time.Duration(i)*time.Second), p); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, err := pcap.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != pcap.LinkTypeRaw || r.Nanosecond() != c.nano {
				t.Errorf("link type %d, nanosecond %v", r.LinkType(), r.Nanosecond())
			}
			for i, want := range packets {
				p, err := r.ReadPacket()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(p.Data, want) || p.OrigLen != len(want) {
					t.Errorf("record %d: % x (orig %d), want % x", i, p.Data, p.OrigLen, want)
				}
				if wantT := c.stamp.Add(time.Duration(i) * time.Second); !p.Time.Equal(wantT) {
					t.Errorf("record %d at %v, want %v", i, p.Time, wantT)
				}
			}
			if _, err := r.ReadPacket(); err != io.EOF {
				t.Errorf("after the last record: %v, want io.EOF", err)
			}
		})
	}
}

// Captures written big-endian (by a libpcap on such a machine) read the
// same.
func TestReadBigEndian(t *testing.T) {
	var b bytes.Buffer
	be := binary.BigEndian
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(101),
		uint32(1700000000), uint32(42), uint32(3), uint32(5), []byte("abc")} {
		binary.Write(&b, be, v)
	}
	r, err := pcap.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Data) != "abc" || p.OrigLen != 5 || !p.Time.Equal(time.Unix(1700000000, 42000)) {
		t.Errorf("got %+v", p)
	}
}

func TestReadBadFiles(t *testing.T) {
	var good bytes.Buffer
	w, _ := pcap.NewWriter(&good, pcap.LinkTypeRaw)
	w.WritePacket(time.Now(), []byte("0123456789"))
	w.Flush()
	for name, data := range map[string][]byte{
		"empty":          nil,
		"short header":   good.Bytes()[:10],
		"pcapng":         append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, good.Bytes()[4:]...),
		"cut record":     good.Bytes()[:good.Len()-3],
		"cut rec header": good.Bytes()[:24+8],
		"huge record":    append(append([]byte(nil), good.Bytes()[:24+8]...), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0),
	} {
		r, err := pcap.NewReader(bytes.NewReader(data))
		if err == nil {
			_, err = r.ReadPacket()
		}
		if !errors.Is(err, pcap.ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	if _, err := pcap.NewWriter(&failingWriter{n: 10}, pcap.LinkTypeRaw); err == nil {
		t.Error("NewWriter on a failing writer succeeded")
	}
	w, err := pcap.NewWriter(&failingWriter{n: 24}, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	w.WritePacket(time.Now(), make([]byte, 100))
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush = %v, want the write's error", err)
	}
}

// Wrap records both directions of a real connection between two stacks,
// in time order, and the capture passes tshark's checks.
func TestWrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wrap.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcap.NewWriterNano(f, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pipe.New(1500)
	server := stack.New(stack.Options{})
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
	client := stack.New(stack.Options{})
	client.AddInterface(pcap.Wrap(a, w), netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))

	data := make([]byte, 200<<10)
	rand.Read(data)
	ln, err := server.Listen("tcp", ":47000")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var received []byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		c.SetDeadline(time.Now().Add(30 * time.Second)) // a stall fails rather than hangs
		received, _ = io.ReadAll(c)
		c.Write([]byte("thanks"))
		c.Close()
	}()
	for _, addr := range []string{"192.0.2.2:47000", "[2001:db8::2]:47000"} {
		c, err := client.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if addr[0] == '[' {
			c.Write([]byte("v6"))
			c.(*stack.Conn).CloseWrite()
			io.ReadAll(c)
			c.Close()
			break
		}
		c.Write(data)
		c.(*stack.Conn).CloseWrite()
		if reply, _ := io.ReadAll(c); string(reply) != "thanks" {
			t.Errorf("reply %q", reply)
		}
		c.Close()
		wg.Wait()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := ln.Accept(); err == nil {
				c.SetDeadline(time.Now().Add(30 * time.Second))
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
	}
	wg.Wait()
	if !bytes.Equal(received, data) {
		t.Fatalf("server received %d bytes, want %d", len(received), len(data))
	}
	// Let the last ACKs cross before closing the capture.
	deadline := time.Now().Add(5 * time.Second)
	for (client.NumConns() > 0 || server.NumConns() > 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	client.Close()
	server.Close()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	// Read it back: both directions, IPv4 and IPv6, time never going
	// backwards, every byte of the upload present once in order.
	rf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	r, err := pcap.NewReader(rf)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	var sent, delivered, v6 int
	var upload []byte
	var next uint32 // the upload's next sequence number, once its first segment is seen
	for {
		p, err := r.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Time.Before(last) {
			t.Errorf("record at %v after one at %v", p.Time, last)
		}
		last = p.Time
		ip, h, payload, err := wire.ParseTCPPacket(p.Data)
		if err != nil {
			t.Fatalf("record is not a TCP packet: %v", err)
		}
		if ip.Version == 6 {
			v6++
		}
		switch ip.Src {
		case netip.MustParseAddr("192.0.2.1"):
			sent++
			if h.DstPort == 47000 && len(payload) > 0 {
				// No loss on a pipe, so in order; a tail loss probe
				// (RACK-TLP) may send the last segment again when the
				// ACK is late on a loaded machine, and must repeat it.
				seq := h.Seq
				if upload == nil {
					next = seq
				}
				if back := next - seq; back > 0 && back <= uint32(len(payload)) {
					if !bytes.Equal(payload[:back], upload[len(upload)-int(back):]) {
						t.Errorf("a retransmission at %d differs from what was sent", seq)
					}
					payload, seq = payload[back:], next
				}
				if seq != next {
					t.Errorf("upload segment at %d, want %d", seq, next)
				}
				upload = append(upload, payload...)
				next = seq + uint32(len(payload))
			}
		case netip.MustParseAddr("192.0.2.2"):
			delivered++
		}
	}
	if sent == 0 || delivered == 0 || v6 == 0 {
		t.Errorf("%d packets sent, %d delivered, %d IPv6: want some of each", sent, delivered, v6)
	}
	if !bytes.Equal(upload, data) {
		t.Errorf("capture holds %d bytes of the upload, want all %d", len(upload), len(data))
	}

	if rep := netns.CheckCapture(t, path); rep != "" {
		t.Logf("tshark expert summary:\n%s", rep)
	}
}

// The wrapper passes on what the endpoint says, and does not record a
// packet over the MTU.
func TestWrapRefused(t *testing.T) {
	var buf bytes.Buffer
	w, _ := pcap.NewWriter(&buf, pcap.LinkTypeRaw)
	a, b := pipe.New(100)
	defer b.Close()
	ep := pcap.Wrap(a, w)
	if ep.MTU() != 100 {
		t.Errorf("MTU %d", ep.MTU())
	}
	if err := ep.WritePacket(make([]byte, 101)); !errors.Is(err, link.ErrTooBig) {
		t.Errorf("oversized: %v", err)
	}
	if n, err := ep.WritePackets([][]byte{make([]byte, 10), make([]byte, 101)}); n != 1 || !errors.Is(err, link.ErrTooBig) {
		t.Errorf("WritePackets = %d, %v", n, err)
	}
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ := pcap.NewReader(&buf)
	n := 0
	for {
		if _, err := r.ReadPacket(); err != nil {
			break
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}
