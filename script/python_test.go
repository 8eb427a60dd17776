package script

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestPythonExpr evaluates expressions of the subset with tcpi_rtt =
// 100000 and tcpi_snd_cwnd = 10, against what Python gives.
func TestPythonExpr(t *testing.T) {
	env := func(name string) (float64, error) {
		switch name {
		case "tcpi_rtt":
			return 100000, nil
		case "tcpi_snd_cwnd":
			return 10, nil
		}
		if v, ok := pythonConstants[name]; ok {
			return v, nil
		}
		return 0, errors.New("undefined " + name)
	}
	for _, tc := range []struct {
		text string
		want float64
	}{
		{"1", 1},
		{"0x10 + 0b11 + 0o7 + 1_000", 1026},
		{"tcpi_snd_cwnd == 10", 1},
		{"tcpi_snd_cwnd != 10", 0},
		{"90000 <= tcpi_rtt <= 110000", 1},
		{"90000 <= tcpi_rtt < 100000", 0},
		{"1 < 2 > 3", 0}, // chained: 1 < 2 and 2 > 3
		{"tcpi_rtt / 1000", 100},
		{"7 / 2", 3.5},
		{"7 // 2", 3},
		{"-7 // 2", -4},
		{"-7 % 3", 2},
		{"7 % -3", -2},
		{"2 + 3 * 4", 14},
		{"(2 + 3) * 4", 20},
		{"2 - 3 - 4", -5},
		{"- -3", 3},
		{"not 0", 1},
		{"not tcpi_snd_cwnd == 10", 0},
		{"1 and 2", 2},
		{"0 and 2", 0},
		{"0 or 3", 3},
		{"1 or 1 / 0", 1}, // short circuit
		{"tcpi_snd_cwnd == 10 and tcpi_rtt > 0 or False", 1},
		{"TCP_CA_Loss == 4 and TCP_ESTABLISHED == 1", 1},
		{"True + True", 2},
		{"1.5 * 2", 3},
		{"1e3", 1000},
	} {
		e, err := parseExpr(tc.text)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if got, err := e.eval(env); err != nil || got != tc.want {
			t.Errorf("%q = %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1 +", "(1", "1)", "1 2", "a b", "2 ** 3", "x[0]", "f(1)", "'s'", "017", "1 = 1", "and", "1 if 2 else 3", "0x", "1..2"} {
		if _, err := parseExpr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	e, _ := parseExpr("1 / (tcpi_snd_cwnd - 10)")
	if _, err := e.eval(env); err == nil || !strings.Contains(err.Error(), "ZeroDivisionError") {
		t.Errorf("division by zero: %v", err)
	}
}

// TestParsePython checks which blocks are evaluated and which skip the
// script, naming why.
func TestParsePython(t *testing.T) {
	for _, tc := range []struct {
		text    string
		asserts int
		want    string // "" if evaluated; else part of the reason
	}{
		{text: " assert tcpi_snd_cwnd == 10 ", asserts: 1},
		{text: "\nassert tcpi_rtt > 0, tcpi_rtt\nassert tcpi_rto >= 200000  # min RTO\n", asserts: 2},
		{text: "assert tcpi_rtt > 0; assert (tcpi_rto >\n 200000)", asserts: 2},
		{text: "assert tcpi_rtt > 0, 'rtt is %d' % tcpi_rtt", asserts: 1},
		{text: "assert(tcpi_rtt > 0)", asserts: 1},
		{text: "\n\n", asserts: 0},
		{text: "assert tcpi_probes == 0", want: "tcp_info field tcpi_probes: seqack does not know it"},
		{text: "assert tcpi_pacing_rate == 0", want: "tcpi_pacing_rate"},
		{text: "print(tcpi_rtt)", want: "only assert"},
		{text: "x = tcpi_rtt", want: "only assert"},
		{text: "import os", want: "only assert"},
		{text: "assert foo == 1", want: "name foo"},
		{text: "assert tcpi_rtt ** 2", want: "inline Python"},
	} {
		p, err := parsePython(tc.text, 10)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.want == "" && len(p.Asserts) != tc.asserts:
			t.Errorf("%q: %d asserts, want %d", tc.text, len(p.Asserts), tc.asserts)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

// TestPythonCheck checks a failing assert's message: its line and the
// values of the fields it read.
func TestPythonCheck(t *testing.T) {
	p, err := parsePython("\nassert tcpi_snd_cwnd == 10\nassert tcpi_snd_cwnd + tcpi_rtt < 5, tcpi_rtt\n", 7)
	if err != nil {
		t.Fatal(err)
	}
	info := func(f string) (int64, bool) { return map[string]int64{"snd_cwnd": 10, "rtt": 3}[f], true }
	err = p.Check("x.pkt", info)
	want := "x.pkt:9: AssertionError in inline Python: assert tcpi_snd_cwnd + tcpi_rtt < 5 (tcpi_rtt = 3, tcpi_snd_cwnd = 10)"
	if err == nil || err.Error() != want || !errors.Is(err, ErrAssertion) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var failed *AssertionError
	if !errors.As(err, &failed) || !slices.Equal(failed.Fields, []string{"rtt", "snd_cwnd"}) {
		t.Errorf("fields read: %+v, want rtt and snd_cwnd", failed)
	}
}

// TestPythonScripts runs blocks through the whole runner: an unknown
// field skips the script naming it; a false assert fails at its line.
func TestPythonScripts(t *testing.T) {
	head := "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n" +
		"+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n+0 > S 0:0(0) <...>\n"
	r := RunSource("x.pkt", []byte(head+"+0 %{ assert tcpi_probes == 0 }%\n"), Engine)
	if r.Status != Skipped || len(r.Unsupported) != 1 || !strings.Contains(r.Unsupported[0], "x.pkt:5: unsupported: tcp_info field tcpi_probes") {
		t.Errorf("unknown field: %v %v %v", r.Status, r.Err, r.Unsupported)
	}
	r = RunSource("x.pkt", []byte(head+"+0 %{\nassert tcpi_state == TCP_SYN_SENT\nassert tcpi_state == TCP_ESTABLISHED\n}%\n"), Engine)
	if r.Status != Failed || !strings.Contains(r.Err.Error(), "x.pkt:7: AssertionError in inline Python: assert tcpi_state == TCP_ESTABLISHED (tcpi_state = 2)") {
		t.Errorf("false assert: %v %v %v", r.Status, r.Err, r.Unsupported)
	}
	r = RunSource("x.pkt", []byte("%{ assert tcpi_rtt == 0 }%\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"), Engine)
	if r.Status != Failed || !strings.Contains(r.Err.Error(), "x.pkt:1: ") || !strings.Contains(r.Err.Error(), "no connection") {
		t.Errorf("no connection: %v %v", r.Status, r.Err)
	}
	r = RunSource("x.pkt", []byte(head+"+0 %{ assert tcpi_rtt == 0\n"), Engine)
	if r.Status != Skipped || !strings.Contains(r.Unsupported[0], "without }%") {
		t.Errorf("unclosed: %v %v %v", r.Status, r.Err, r.Unsupported)
	}
}

// FuzzPythonExpr checks that no input makes the expression parser or
// evaluator panic or recurse without bound.
func FuzzPythonExpr(f *testing.F) {
	for _, s := range []string{"1 < tcpi_rtt <= 3", "not (1 or 0) and -2 // 3 % 4", "((((1))))", "0x1f / 0", "1e308 * 1e308", "-" + strings.Repeat("(", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseExpr(s)
		if err != nil {
			return
		}
		e.eval(func(string) (float64, error) { return 1, nil })
		names(e)
		parsePython("assert "+s, 1)
	})
}
