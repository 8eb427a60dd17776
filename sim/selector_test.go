package sim_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
)

func TestParseSelector(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"server:fin", "server:fin"},
		{"client:any#3", "client:any#3"},
		{"syn-ack#1-2", "syn-ack#1-2"},
		{"SYN-ACK#1-2", "syn-ack#1-2"},
		{"client:ack@TIME_WAIT", "client:ack@TIME_WAIT"},
		{"client:ack@time_wait", "client:ack@TIME_WAIT"},
		{"data#2+", "data#2+"},
		{"rst#*", "rst#*"},
		{"any#1", "any"},
		{"server:fin@LAST_ACK#2", "server:fin@LAST_ACK#2"},
	} {
		s, err := sim.ParseSelector(c.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", c.in, err)
			continue
		}
		if got := s.String(); got != c.want {
			t.Errorf("ParseSelector(%q).String() = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseSelectorErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `sim: bad selector "": empty; want [SIDE:]KIND[@STATE][#COUNT], e.g. server:fin`},
		{"server:fim", `sim: bad selector "server:fim": kind "fim" is not one of any, syn, syn-ack, ack, data, fin, rst`},
		{":fin", `sim: bad selector ":fin": empty side before ':'`},
		{"fin#0", `sim: bad selector "fin#0": count "0": want N, N-M, N+ or * with N >= 1`},
		{"fin#3-2", `sim: bad selector "fin#3-2": count "3-2": range ends before it starts`},
		{"fin#x", `sim: bad selector "fin#x": count "x": want N, N-M, N+ or * with N >= 1`},
		{"ack@WAITING", `sim: bad selector "ack@WAITING": state "WAITING" is not one of CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT`},
	} {
		_, err := sim.ParseSelector(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseSelector(%q) error:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

func TestParseFault(t *testing.T) {
	f, err := sim.ParseFault("delay", "client:ack@TIME_WAIT=5s")
	if err != nil || f.Action != sim.Delay || f.Delay != 5*time.Second || f.String() != "delay client:ack@TIME_WAIT=5s" {
		t.Fatalf("%v %v", f, err)
	}
	for _, c := range [][2]string{{"drop", "fim"}, {"explode", "fin"}, {"delay", "fin"}, {"delay", "fin=soon"}, {"delay", "fin=-1s"}} {
		if _, err := sim.ParseFault(c[0], c[1]); err == nil {
			t.Errorf("ParseFault(%q, %q) accepted", c[0], c[1])
		}
	}
}
