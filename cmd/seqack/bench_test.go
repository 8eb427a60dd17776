package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	var stdout, stderr bytes.Buffer
	status := run([]string{"bench", "--time", "50ms", "--conns", "10"}, &stdout, &stderr)
	if status != exitOK {
		t.Fatalf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, exitOK, stdout.String(), stderr.String())
	}
	for _, row := range []string{
		`(?m)^workload +seqack +kernel +ratio$`,
		`(?m)^bulk mtu 1500 +[0-9.]+ [kMG]bit/s +[0-9.]+ [kMG]bit/s +[0-9.]+×$`,
		`(?m)^bulk mtu 65535 +[0-9.]+ [kMG]bit/s +[0-9.]+ [kMG]bit/s +[0-9.]+×$`,
		`(?m)^handshake +[0-9.]+ conn/s +[0-9.]+ conn/s +[0-9.]+×$`,
		`(?m)^idle heap/conn end +[0-9]+ B +\(not visible\) +—$`,
	} {
		if !regexp.MustCompile(row).MatchString(stdout.String()) {
			t.Errorf("stdout lacks a row matching %s:\n%s", row, stdout.String())
		}
	}
	// The default run is the three workloads against the kernel alone.
	for _, w := range []string{"udp", "tunnel"} {
		if strings.Contains(stdout.String(), w) {
			t.Errorf("the default run printed %q:\n%s", w, stdout.String())
		}
	}
}

// The tunnel workloads are quoted against gVisor under a header of
// their own; the udp workload against the kernel, before them whatever
// order --only names them in.
func TestBenchTunnelAndUDP(t *testing.T) {
	var stdout, stderr bytes.Buffer
	status := run([]string{"bench", "--only", "tunnel,tunnel-conns,udp", "--time", "50ms"}, &stdout, &stderr)
	if status != exitOK {
		t.Fatalf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, exitOK, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, row := range []string{
		`(?m)^workload +seqack +kernel +ratio\nudp 64 B +[0-9.]+ dgram/s +[0-9.]+ dgram/s +[0-9.]+×$`,
		`(?m)^udp 1024 B +[0-9.]+ dgram/s +[0-9.]+ dgram/s +[0-9.]+×\nin a tunnel +seqack +gVisor +ratio$`,
		`(?m)^tunnel +[0-9.]+ [kMG]bit/s +[0-9.]+ [kMG]bit/s +[0-9.]+×$`,
		`(?m)^tunnel-conns +[0-9.]+ conn/s +[0-9.]+ conn/s +[0-9.]+×$`,
	} {
		if !regexp.MustCompile(row).MatchString(out) {
			t.Errorf("stdout lacks a row matching %s:\n%s", row, out)
		}
	}
	if strings.Contains(out, "bulk") || strings.Contains(out, "handshake") {
		t.Errorf("--only tunnel,tunnel-conns,udp printed more:\n%s", out)
	}
}

func TestBenchOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	// With --norack too: the stacks run without RACK-TLP.
	status := run([]string{"bench", "--only", "idle,bulk", "--time", "20ms", "--conns", "5", "--norack"}, &stdout, &stderr)
	if status != exitOK {
		t.Fatalf("status %d, want %d\nstderr:\n%s", status, exitOK, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "handshake") || strings.Index(out, "bulk mtu 1500") > strings.Index(out, "idle heap") {
		t.Errorf("--only idle,bulk printed:\n%s", out)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"bench", "--colour"}, "--colour is not a flag of seqack bench"},
		{[]string{"bench", "--time", "forever"}, `--time "forever": not a valid value`},
		{[]string{"bench", "--time", "0s"}, "must be positive"},
		{[]string{"bench", "--conns", "0"}, "must be positive"},
		{[]string{"bench", "--only", "bulk,latency"}, `unknown workload "latency"`},
		{[]string{"bench", "extra"}, `unexpected argument "extra"`},
		{[]string{"bench", "--cc", "vegas"}, `--cc "vegas": no such congestion control (have `},
		{[]string{"bench", "--cc"}, "--cc needs a value"},
	} {
		var stdout, stderr bytes.Buffer
		if status := run(c.args, &stdout, &stderr); status != exitUsage {
			t.Errorf("%q: status %d, want %d", c.args, status, exitUsage)
		}
		if !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%q: stderr lacks %q:\n%s", c.args, c.stderr, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if status := run([]string{"bench", "--help"}, &stdout, &stderr); status != exitOK || !strings.Contains(stdout.String(), "--conns N") {
		t.Errorf("--help: status %d, stdout:\n%s", status, stdout.String())
	}
}

// --cc runs seqack's stacks with the congestion control named, and says
// what each side runs on the first line.
func TestBenchCongestionControl(t *testing.T) {
	var stdout, stderr bytes.Buffer
	status := run([]string{"bench", "--only", "handshake", "--time", "20ms", "--cc", "reno"}, &stdout, &stderr)
	if status != exitOK {
		t.Fatalf("status %d, want %d\nstderr:\n%s", status, exitOK, stderr.String())
	}
	if first, _, _ := strings.Cut(stdout.String(), "\n"); !strings.HasPrefix(first, "congestion control: seqack reno, kernel ") {
		t.Errorf("first line %q, want the congestion controls", first)
	}
}

// The kernel side gets --cc's algorithm if it has it loaded, and keeps
// its default, saying why, if not.
func TestKernelCongestion(t *testing.T) {
	available := []string{"reno", "cubic", "bbr"}
	for _, c := range []struct {
		name, def string
		set, note string
	}{
		{"", "bbr", "", "bbr (its default)"},
		{"", "", "", "? (its default)"},
		{"cubic", "bbr", "cubic", "cubic (TCP_CONGESTION)"},
		{"vegas", "cubic", "", "cubic (its default: no vegas in tcp_available_congestion_control)"},
	} {
		set, note := kernelCongestion(c.name, available, c.def)
		if set != c.set || note != c.note {
			t.Errorf("kernelCongestion(%q, %q, %q) = %q, %q; want %q, %q", c.name, available, c.def, set, note, c.set, c.note)
		}
	}
}
