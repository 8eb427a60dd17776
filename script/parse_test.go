package script

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/wire"
)

func TestParse(t *testing.T) {
	src := `// header
--tolerance_usecs=10000
--mtu=1500
--some_linux_knob=1
/* a block
   comment */
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+.1...0.3 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)
0.2~0.4 > S 0:0(0) <...>
+0  < S. 5:5(0) ack 1 win 65535 <mss 1460,nop,wscale 7>
*   > - 1:1(0)
+0  setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1,
                linger=0}, 8) = 0
`
	s, err := Parse("t.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Options) != 3 || s.Options[0].Name != "tolerance_usecs" || s.Options[0].Value != "10000" {
		t.Errorf("options %+v", s.Options)
	}
	if len(s.Unsupported) != 0 {
		t.Errorf("unsupported %v", s.Unsupported)
	}
	if len(s.Events) != 6 {
		t.Fatalf("%d events", len(s.Events))
	}
	e := s.Events
	if e[0].Line != 7 || e[0].Call.Name != "socket" || e[0].Call.Result != 3 || len(e[0].Call.Args) != 3 {
		t.Errorf("socket: %+v %+v", e[0], e[0].Call)
	}
	if c := e[1].Call; c.Result != -1 || c.Errno != "ECONNREFUSED" || !e[1].Time.Blocking ||
		e[1].Time.Kind != Relative || e[1].Time.Start != 100*time.Millisecond || e[1].Time.End != 300*time.Millisecond {
		t.Errorf("connect: %+v %+v", e[1].Time, c)
	}
	if p := e[2].Packet; p.Inbound || !p.AnyOptions || !e[2].Time.Range || p.Seg.Flags != wire.FlagSYN {
		t.Errorf("syn: %+v %+v", e[2].Time, p)
	}
	if p := e[3].Packet; !p.Inbound || !p.HasWindow || p.Seg.Seq != 5 || p.Seg.Options.WindowScale != 7 {
		t.Errorf("syn-ack: %+v", p)
	}
	if p := e[4].Packet; e[4].Time.Kind != AnyTime || p.Seg.Flags != 0 {
		t.Errorf("no flags: %+v", p)
	}
	if c := e[5].Call; e[5].Line != 12 || c.Args[3] != "{onoff=1, linger=0}" {
		t.Errorf("multi-line call at %d: %q", e[5].Line, c.Args)
	}
	r := Run(s, Engine)
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "t.pkt:4: ignoring option --some_linux_knob") {
		t.Errorf("notes %q", r.Notes)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP)", "t.pkt:1: syntax error: \"socket(..., SOCK_STREAM, IPPROTO_TCP)\": want \"= result\""},
		{"\n\nx > S 0:0(0)", "t.pkt:3: syntax error: bad time \"x\""},
		{"0 < S 0:0(0)", "needs a window"},
		{"0 > S 0:5(1)", "does not hold 1 bytes"},
		{"0 > Q 0:0(0)", "flags \"Q\""},
		{"* < S 0:0(0) win 1", "injected packet needs an exact time"},
		{"0 write(3, ..., 1) = 1 EAGAIN", "want -1"},
		{"0 >", "want flags"},
		{"0.2~0.1 > S 0:0(0)", "ends before it starts"},
		{"--tolerance_usecs=lots", "want a whole number"},
		{"0 close(3) = 0\n--mtu=1500", "t.pkt:2: syntax error: option"},
	} {
		_, err := Parse("t.pkt", []byte(c.src))
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

func TestUnsupported(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"`ls /tmp`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "t.pkt:1: unsupported: shell command"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ assert tcpi_probes == 0 }%", "t.pkt:2: unsupported: tcp_info field tcpi_probes"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ print(tcpi_rto) }%", "t.pkt:2: unsupported: inline Python statement"},
		{"0 getsockopt(3, SOL_TCP, TCP_INFO, {tcpi_state=1}, 4) = 0", "tcp_info"},
		{"0 > S 0:0(0) <mss 1460,FO abcd>", "unsupported: TCP option FO abcd"},
		{"0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3", "non-TCP socket"},
		{"0 sendfile(3, 4, ..., 10) = 10", "system call sendfile"},
		{"0 setsockopt(3, IPPROTO_TCP, TCP_FASTOPEN, [1000], 4) = 0", "socket option TCP_FASTOPEN"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 sendmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_control(...)=[{cmsg_len=1}], msg_flags=0}, 0) = 10", "msg_control"},
		{"0 recv(4, ..., 10, MSG_PEEK|MSG_TRUNC) = 0", "send/recv flag MSG_TRUNC"},
		{"0 > udp (1000)", "non-TCP"},
	} {
		r := RunSource("t.pkt", []byte(c.src), Engine)
		if r.Status != Skipped || len(r.Unsupported) == 0 || !strings.Contains(r.Unsupported[0], c.want) {
			t.Errorf("%q: got %v %v %v, want skip %q", c.src, r.Status, r.Err, r.Unsupported, c.want)
		}
	}
}

// handshake is the start of a script that connects.
const handshake = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.1 connect(3, ..., ...) = 0
+0 > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0 > . 1:1(0) ack 1
`

// TestFailures checks that wrong scripts fail, at the right line, with a
// message that says what was expected and what happened.
func TestFailures(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"wrong ack", handshake + "+0 write(3, ..., 10) = 10\n+0 > P. 1:11(10) ack 2",
			"t.pkt:7: error handling packet: bad outbound TCP packet (tcp_ack): expected: P. 1:11(10) ack 2 / actual: P. 1:11(10) ack 1 win 65535"},
		{"wrong options", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <mss 1460>",
			"t.pkt:4: error handling packet: bad outbound TCP packet (tcp_options): expected: S 0:0(0) <mss 1460> / actual: S 0:0(0) win 65535 <mss 1460,sackOK,TS val"},
		{"too early", handshake + "+0 write(3, ..., 10) = 10\n+1 > P. 1:11(10) ack 1",
			"t.pkt:7: error handling packet: timing error: expected outbound packet at 1.100000 sec but happened at 0.100000 sec"},
		{"never sent", handshake + "+0 > P. 1:11(10) ack 1",
			"t.pkt:6: error handling packet: timed out waiting for outbound packet: expected: P. 1:11(10) ack 1"},
		{"wrong errno", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0...0.1 connect(3, ..., ...) = 0\n+0 > S 0:0(0) <...>\n+.1 < R. 0:0(0) ack 1 win 0",
			"t.pkt:2: error in connect: expected result 0 but got -1 with errno ECONNREFUSED (Connection refused)"},
		{"blocks too long", handshake + "+0 read(3, ..., 10) = 10",
			"t.pkt:6: error in read: expected it to return at 0.100000 sec, still blocked at 0.104000 sec"},
		{"returns too soon", handshake + "+0...1 write(3, ..., 10) = 10",
			"t.pkt:6: error in write: timing error: expected it to return at 1.100000 sec but it returned at 0.100000 sec"},
		{"EAGAIN", handshake + "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(3, ..., 10) = 10",
			"t.pkt:7: error in read: expected result 10 but got -1 with errno EAGAIN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := RunSource("t.pkt", []byte(c.src), Engine)
			if r.Status != Failed || !errors.Is(r.Err, ErrMismatch) || !strings.Contains(r.Err.Error(), c.want) {
				t.Errorf("got %v: %v\nwant %q\ntrace:\n%s", r.Status, r.Err, c.want, strings.Join(r.Trace, "\n"))
			}
		})
	}
}

// TestNonBlocking covers O_NONBLOCK: EINPROGRESS, EAGAIN, and SO_ERROR.
func TestNonBlocking(t *testing.T) {
	src := `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+0 connect(3, ..., ...) = -1 EALREADY
+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0 > . 1:1(0) ack 1
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
+0 read(3, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)
+.1 < P. 1:11(10) ack 1 win 65535
+0 > . 1:1(0) ack 11
+0 read(3, ..., 100) = 10
+.1 < F. 11:11(0) ack 1 win 65535
+0 > . 1:1(0) ack 12
+0 read(3, ..., 100) = 0
`
	if r := RunSource("t.pkt", []byte(src), Engine); r.Status != Passed {
		t.Fatalf("%v: %v\n%s", r.Status, r.Err, strings.Join(r.Trace, "\n"))
	}
}

// TestCoalesce: several real segments match one larger scripted one,
// unless --strict_segments is given.
func TestCoalesce(t *testing.T) {
	body := handshake + `+0 setsockopt(3, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0
+0 write(3, ..., 3000) = 3000
+0 > P. 1:3001(3000) ack 1
`
	if r := RunSource("t.pkt", []byte(body), Engine); r.Status != Passed {
		t.Errorf("merged: %v: %v", r.Status, r.Err)
	}
	r := RunSource("t.pkt", []byte("--strict_segments\n"+body), Engine)
	if r.Status != Failed || !strings.Contains(r.Err.Error(), "(tcp_flags): expected: P. 1:3001(3000) ack 1 / actual: . 1:1461(1460) ack 1 win 65535") {
		t.Errorf("strict: %v: %v", r.Status, r.Err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(handshake))
	f.Add([]byte("--mtu=1500\n/* x */ 0.1~+0.2 > S. 0:0(0) ack 1 <...>\n`ls`\n%{ x }%"))
	f.Add([]byte("0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0"))
	f.Add([]byte("`../common/defaults.sh; sysctl -q net.ipv4.tcp_sack=0`\n" + handshake +
		"\n+0 %{\nassert tcpi_snd_cwnd == 10 and 0 < tcpi_rtt <= 100000, tcpi_rtt\n}%\n" +
		"+0 ioctl(3, SIOCOUTQ, [0]) = 0\n+0 writev(3, [{..., 10}, {..., 20}], 2) = 30\n" +
		"+0...0.1 poll([{fd=3, events=POLLIN, revents=0}], 1, 100) = 0\n" +
		"+0 recv(3, ..., 10, MSG_PEEK|MSG_DONTWAIT) = -1 EAGAIN\n+0 < R 1:1(0) ack 5 win 0\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.pkt", src)
		if err == nil && len(src) < 2000 {
			// Running must not panic either; virtual time keeps it quick.
			Run(s, Engine)
		}
	})
}

// TestBareAck checks that "ack N" without the '.' flag parses, as in
// packetdrill: the field holds N, the flag stays off.
func TestBareAck(t *testing.T) {
	s, err := Parse("t.pkt", []byte("0 < R 1:1(0) ack 7 win 0\n0 > S 0:0(0) ack 3 <...>\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{7, 3} {
		seg := s.Events[i].Packet.Seg
		if uint32(seg.Ack) != want || seg.Flags.Has(wire.FlagACK) {
			t.Errorf("event %d: ack %d flags %v, want ack %d without ACK", i, seg.Ack, seg.Flags, want)
		}
	}
	if _, err := Parse("t.pkt", []byte("0 < R 1:1(0) ack x win 0\n")); err == nil {
		t.Error("ack x parsed")
	}
}
