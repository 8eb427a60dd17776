package script

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Shell is a backtick line the runner understands: packetdrill's shared
// prologue (a script running ../common/defaults.sh) and commands that
// only set known TCP sysctls. Anything else in a backtick line skips the
// script.
type Shell struct {
	// Text is the command between the backticks.
	Text string
	// Init: the line comes before the first timed event and runs before
	// the script's clock starts, as packetdrill runs its init command.
	Init bool
	// Defaults: the command runs ../common/defaults.sh (DefaultsScript).
	Defaults bool
	// Sysctls are the settings the command makes, in order: with
	// Defaults, those of defaults.sh (DefaultsSysctls) where it runs.
	Sysctls []Sysctl
}

// Sysctl is one kernel setting, by its dotted name
// ("net.ipv4.tcp_rmem") and the value written.
type Sysctl struct {
	Name, Value string
}

// DefaultsScript is the shared prologue upstream scripts run, relative
// to the script's directory.
const DefaultsScript = "../common/defaults.sh"

// DefaultsSysctls are what packetdrill's gtests/net/common/defaults.sh
// sets (as of 2024): production TCP settings of Linux, stated so that a
// test does not depend on the machine's. It also flushes the TCP metrics
// cache and puts a pfifo qdisc on tun0, which change nothing here: a
// fresh namespace has no cached metrics, and the engine no qdisc.
var DefaultsSysctls = []Sysctl{
	{"net.ipv4.tcp_rmem", "4096 540000 15728640"},
	{"net.ipv4.tcp_wmem", "4096 262144 4194304"},
	{"net.ipv4.tcp_timestamps", "1"},
	{"net.ipv4.tcp_syn_retries", "5"},
	{"net.ipv4.tcp_synack_retries", "5"},
	{"net.ipv4.tcp_frto", "2"},
	{"net.ipv4.tcp_sack", "1"},
	{"net.ipv4.tcp_dsack", "1"},
	{"net.ipv4.tcp_fack", "0"},
	{"net.ipv4.tcp_reordering", "3"},
	{"net.ipv4.tcp_congestion_control", "cubic"},
	{"net.ipv4.tcp_slow_start_after_idle", "0"},
	{"net.ipv4.tcp_early_retrans", "4"},
	{"net.ipv4.tcp_recovery", "1"},
	{"net.ipv4.tcp_tso_win_divisor", "3"},
	{"net.ipv4.tcp_ecn", "0"},
	{"net.ipv4.tcp_pacing_ss_ratio", "200"},
	{"net.ipv4.tcp_pacing_ca_ratio", "120"},
	{"net.ipv4.tcp_notsent_lowat", "4294967295"},
	{"net.ipv4.tcp_fastopen", "459779"}, // 0x70403
	{"net.ipv4.tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4"},
	{"net.ipv4.tcp_syncookies", "1"},
	{"net.mptcp.enabled", "1"},
}

// congestionSysctl names the default congestion control.
const congestionSysctl = "net.ipv4.tcp_congestion_control"

// sysctlSetters maps each sysctl the runner knows to how it sets the
// engine's configuration. A setter returns an error for a value the
// engine cannot take, which skips the script.
var sysctlSetters = map[string]func(cfg *tcp.Config, v string) error{
	// tcp_rmem's default is the initial receive buffer and its maximum
	// where auto-tuning stops; tcp_wmem's default is the send buffer.
	"net.ipv4.tcp_rmem": func(cfg *tcp.Config, v string) error {
		n, err := triple(v)
		if err != nil {
			return err
		}
		cfg.ReceiveBufferSize, cfg.MaxReceiveBufferSize = n[1], n[2]
		return nil
	},
	"net.ipv4.tcp_wmem": func(cfg *tcp.Config, v string) error {
		n, err := triple(v)
		if err != nil {
			return err
		}
		cfg.SendBufferSize = n[1]
		return nil
	},
	"net.ipv4.tcp_timestamps":            boolSetter(func(cfg *tcp.Config, on bool) { cfg.NoTimestamps = !on }),
	"net.ipv4.tcp_sack":                  boolSetter(func(cfg *tcp.Config, on bool) { cfg.NoSACK = !on }),
	"net.ipv4.tcp_slow_start_after_idle": boolSetter(func(cfg *tcp.Config, on bool) { cfg.NoRestartAfterIdle = !on }),
	"net.ipv4.tcp_mtu_probing": func(cfg *tcp.Config, v string) error {
		// 0: off; 1: on after a black hole is suspected (the engine's
		// way); 2 (always probe) the engine does not do.
		switch v {
		case "0":
			cfg.NoBlackHoleDetection = true
		case "1":
			cfg.NoBlackHoleDetection = false
		default:
			return errors.New("only 0 and 1")
		}
		return nil
	},
	"net.ipv4.tcp_syn_retries":    countSetter(func(cfg *tcp.Config, n int) { cfg.SynRetries = n }),
	"net.ipv4.tcp_synack_retries": countSetter(func(cfg *tcp.Config, n int) { cfg.SynAckRetries = n }),
	"net.ipv4.tcp_retries2":       countSetter(func(cfg *tcp.Config, n int) { cfg.Retries = n }),
	"net.ipv4.tcp_fin_timeout": countSetter(func(cfg *tcp.Config, n int) {
		cfg.FinWait2Timeout = time.Duration(n) * time.Second
	}),
	congestionSysctl: func(cfg *tcp.Config, v string) error {
		f, err := tcp.CongestionControlByName(v) // the engine's registry
		if err != nil {
			return err
		}
		cfg.CongestionControl = f
		return nil
	},
	// RACK (tcp_recovery bit 0) and TLP (tcp_early_retrans 3 or 4) are
	// one switch in the engine (RFC 8985 is both): tcp_recovery sets it,
	// and tcp_early_retrans must agree with TLP on.
	"net.ipv4.tcp_recovery": func(cfg *tcp.Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New("want a number")
		}
		cfg.NoRACK = n&1 == 0
		return nil
	},
	"net.ipv4.tcp_early_retrans": only("3", "4"),
	// Settings that state what the engine does anyway, or that have no
	// meaning for it (no ECN, FACK, TSO deferral, pacing, Fast Open or
	// MPTCP; reordering threshold 3 as RFC 5681 §3.2; D-SACK).
	"net.ipv4.tcp_dsack":           only("0", "1"),
	"net.ipv4.tcp_fack":            only("0"),
	"net.ipv4.tcp_frto":            only("0", "1", "2"),
	"net.ipv4.tcp_reordering":      only("3"),
	"net.ipv4.tcp_ecn":             only("0"),
	"net.ipv4.tcp_tso_win_divisor": anyValue,
	"net.ipv4.tcp_pacing_ss_ratio": anyValue,
	"net.ipv4.tcp_pacing_ca_ratio": anyValue,
	"net.ipv4.tcp_notsent_lowat":   only("4294967295", "-1"),
	"net.ipv4.tcp_fastopen":        anyValue,
	"net.ipv4.tcp_fastopen_key":    anyValue,
	"net.ipv4.tcp_syncookies":      only("0", "1"),
	"net.mptcp.enabled":            anyValue,
}

// anyValue accepts every value and changes nothing.
func anyValue(*tcp.Config, string) error { return nil }

// only accepts the values given and changes nothing.
func only(values ...string) func(*tcp.Config, string) error {
	return func(_ *tcp.Config, v string) error {
		for _, w := range values {
			if v == w {
				return nil
			}
		}
		return fmt.Errorf("only %s", strings.Join(values, ", "))
	}
}

func boolSetter(set func(cfg *tcp.Config, on bool)) func(*tcp.Config, string) error {
	return func(cfg *tcp.Config, v string) error {
		switch v {
		case "0":
			set(cfg, false)
		case "1":
			set(cfg, true)
		default:
			return errors.New("want 0 or 1")
		}
		return nil
	}
}

// countSetter takes a positive count (zero means "the default" to the
// engine, so it cannot be said).
func countSetter(set func(cfg *tcp.Config, n int)) func(*tcp.Config, string) error {
	return func(cfg *tcp.Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1<<20 {
			return errors.New("want a positive number")
		}
		set(cfg, n)
		return nil
	}
}

// triple reads "min default max".
func triple(v string) ([3]int, error) {
	var n [3]int
	f := strings.Fields(v)
	if len(f) != 3 {
		return n, errors.New(`want "min default max"`)
	}
	for i, s := range f {
		x, err := strconv.Atoi(s)
		if err != nil || x <= 0 || x > 1<<30 {
			return n, fmt.Errorf("bad size %q", s)
		}
		n[i] = x
	}
	if n[1] > n[2] {
		return n, errors.New("default above max")
	}
	return n, nil
}

// Apply sets what the sysctl means on the engine's configuration.
func (s Sysctl) Apply(cfg *tcp.Config) error {
	set, ok := sysctlSetters[s.Name]
	if !ok {
		return fmt.Errorf("sysctl %s: not one the runner knows", s.Name)
	}
	if err := set(cfg, s.Value); err != nil {
		return fmt.Errorf("sysctl %s=%q: %w", s.Name, s.Value, err)
	}
	return nil
}

// parseShell reads the text between a backtick line's backticks. An
// error says what the runner cannot do with it.
func parseShell(text string) (*Shell, error) {
	sh := &Shell{Text: text}
	cmds, err := shellCommands(text)
	if err != nil {
		return nil, err
	}
	for _, words := range cmds {
		words = dropQuietRedirects(words)
		if len(words) == 0 {
			continue
		}
		switch {
		case isDefaults(words):
			sh.Defaults = true
			sh.Sysctls = append(sh.Sysctls, DefaultsSysctls...)
		case words[0] == "sysctl":
			got := 0
			for _, w := range words[1:] {
				if strings.HasPrefix(w, "-") {
					if w != "-q" && w != "-w" && w != "-qw" && w != "-wq" {
						return nil, fmt.Errorf("sysctl flag %s", w)
					}
					continue
				}
				name, value, ok := strings.Cut(w, "=")
				if !ok {
					return nil, fmt.Errorf("sysctl %s: not a setting", w)
				}
				sh.Sysctls = append(sh.Sysctls, Sysctl{dotted(name), strings.TrimSpace(value)})
				got++
			}
			if got == 0 {
				return nil, errors.New("sysctl without a setting")
			}
		case words[0] == "echo" && len(words) >= 4 && words[len(words)-2] == ">" &&
			strings.HasPrefix(words[len(words)-1], "/proc/sys/"):
			name := dotted(strings.TrimPrefix(words[len(words)-1], "/proc/sys/"))
			sh.Sysctls = append(sh.Sysctls, Sysctl{name, strings.Join(words[1:len(words)-2], " ")})
		default:
			return nil, fmt.Errorf("command %s", strings.Join(words, " "))
		}
	}
	var cfg tcp.Config
	for _, s := range sh.Sysctls {
		if err := s.Apply(&cfg); err != nil {
			return nil, err
		}
	}
	return sh, nil
}

// isDefaults reports whether a command runs the shared prologue, as
// "../common/defaults.sh", "bash ../common/defaults.sh" or ". ...".
func isDefaults(words []string) bool {
	if len(words) == 2 && (words[0] == "sh" || words[0] == "bash" || words[0] == "." || words[0] == "source") {
		words = words[1:]
	}
	return len(words) == 1 && (words[0] == DefaultsScript || words[0] == "./"+DefaultsScript)
}

// dotted turns "net/ipv4/tcp_sack" into "net.ipv4.tcp_sack".
func dotted(name string) string { return strings.ReplaceAll(strings.TrimSpace(name), "/", ".") }

// dropQuietRedirects removes "> /dev/null", "2>&1" and the like, which
// change what a command prints, not what it does.
func dropQuietRedirects(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case w == "2>&1" || w == ">/dev/null" || w == "2>/dev/null" || w == "&>/dev/null":
		case (w == ">" || w == "2>" || w == "&>") && i+1 < len(words) && words[i+1] == "/dev/null":
			i++
		default:
			out = append(out, w)
		}
	}
	return out
}

// shellCommands splits shell text into commands (at ";", "&&", "||"
// and newlines) of words, with quotes removed. Expansions ($, `),
// pipes and subshells are not understood.
func shellCommands(text string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(text[i+1:], c)
			if end < 0 {
				return nil, errors.New("unclosed quote")
			}
			q := text[i+1 : i+1+end]
			if c == '"' && strings.ContainsAny(q, "$`\\") {
				return nil, fmt.Errorf("shell expansion in %q", q)
			}
			word.WriteString(q)
			inWord = true
			i += end + 1
		case c == '$' || c == '`' || c == '\\' || c == '(' || c == ')' || c == '<':
			return nil, fmt.Errorf("shell syntax %q", c)
		case c == '|' && i+1 < len(text) && text[i+1] == '|', c == '&' && i+1 < len(text) && text[i+1] == '&':
			endCmd()
			i++
		case c == '|':
			return nil, errors.New("a pipe")
		case c == ';' || c == '\n':
			endCmd()
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		case c == '>' && !inWord:
			endWord()
			words = append(words, ">")
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}
