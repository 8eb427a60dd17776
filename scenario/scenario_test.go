package scenario_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

var update = flag.Bool("update", false, "rewrite the golden diagrams in testdata")

// Short names for state sequences.
const (
	CLOSED      = tcp.Closed
	LISTEN      = tcp.Listen
	SYN_SENT    = tcp.SynSent
	SYN_RCVD    = tcp.SynReceived
	ESTABLISHED = tcp.Established
	FIN_WAIT_1  = tcp.FinWait1
	FIN_WAIT_2  = tcp.FinWait2
	CLOSE_WAIT  = tcp.CloseWait
	CLOSING     = tcp.Closing
	LAST_ACK    = tcp.LastAck
	TIME_WAIT   = tcp.TimeWait
)

// count returns how many segments host sent whose flags include want
// (and, if bare, carry nothing else and no payload).
func count(r scenario.Result, host string, want wire.TCPFlags, bare bool) int {
	n := 0
	for _, e := range r.Events {
		if e.Kind != trace.SegmentSent || e.Host != host || !e.Segment.Flags.Has(want) {
			continue
		}
		if bare && (e.Segment.Flags != want || len(e.Segment.Payload) > 0) {
			continue
		}
		n++
	}
	return n
}

// sent says how many segments a host must have sent with the given flags
// (exactly those flags and no payload, if bare).
type sent struct {
	host  string
	flags wire.TCPFlags
	bare  bool
	n     int
}

func TestScenarios(t *testing.T) {
	const (
		S  = wire.FlagSYN
		SA = wire.FlagSYN | wire.FlagACK
		A  = wire.FlagACK
		F  = wire.FlagFIN
		R  = wire.FlagRST
	)
	activeClose := []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED}
	passiveClose := []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED}
	for _, c := range []struct {
		name           string
		client, server []tcp.State
		// sent counts segments: host, flags, bare, how many.
		sent []sent
	}{
		{name: "handshake",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED}},
		{name: "client-closes-first", client: activeClose, server: passiveClose},
		{name: "server-closes-first",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED}},
		{name: "half-close", client: activeClose, server: passiveClose},
		{name: "lost-syn", client: activeClose, server: passiveClose,
			sent: []sent{{"client", S, true, 2}, {"server", SA, true, 1}}},
		{name: "lost-syn-ack", client: activeClose, server: passiveClose,
			sent: []sent{{"client", S, true, 2}, {"server", SA, true, 3}}},
		{name: "lost-third-ack", client: activeClose, server: passiveClose,
			sent: []sent{{"server", SA, true, 1}}},
		{name: "lost-third-ack-no-data", client: activeClose, server: passiveClose,
			sent: []sent{{"server", SA, true, 2}}},
		{name: "lost-fin", client: activeClose, server: passiveClose,
			sent: []sent{{"client", F, false, 2}, {"server", F, false, 1}}},
		{name: "lost-final-ack", client: activeClose, server: passiveClose,
			sent: []sent{{"client", F, false, 1}, {"server", F, false, 2}}},
		{name: "simultaneous-open",
			client: []tcp.State{CLOSED, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED},
			server: []tcp.State{CLOSED, SYN_SENT, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED},
			sent:   []sent{{"client", S, true, 1}, {"client", SA, true, 1}, {"server", S, true, 1}, {"server", SA, true, 1}}},
		{name: "simultaneous-close",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1, CLOSING, TIME_WAIT, CLOSED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, CLOSING, TIME_WAIT, CLOSED}},
		{name: "refused",
			client: []tcp.State{CLOSED, SYN_SENT, CLOSED},
			sent:   []sent{{"server", R | A, true, 1}}},
		{name: "abort",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, CLOSED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, CLOSED},
			sent:   []sent{{"client", R | A, true, 1}, {"server", R, false, 0}}},
		{name: "old-duplicate-syn", client: activeClose,
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, LISTEN, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED},
			sent:   []sent{{"client", R, true, 1}, {"server", SA, true, 2}}},
		{name: "time-wait-reuse",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED}},
		{name: "last-ack-peer-vanished",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2},
			server: passiveClose,
			sent:   []sent{{"server", F, false, 5}}},
		{name: "half-open",
			client: []tcp.State{CLOSED, SYN_SENT, ESTABLISHED},
			server: []tcp.State{CLOSED, LISTEN, SYN_RCVD, ESTABLISHED, CLOSED},
			sent:   []sent{{"client", R, true, 1}}},
		{name: "syn-timeout",
			client: []tcp.State{CLOSED, SYN_SENT, CLOSED},
			server: []tcp.State{CLOSED, LISTEN},
			sent:   []sent{{"client", S, true, 7}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := scenario.Lookup(c.name)
			if !ok {
				t.Fatalf("no scenario %q", c.name)
			}
			r, err := s.Run(scenario.Options{Seed: 1})
			if err != nil || r.Err != nil {
				t.Fatalf("run: %v %v", err, r.Err)
			}
			if !reflect.DeepEqual(r.ClientStates, c.client) {
				t.Errorf("client states\n got %v\nwant %v", r.ClientStates, c.client)
			}
			if c.server == nil {
				c.server = []tcp.State(nil)
			}
			if !reflect.DeepEqual(r.ServerStates, c.server) && !(len(c.server) == 0 && len(r.ServerStates) == 0) {
				t.Errorf("server states\n got %v\nwant %v", r.ServerStates, c.server)
			}
			for _, want := range c.sent {
				if got := count(r, want.host, want.flags, want.bare); got != want.n {
					t.Errorf("%s sent %d segments with %v, want %d", want.host, got, want.flags, want.n)
				}
			}
		})
	}
	if len(scenario.All()) != 19 {
		t.Errorf("%d scenarios, the table covers 19", len(scenario.All()))
	}
}

// The diagrams are the teaching material: each is compared with its
// golden file, regenerated by `go test ./scenario -update` and read by
// eye.
func TestGoldenDiagrams(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			r, err := s.Run(scenario.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := render.Text(&b, r.Events, render.TextOptions{Left: r.Client, Right: r.Server, Absolute: s.Absolute, Title: s.Name + " — " + s.Summary}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", s.Name+".golden")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./scenario -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("diagram differs from %s (rerun with -update if the change is intended):\n%s", path, diff(string(want), got))
			}
		})
	}
}

// diff shows the first differing line.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\nwant: " + wl + "\n got: " + gl
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// The same seed gives the same run; another seed other sequence numbers.
func TestDeterministic(t *testing.T) {
	s, _ := scenario.Lookup("lost-final-ack")
	a, _ := s.Run(scenario.Options{Seed: 5})
	b, _ := s.Run(scenario.Options{Seed: 5})
	c, _ := s.Run(scenario.Options{Seed: 6})
	if !reflect.DeepEqual(a.Events, b.Events) {
		t.Fatal("same seed, different events")
	}
	if reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("different seeds, identical events")
	}
}

func BenchmarkScenarios(b *testing.B) {
	for _, s := range scenario.All() {
		b.Run(s.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Run(scenario.Options{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The half-close scenario's client calls shutdown(SHUT_WR), not close(),
// and reads the reply after it: a program that called close() could read
// nothing more.
func TestHalfCloseIsShutdown(t *testing.T) {
	s, _ := scenario.Lookup("half-close")
	res, err := s.Run(scenario.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, e := range res.Events {
		if e.Kind == trace.AppCall && e.Host == "client" {
			calls = append(calls, e.Text)
		}
	}
	i := slicesIndex(calls, "shutdown(SHUT_WR)")
	if i < 0 || slicesIndex(calls, "close()") >= 0 {
		t.Fatalf("client calls %q: want shutdown(SHUT_WR) and no close()", calls)
	}
	if !strings.HasPrefix(strings.Join(calls[i+1:], " "), "read(") {
		t.Errorf("client calls %q: want reads after shutdown(SHUT_WR)", calls)
	}
	if !strings.Contains(s.Summary, "shutdown(SHUT_WR)") {
		t.Errorf("summary %q does not name the call", s.Summary)
	}
}

func slicesIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Every scenario has a Chinese summary, in the words readers search for.
func TestDescribeChinese(t *testing.T) {
	terms := map[string]string{
		"handshake": "三次握手", "client-closes-first": "四次挥手", "half-close": "半关闭",
		"lost-syn": "超时重传", "lost-final-ack": "2MSL", "half-open": "半开连接",
	}
	for _, s := range scenario.All() {
		zh := s.Describe("zh")
		if zh == s.Summary || !strings.ContainsFunc(zh, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
			t.Errorf("%s: no Chinese summary: %q", s.Name, zh)
		}
		if w := terms[s.Name]; w != "" && !strings.Contains(zh, w) {
			t.Errorf("%s: %q does not say %s", s.Name, zh, w)
		}
		if s.Describe("en") != s.Summary {
			t.Errorf("%s: English summary changed", s.Name)
		}
	}
}
