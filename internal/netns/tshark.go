package netns

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// tsharkChecks turns on the checksum validation Wireshark leaves off by
// default (offloading makes captured checksums unreliable on most
// machines; on a seqack link they are exactly what was sent).
var tsharkChecks = []string{
	"-o", "ip.check_checksum:TRUE",
	"-o", "tcp.check_checksum:TRUE",
	"-o", "udp.check_checksum:TRUE",
}

// problemFilter is a tshark display filter matching what must never be
// in a capture of seqack's traffic: packets the dissectors could not
// parse, and IP, TCP or ICMP checksums that do not verify (status 0 is
// "Bad").
const problemFilter = `_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0 || ` +
	`icmp.checksum.status == 0 || icmpv6.checksum.status == 0 || _ws.expert.severity == "Error"`

// CheckCapture runs tshark over the capture at path with checksum
// validation on. It fails the test for any malformed packet, bad
// checksum or expert error, and returns tshark's expert summary
// (`-z expert,note`) for the test to log: warnings and notes there
// ("previous segment not captured", "duplicate ACK", ...) are the test's
// to judge. It skips (see Skip) without tshark.
func CheckCapture(t testing.TB, path string) string {
	t.Helper()
	RequireTools(t, "tshark")
	problems := tshark(t, append([]string{"-r", path, "-n", "-Y", problemFilter}, tsharkChecks...)...)
	if strings.TrimSpace(problems) != "" {
		detail := tshark(t, append([]string{"-r", path, "-n", "-V", "-Y", problemFilter}, tsharkChecks...)...)
		if len(detail) > 20000 {
			detail = detail[:20000] + "\n…"
		}
		t.Errorf("tshark finds malformed packets, bad checksums or errors in %s:\n%s\n%s", path, problems, detail)
	}
	return tshark(t, append([]string{"-r", path, "-n", "-q", "-z", "expert,note"}, tsharkChecks...)...)
}

// Fields runs tshark over the capture at path and returns, for each
// packet that the display filter (if any) matches, the values of fields
// (tshark -T fields -e ...), tab-separated.
func Fields(t testing.TB, path, filter string, fields ...string) []string {
	t.Helper()
	RequireTools(t, "tshark")
	args := []string{"-r", path, "-n", "-T", "fields"}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := strings.TrimRight(tshark(t, append(args, tsharkChecks...)...), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// tshark runs tshark with args and returns its standard output, failing
// the test if it fails.
func tshark(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "tshark", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.Bytes())
	}
	return stdout.String()
}
