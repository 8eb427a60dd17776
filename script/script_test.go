package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScripts runs every script of testdata/scripts against the seqack
// target; a failure fails the test, a skip is listed.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/scripts/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := RunFile(f, Engine)
			for _, n := range r.Notes {
				t.Log(n)
			}
			switch r.Status {
			case Failed:
				t.Error(r.Err)
			case Skipped:
				t.Skip(r.Unsupported)
			}
		})
	}
}

// TestCloseUnreadResets checks that close() with received data unread
// resets the connection (RFC 1122 §4.2.2.13), where it sent a FIN. The
// RST's flags are not asserted: whether it carries an ACK is the
// engine's choice (RFC 9293 §3.10.5 gives none; Linux sets one).
func TestCloseUnreadResets(t *testing.T) {
	src := `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 < P. 1:101(100) ack 1 win 65535
+0 > . 1:1(0) ack 101
+0 close(4) = 0
`
	r := RunSource("t.pkt", []byte(src), Engine)
	if r.Status != Passed {
		t.Fatalf("%v %v %v", r.Status, r.Err, r.Unsupported)
	}
	last := r.Trace[len(r.Trace)-2] // the segment close sent, then close's return
	if !strings.Contains(last, "> R") || strings.Contains(last, "F") {
		t.Fatalf("close sent %q, want a RST; trace:\n%s", last, strings.Join(r.Trace, "\n"))
	}
}

// TestRelativeAfterBlockingCall checks that "+t" after a blocking call
// counts from when the event is reached, not from when the call returns,
// as packetdrill and the Linux target count it: the second poll is
// scripted to return at 0.15 s but cannot start before the first returns
// at 0.2 s.
func TestRelativeAfterBlockingCall(t *testing.T) {
	src := `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0...0.1 poll([{fd=4, events=POLLIN, revents=0}], 1, 100) = 0
+0...0.05 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1
+.05 < P. 1:101(100) ack 1 win 65535
`
	r := RunSource("t.pkt", []byte(src), Engine)
	if r.Status != Failed || !strings.Contains(r.Err.Error(), "t.pkt:9: error in poll: expected it to return at 0.150000 sec, still blocked") {
		t.Fatalf("got %v %v %v", r.Status, r.Err, r.Unsupported)
	}
}

// TestTraceShowsClosedPortReset checks that the trace (-v) lists the RST
// a segment for no connection gets, as it lists every other segment.
func TestTraceShowsClosedPortReset(t *testing.T) {
	r := RunSource("t.pkt", []byte("0 < . 1:1(0) ack 1 win 65535\n+0 > R 1:1(0)\n"), Engine)
	if r.Status != Passed {
		t.Fatalf("%v %v", r.Status, r.Err)
	}
	if !strings.Contains(strings.Join(r.Trace, "\n"), "> R") {
		t.Fatalf("trace has no RST:\n%s", strings.Join(r.Trace, "\n"))
	}
}

// TestReports runs the scripts of testdata/reports, each of which fails,
// and checks the message against its .want file: the same on both
// targets (script/linux runs them too). A segment the script does not
// expect is reported at the injected packet or call that made the
// target send it, in the script's numbers as they were then.
func TestReports(t *testing.T) {
	files, err := filepath.Glob("testdata/reports/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".pkt") + ".want")
			if err != nil {
				t.Fatal(err)
			}
			r := RunFile(f, Engine)
			if r.Status != Failed || strings.TrimPrefix(r.Err.Error(), filepath.Dir(f)+"/") != strings.TrimSpace(string(want)) {
				t.Errorf("got %v %v\nwant %s\ntrace:\n%s", r.Status, r.Err, want, strings.Join(r.Trace, "\n"))
			}
		})
	}
}
