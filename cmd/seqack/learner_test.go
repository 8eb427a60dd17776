package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Flag errors are one line that names the flag as it was written and
// points to --help; the usage is not repeated.
func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"bad selector", []string{"scenario", "handshake", "--drop", "server:fim"},
			`seqack scenario: --drop "server:fim": bad selector "server:fim": kind "fim" is not one of any, syn, syn-ack, ack, data, fin, rst (seqack scenario --help lists the flags)`},
		{"one dash", []string{"scenario", "handshake", "-drop=server:fim"}, `seqack scenario: -drop "server:fim": bad selector`},
		{"unknown flag", []string{"scenario", "handshake", "--colour"}, "seqack scenario: --colour is not a flag of seqack scenario (seqack scenario --help lists the flags)"},
		{"no value", []string{"scenario", "handshake", "--drop"}, "seqack scenario: --drop needs a value"},
		{"bad duration", []string{"scenario", "handshake", "--msl", "forever"}, `seqack scenario: --msl "forever": not a valid value (seqack scenario --help lists the flags)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout := runCase(t, cliCase{args: c.args, status: exitUsage, stderr: []string{c.want}})
			_ = stdout
			var out, errb strings.Builder
			run(c.args, &out, &errb)
			if lines := strings.Count(errb.String(), "\n"); lines != 1 || strings.Contains(errb.String(), "Usage") {
				t.Errorf("want one line, got:\n%s", errb.String())
			}
			if strings.Contains(errb.String(), " -drop") && strings.Contains(strings.Join(c.args, " "), "--drop") {
				t.Errorf("flag written -drop for --drop: %s", errb.String())
			}
		})
	}
}

// openPty returns the two ends of a new pseudo-terminal.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// --format pcap refuses to write binary to a terminal, and says how to
// write it instead; to a file or a pipe it writes.
func TestPcapNotToTerminal(t *testing.T) {
	_, tty := openPty(t)
	var stderr strings.Builder
	if status := run([]string{"scenario", "handshake", "--format", "pcap"}, tty, &stderr); status != exitUsage {
		t.Errorf("status %d, want %d", status, exitUsage)
	}
	if !strings.Contains(stderr.String(), "--out FILE") {
		t.Errorf("stderr %q does not say how to write it", stderr.String())
	}
	runCase(t, cliCase{args: []string{"scenario", "handshake", "--format", "pcap"}, status: exitOK, stdout: []string{"\x4d\x3c\xb2\xa1"}})
}

// --lang zh gives the title, the diagram's words and the explanations in
// Chinese; the addresses stay out of the Chinese sentences.
func TestScenarioChinese(t *testing.T) {
	out := runCase(t, cliCase{args: []string{"scenario", "lost-fin", "--explain", "--lang", "zh", "--drop", "server:fin"}, status: exitOK,
		stdout: []string{"lost-fin — 客户端的 FIN 丢失", "故障：drop server:fin", "时间 (秒)", "客户端", "服务器", "（重传）", "丢失 ✕", "超时重传", "四次挥手"}})
	for _, english := range []string{"time (s)", "(retransmit)", " lost", "faults:"} {
		if strings.Contains(out, english) {
			t.Errorf("English %q in the Chinese output", english)
		}
	}
}

// --explain on a capture names the ends once, by role, and the
// sentences do not repeat the addresses.
func TestTraceExplainLegend(t *testing.T) {
	path := t.TempDir() + "/refused.pcap"
	runCase(t, cliCase{args: []string{"scenario", "refused", "--format", "pcap", "--out", path}, status: exitOK})
	out := runCase(t, cliCase{args: []string{"trace", path, "--explain"}, status: exitOK,
		stdout: []string{"client = 10.0.0.1:40000, server = 10.0.0.2:80", "(no listener)"}})
	_, steps, _ := strings.Cut(out, "client = 10.0.0.1:40000, server = 10.0.0.2:80")
	if strings.Contains(steps, "10.0.0.") {
		t.Errorf("the steps repeat an address:\n%s", steps)
	}
}
