package script

import (
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// TestParseShell checks which backtick lines become configuration and
// which skip the script, with the configuration each gives.
func TestParseShell(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string // "" for supported; else part of the reason
		cfg  func(c *tcp.Config) bool
	}{
		{text: "../common/defaults.sh", cfg: func(c *tcp.Config) bool {
			return c.ReceiveBufferSize == 540000 && c.MaxReceiveBufferSize == 15<<20 &&
				c.SendBufferSize == 256<<10 && c.SynRetries == 5 && !c.NoRACK && !c.NoSACK
		}},
		{text: "bash ../common/defaults.sh > /dev/null 2>&1"},
		{text: "../common/defaults.sh; sysctl -q net.ipv4.tcp_sack=0", cfg: func(c *tcp.Config) bool { return c.NoSACK }},
		{text: "../common/defaults.sh && sysctl -q -w net.ipv4.tcp_timestamps=0", cfg: func(c *tcp.Config) bool { return c.NoTimestamps }},
		{text: `sysctl -q net.ipv4.tcp_rmem="4096 87380 6291456"`, cfg: func(c *tcp.Config) bool {
			return c.ReceiveBufferSize == 87380 && c.MaxReceiveBufferSize == 6291456
		}},
		{text: "echo 3 > /proc/sys/net/ipv4/tcp_retries2", cfg: func(c *tcp.Config) bool { return c.Retries == 3 }},
		{text: "echo 7 >/proc/sys/net/ipv4/tcp_fin_timeout", cfg: func(c *tcp.Config) bool { return c.FinWait2Timeout == 7*time.Second }},
		{text: "sysctl -q net.ipv4.tcp_mtu_probing=0 net.ipv4.tcp_recovery=0", cfg: func(c *tcp.Config) bool {
			return c.NoBlackHoleDetection && c.NoRACK
		}},
		{text: "sysctl -q net/ipv4/tcp_congestion_control=reno", cfg: func(c *tcp.Config) bool { return c.CongestionControl != nil }},
		{text: "ls /tmp", want: "command ls"},
		{text: "sysctl -q net.ipv4.tcp_congestion_control=vegas", want: "no such congestion control"},
		{text: "sysctl -q net.ipv4.tcp_ecn=1", want: "tcp_ecn"},
		{text: "sysctl -q net.ipv4.tcp_syn_retries=0", want: "positive"},
		{text: "sysctl -q net.ipv4.tcp_no_such=1", want: "not one the runner knows"},
		{text: `sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"`, want: "expansion"},
		{text: "cat /proc/net/tcp | wc -l", want: "pipe"},
		{text: "sysctl -a", want: "flag"},
		{text: "sysctl -q net.ipv4.tcp_sack", want: "not a setting"},
		{text: "echo 'unclosed", want: "quote"},
	} {
		sh, err := parseShell(tc.text)
		switch {
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: got %v, want an error with %q", tc.text, err, tc.want)
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.want == "" && tc.cfg != nil:
			var cfg tcp.Config
			for _, s := range sh.Sysctls {
				if err := s.Apply(&cfg); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.cfg(&cfg) {
				t.Errorf("%q: configuration %+v", tc.text, cfg)
			}
		}
	}
}

// TestShellLineSkips checks that a script with a shell line the runner
// cannot do is skipped, and the reason names the line.
func TestShellLineSkips(t *testing.T) {
	r := RunSource("x.pkt", []byte("`ls /tmp`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"), Engine)
	if r.Status != Skipped || len(r.Unsupported) != 1 || !strings.Contains(r.Unsupported[0], "x.pkt:1: unsupported: shell command `ls /tmp`") {
		t.Fatalf("got %v %v %v", r.Status, r.Err, r.Unsupported)
	}
}
