package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqack/seqack/internal/netns"
)

// The drawing formats of "seqack scenario": --format, --out, --lang,
// --color and --explain.
func TestScenarioFormats(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []cliCase{
		{name: "svg", args: []string{"scenario", "lost-final-ack", "--format", "svg"}, status: exitOK,
			stdout: []string{`<svg xmlns="http://www.w3.org/2000/svg"`, "F. 1:1(0) ack 2 (retransmit)", ">TIME_WAIT<"}},
		{name: "mermaid", args: []string{"scenario", "lost-final-ack", "--format=mermaid"}, status: exitOK,
			stdout: []string{"sequenceDiagram\n", "client--xserver: . 2:2(0) ack 2 (lost)"}},
		{name: "html in Chinese", args: []string{"scenario", "refused", "--format", "html", "--lang", "zh"}, status: exitOK,
			stdout: []string{"<!DOCTYPE html>", `lang="zh-Hans"`, "连接被拒绝"}},
		{name: "explain", args: []string{"scenario", "lost-final-ack", "--explain"}, status: exitOK,
			stdout: []string{"time (s)", "restarts its 2MSL timer"}},
		{name: "explain in Chinese", args: []string{"scenario", "handshake", "--explain", "--lang", "zh"}, status: exitOK,
			stdout: []string{"三次握手"}},
		{name: "colour always", args: []string{"scenario", "lost-fin", "--color", "always"}, status: exitOK,
			stdout: []string{"\x1b[1mFIN_WAIT_1\x1b[0m", "\x1b[31m"}},
		{name: "no colour off a terminal", args: []string{"scenario", "lost-fin"}, status: exitOK,
			stdout: []string{"FIN_WAIT_1"}},
		{name: "pcap", args: []string{"scenario", "handshake", "--format", "pcap"}, status: exitOK,
			stdout: []string{"\x4d\x3c\xb2\xa1"}}, // the nanosecond pcap magic, little-endian
		{name: "bad format", args: []string{"scenario", "handshake", "--format", "png"}, status: exitUsage,
			stderr: []string{`--format "png": want text, svg, mermaid, html or pcap`}},
		{name: "bad lang", args: []string{"scenario", "handshake", "--lang", "fr"}, status: exitUsage,
			stderr: []string{`--lang "fr": want en or zh`}},
		{name: "bad color", args: []string{"scenario", "handshake", "--color", "sometimes"}, status: exitUsage,
			stderr: []string{`--color "sometimes"`}},
		{name: "bad width", args: []string{"scenario", "handshake", "--width", "-3"}, status: exitUsage,
			stderr: []string{"--width -3"}},
		{name: "unwritable out", args: []string{"scenario", "handshake", "--out", filepath.Join(dir, "no", "such", "dir.svg")}, status: exitError,
			stderr: []string{"no such file or directory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout := runCase(t, c)
			if c.name == "no colour off a terminal" && strings.Contains(stdout, "\x1b[") {
				t.Error("colour written to a non-terminal")
			}
		})
	}
	// --out writes the file and nothing to standard output.
	out := filepath.Join(dir, "run.html")
	var stdout, stderr bytes.Buffer
	if status := run([]string{"scenario", "lost-fin", "--format", "html", "--out", out}, &stdout, &stderr); status != exitOK || stdout.Len() != 0 {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout.String(), stderr.String())
	}
	page, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(page), "<!DOCTYPE html>") {
		t.Errorf("%s: %v %.100s", out, err, page)
	}
}

// A scenario's pcap opens in tshark with nothing malformed and no bad
// checksum, and seqack trace draws it back.
func TestScenarioPcapForWireshark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lost-final-ack.pcap")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"scenario", "lost-final-ack", "--format", "pcap", "--out", path}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"trace", path}, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "F. 1:1(0) ack 2") {
		t.Errorf("seqack trace of the capture: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	netns.CheckCapture(t, path)
}
