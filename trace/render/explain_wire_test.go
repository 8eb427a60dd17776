package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

// wireEvents is a capture as ReadPcap gives it: each packet sent and
// delivered at the moment it was captured, between two addresses. Each
// packet is {at, from (c or s), segment}.
func wireEvents(t *testing.T, packets ...wirePacket) []trace.Event {
	t.Helper()
	const c, s = "192.0.2.1:50000", "198.51.100.7:443"
	var events []trace.Event
	for i, p := range packets {
		from, to := c, s
		if p.from == "s" {
			from, to = s, c
		}
		sg := seg(t, p.seg)
		events = append(events,
			trace.Event{At: p.at, Kind: trace.SegmentSent, Host: from, Peer: to, ID: i + 1, Segment: sg},
			trace.Event{At: p.at, Kind: trace.SegmentDelivered, Host: to, Peer: from, ID: i + 1, Segment: sg})
	}
	return events
}

type wirePacket struct {
	at   time.Duration
	from string
	seg  string
}

// captureOf runs a scenario and reads its pcap back, as "seqack trace"
// does with a real capture.
func captureOf(t *testing.T, name string, faults ...[2]string) []trace.Event {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	var fs []sim.Fault
	for _, f := range faults {
		fault, err := sim.ParseFault(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, fault)
	}
	res, err := s.Run(scenario.Options{Seed: 1, Faults: fs, KeepPackets: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render.Pcap(&b, res.Events); err != nil {
		t.Fatal(err)
	}
	c, err := render.ReadPcap(&b)
	if err != nil {
		t.Fatal(err)
	}
	return c.Conns[c.Main()].Events
}

// On a capture, Explain names the cause of each notable segment from the
// segments and their timing alone, and names the ends by their roles:
// the addresses are never repeated in the sentences.
func TestExplainCapture(t *testing.T) {
	for _, c := range []struct {
		name   string
		events func(t *testing.T) []trace.Event
		want   []string
	}{
		{"refused", func(t *testing.T) []trace.Event { return captureOf(t, "refused") },
			[]string{"no listener", "the connection is refused", "没有进程在监听"}},
		{"half-close", func(t *testing.T) []trace.Event { return captureOf(t, "half-close") },
			[]string{"half-closed", "半关闭", "The server acknowledges the client's FIN"}},
		{"retransmission after RTO", func(t *testing.T) []trace.Event {
			return captureOf(t, "lost-third-ack", [2]string{"drop", "client:data"})
		}, []string{"a retransmission after RTO", "超时重传", "sends the 5 bytes again, 200 ms after"}},
		{"final ACK lost", func(t *testing.T) []trace.Event { return captureOf(t, "lost-final-ack") },
			[]string{"the client's last ACK must have been lost"}},
		{"delayed ACK", func(t *testing.T) []trace.Event {
			// Captured at the server, 30 ms from the client: the client
			// answers the handshake in 30 ms and the data in 70.
			return wireEvents(t,
				wirePacket{0, "c", "S 0:0(0) win 65535"},
				wirePacket{0, "s", "S. 0:0(0) ack 1 win 65535"},
				wirePacket{30 * ms, "c", ". 1:1(0) ack 1 win 65535"},
				wirePacket{31 * ms, "s", "P. 1:101(100) ack 1 win 65535"},
				wirePacket{101 * ms, "c", ". 1:1(0) ack 101 win 65535"},
			)
		}, []string{"a delayed ACK of 40 ms", "40 ms 的延迟确认"}},
		{"zero window", func(t *testing.T) []trace.Event {
			return wireEvents(t,
				wirePacket{0, "c", "S 0:0(0) win 65535"},
				wirePacket{0, "s", "S. 0:0(0) ack 1 win 65535"},
				wirePacket{10 * ms, "c", ". 1:1(0) ack 1 win 65535"},
				wirePacket{11 * ms, "s", "P. 1:1001(1000) ack 1 win 65535"},
				wirePacket{21 * ms, "c", ". 1:1(0) ack 1001 win 0"},
				wirePacket{300 * ms, "s", ". 1000:1000(0) ack 1 win 65535"},
				wirePacket{300 * ms, "c", ". 1:1(0) ack 1001 win 0"},
				wirePacket{310 * ms, "c", ". 1:1(0) ack 1001 win 8192"},
			)
		}, []string{"the client advertises a zero window", "零窗口", "only a probe", "its window still zero", "window opens again"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events := c.events(t)
			en, zh := render.Explain(events, "en"), render.Explain(events, "zh")
			checkSteps(t, events, en, zh)
			var all strings.Builder
			for i := range en {
				all.WriteString(en[i].Text + "\n" + zh[i].Text + "\n")
				if strings.Count(en[i].Text, ":") > 0 && (strings.Contains(en[i].Text, "10.0.0.") || strings.Contains(en[i].Text, "192.0.2.")) {
					t.Errorf("step %d repeats an address: %q", i, en[i].Text)
				}
				if en[i].Who != "client" && en[i].Who != "server" || zh[i].Who != "客户端" && zh[i].Who != "服务器" {
					t.Errorf("step %d: who %q / %q, want the role", i, en[i].Who, zh[i].Who)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(strings.ToLower(all.String()), strings.ToLower(w)) {
					t.Errorf("no step says %q:\n%s", w, all.String())
				}
			}
		})
	}
}

// Roles names a capture's ends by their part; named hosts have none.
func TestRoles(t *testing.T) {
	events := wireEvents(t, wirePacket{0, "s", ". 1:1(0) ack 1 win 65535"}, wirePacket{0, "c", ". 1:1(0) ack 1 win 65535"})
	if got := render.Roles(events); got["198.51.100.7:443"] != "server" || got["192.0.2.1:50000"] != "client" {
		t.Errorf("mid-stream capture: %v, want the lower port as the server", got)
	}
	if got := render.Roles(handshakeEvents(t)); got != nil {
		t.Errorf("named hosts: %v", got)
	}
}

// Captures of the Linux kernel on loopback (dumpcap -P -i lo, Python
// sockets): a SYN to a closed port; a client writing 30000 bytes to a
// server with a 4 KB receive buffer that reads only after 0.5 s, then
// shutdown(SHUT_WR) and the server's reply; and a request/response
// exchange whose one-way data the kernel acknowledges after its 40 ms
// delayed-ACK timer.
func TestExplainLinuxCaptures(t *testing.T) {
	for _, c := range []struct {
		file string
		conn int
		want []string
	}{
		{"linux-refused-zerowindow-halfclose.pcap", 0, []string{"(no listener)"}},
		{"linux-refused-zerowindow-halfclose.pcap", 1, []string{"The server advertises a zero window", "only a probe", "its window still zero", "window opens again", "the client has half-closed"}},
		{"linux-delayed-ack.pcap", 0, []string{"a delayed ACK of 4"}},
	} {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			capture, err := render.ReadPcap(f)
			if err != nil {
				t.Fatal(err)
			}
			events := capture.Conns[c.conn].Events
			en, zh := render.Explain(events, "en"), render.Explain(events, "zh")
			checkSteps(t, events, en, zh)
			var all strings.Builder
			for _, s := range en {
				all.WriteString(s.Text + "\n")
				if strings.Contains(s.Text, "127.0.0.1") {
					t.Errorf("an address in %q", s.Text)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(all.String(), w) {
					t.Errorf("no step says %q:\n%s", w, all.String())
				}
			}
		})
	}
}
