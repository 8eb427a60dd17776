package main

import (
	"bytes"
	"strings"
	"testing"
)

// cliCase is one command line and what it must produce.
type cliCase struct {
	name   string
	args   []string
	status int
	stdout []string // substrings expected on stdout
	stderr []string // substrings expected on stderr
}

// runCase runs c's command line and checks its exit status and output;
// it returns what went to stdout, for further checks.
func runCase(t *testing.T, c cliCase) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := run(c.args, &stdout, &stderr)
	if status != c.status {
		t.Errorf("status %d, want %d\nstdout:\n%.2000s\nstderr:\n%s", status, c.status, stdout.String(), stderr.String())
	}
	for _, want := range c.stdout {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%.2000s", want, stdout.String())
		}
	}
	for _, want := range c.stderr {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	return stdout.String()
}

func TestRun(t *testing.T) {
	for _, c := range []cliCase{
		{name: "no args", args: nil, status: exitUsage, stderr: []string{"Usage:"}},
		{name: "help", args: []string{"help"}, status: exitOK, stdout: []string{"seqack scenario NAME"}},
		{name: "unknown command", args: []string{"frobnicate"}, status: exitUsage, stderr: []string{`unknown command "frobnicate"`}},
		{name: "list", args: []string{"scenario", "--list"}, status: exitOK,
			stdout: []string{"handshake ", "lost-final-ack ", "time-wait-reuse "}},
		{name: "scenario help", args: []string{"scenario", "--help"}, status: exitOK,
			stdout: []string{"[SIDE:]KIND[@STATE][#COUNT]", "--drop SEL"}},
		{name: "handshake", args: []string{"scenario", "handshake"}, status: exitOK,
			stdout: []string{"SYN_SENT", "SYN_RCVD", "S 0:0(0) <mss 1460>", "S. 0:0(0) ack 1", ". 1:1(0) ack 1"}},
		{name: "flags after the name", args: []string{"scenario", "client-closes-first", "--drop", "server:fin", "--msl", "2s"}, status: exitOK,
			stdout: []string{"faults: drop server:fin", "(retransmit)", "lost ✕", "   4.320  ⏱ 2MSL"}},
		{name: "flags before the name", args: []string{"scenario", "--absolute", "--ascii", "--seed", "3", "handshake"}, status: exitOK,
			stdout: []string{"-->", "<--"}},
		{name: "delay", args: []string{"scenario", "client-closes-first", "--delay", "client:ack@TIME_WAIT=5s"}, status: exitOK,
			stdout: []string{"delay client:ack@TIME_WAIT=5s"}},
		{name: "unknown scenario", args: []string{"scenario", "lost-everything"}, status: exitUsage,
			stderr: []string{`unknown scenario "lost-everything"`, "Scenarios: handshake, "}},
		{name: "no scenario", args: []string{"scenario"}, status: exitUsage, stderr: []string{"want one scenario name"}},
		{name: "two scenarios", args: []string{"scenario", "handshake", "abort"}, status: exitUsage, stderr: []string{"got 2"}},
		{name: "bad selector", args: []string{"scenario", "handshake", "--drop", "server:fim"}, status: exitUsage,
			stderr: []string{`kind "fim" is not one of any, syn, syn-ack, ack, data, fin, rst`}},
		{name: "bad delay", args: []string{"scenario", "handshake", "--delay", "server:fin"}, status: exitUsage,
			stderr: []string{"want SELECTOR=DURATION"}},
		{name: "bad duration", args: []string{"scenario", "handshake", "--msl", "forever"}, status: exitUsage,
			stderr: []string{`--msl "forever": not a valid value`}},
		{name: "zero msl", args: []string{"scenario", "handshake", "--msl", "0s"}, status: exitUsage,
			stderr: []string{"must be positive"}},
		{name: "bad flag", args: []string{"scenario", "handshake", "--colour"}, status: exitUsage,
			stderr: []string{"--colour is not a flag of seqack scenario (seqack scenario --help lists the flags)"}},
	} {
		t.Run(c.name, func(t *testing.T) { runCase(t, c) })
	}
}

// Every command answers a flag error with one line naming the flag as
// written, never the whole usage (which --help prints).
func TestFlagErrorsAreOneLine(t *testing.T) {
	for _, cmd := range []string{"scenario", "bench", "lab", "trace", "script", "listen", "dial", "http", "forward"} {
		var stdout, stderr bytes.Buffer
		if status := run([]string{cmd, "--colour"}, &stdout, &stderr); status != exitUsage {
			t.Errorf("%s --colour: status %d, want %d", cmd, status, exitUsage)
		}
		want := "seqack " + cmd + ": --colour is not a flag of seqack " + cmd + " (seqack " + cmd + " --help lists the flags)\n"
		if got := stderr.String(); got != want {
			t.Errorf("%s --colour: stderr %q, want %q", cmd, got, want)
		}
	}
}
