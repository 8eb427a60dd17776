package script

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("syntax error")

// Script is a parsed packetdrill script.
type Script struct {
	// Path names the script in messages.
	Path string
	// Options are the --name=value header lines, in order.
	Options []Option
	// Events are the timed lines, in order.
	Events []Event
	// Unsupported lists, with line numbers, what the script uses that the
	// runner cannot do; a script with any is skipped.
	Unsupported []string
}

// Option is one --name[=value] header line.
type Option struct {
	Name, Value string
	Line        int
}

// TimeKind says how an event's time is given.
type TimeKind uint8

// The ways a time is written.
const (
	Absolute TimeKind = iota // "1.5": from the start of the script
	Relative                 // "+0.1": from the previous event
	AnyTime                  // "*": any time (outbound packets only)
)

// Time is when an event happens. Start is the time written; End is the
// end of a range "a~b" or of a blocking call "a...b" (Range or Blocking
// set), on the same base as Start unless EndRelative.
type Time struct {
	Kind        TimeKind
	Start, End  time.Duration
	Range       bool // "a~b": an outbound packet any time in [a, b]
	Blocking    bool // "a...b": a call that starts at a and returns at b
	EndRelative bool // the end was written "+b": relative to the start
}

// Event is one timed line: a packet, a socket call, a shell command or
// an inline Python block. A backtick line before the first timed event
// (the shared prologue) is an event at +0.
type Event struct {
	Line   int
	Time   Time
	Packet *Packet // one of Packet, Call, Shell and Python is set
	Call   *Call
	Shell  *Shell
	Python *Python
}

// Packet is a "<" (injected) or ">" (expected) line. Sequence, ack and
// SACK numbers in Seg are as written: relative except a SYN's seq.
//
// Options are held as tcp.Segment holds them, without order or NOPs, so
// an expected option list is compared as a set: the same options with
// the same values (TS val and ecr excepted, as in packetdrill).
type Packet struct {
	Inbound bool
	Seg     tcp.Segment
	// HasWindow: "win" was given (compared on expected packets).
	HasWindow bool
	// AnyOptions: the option list was "<...>".
	AnyOptions bool
	// Text is the segment as written, after the direction.
	Text string
}

// Call is a socket call and the result it must return.
type Call struct {
	Name string
	// Args are the arguments as written, split at top-level commas;
	// "..." means any.
	Args []string
	// Result is the expected return value; Errno the expected errno name
	// ("EAGAIN") when Result is -1, or "".
	Result int64
	Errno  string
	// Text is the call as written.
	Text string
}

// supportedCalls are the socket calls the seqack target implements.
var supportedCalls = map[string]bool{
	"socket": true, "bind": true, "listen": true, "accept": true, "connect": true,
	"write": true, "send": true, "read": true, "recv": true, "close": true,
	"shutdown": true, "setsockopt": true, "getsockopt": true, "fcntl": true,
	"ioctl": true, "poll": true, "sendto": true, "recvfrom": true, "writev": true, "readv": true,
	"sendmsg": true, "recvmsg": true,
}

// knownOptions are header options the runner uses or that do not change
// what a seqack run means (addresses and ports: the engine is below them).
var knownOptions = map[string]bool{
	"tolerance_usecs": true, "tolerance_percent": true, "mtu": true,
	"local_ip": true, "remote_ip": true, "gateway_ip": true, "netmask_ip": true,
	"bind_port": true, "connect_port": true, "ip_version": true,
	"strict_segments": true,
}

// Parse parses a script. Errors carry the line number and wrap ErrSyntax.
// What parses but cannot be run lands in Script.Unsupported.
func Parse(path string, src []byte) (*Script, error) {
	s := &Script{Path: path}
	lines := strings.Split(stripComments(string(src)), "\n")
	seenEvent := false
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" {
			continue
		}
		fail := func(format string, args ...any) (*Script, error) {
			return nil, fmt.Errorf("%s:%d: %w: %s", path, lineNo, ErrSyntax, fmt.Sprintf(format, args...))
		}
		unsupported := func(what string) {
			s.Unsupported = append(s.Unsupported, fmt.Sprintf("%s:%d: unsupported: %s", path, lineNo, what))
		}
		switch {
		case strings.HasPrefix(line, "%{"):
			// Untimed inline Python: at +0.
			var py *Python
			if i, py = pythonBlock(lines, i, line, unsupported); py != nil {
				s.Events = append(s.Events, Event{Line: lineNo, Time: Time{Kind: Relative}, Python: py})
			}
			continue
		case strings.HasPrefix(line, "`"):
			end := skipBackticks(lines, i)
			text := strings.Join(lines[i:end+1], "\n")
			i = end
			if sh := parseShellLine(text, unsupported); sh != nil {
				sh.Init = !seenEvent
				s.Events = append(s.Events, Event{Line: lineNo, Time: Time{Kind: Relative}, Shell: sh})
			}
			continue
		case strings.HasPrefix(line, "--"):
			if seenEvent {
				return fail("option %q after the first event", line)
			}
			name, value, _ := strings.Cut(line[2:], "=")
			name = strings.TrimSpace(name)
			if name == "" {
				return fail("empty option name")
			}
			opt := Option{Name: name, Value: strings.TrimSpace(value), Line: lineNo}
			if err := checkOption(opt); err != nil {
				return fail("%v", err)
			}
			s.Options = append(s.Options, opt)
			continue
		}
		seenEvent = true
		// A call's arguments may run over several lines.
		for !strings.ContainsAny(line, "%`") && strings.Count(line, "(")+strings.Count(line, "{")+strings.Count(line, "[") >
			strings.Count(line, ")")+strings.Count(line, "}")+strings.Count(line, "]") && i+1 < len(lines) {
			i++
			line += " " + strings.TrimSpace(lines[i])
		}
		timeText, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if t, tail, ok := strings.Cut(line, "\t"); ok && len(t) < len(timeText) {
			timeText, rest = t, strings.TrimSpace(tail)
		}
		t, err := parseTime(timeText)
		if err != nil {
			return fail("%v", err)
		}
		ev := Event{Line: lineNo, Time: t}
		switch {
		case rest == "":
			return fail("event has no action")
		case strings.HasPrefix(rest, "`"):
			end := skipBackticks(lines, i)
			text := rest
			if end > i {
				text = strings.Join(append([]string{rest}, lines[i+1:end+1]...), "\n")
			}
			i = end
			if t.Kind == AnyTime || t.Range || t.Blocking {
				return fail("a shell command needs an exact time")
			}
			if ev.Shell = parseShellLine(text, unsupported); ev.Shell == nil {
				continue
			}
		case strings.HasPrefix(rest, "%{"):
			if t.Kind == AnyTime || t.Range || t.Blocking {
				return fail("inline Python needs an exact time")
			}
			if i, ev.Python = pythonBlock(lines, i, rest, unsupported); ev.Python == nil {
				continue
			}
		case rest[0] == '<' || rest[0] == '>':
			p, what, err := parsePacket(rest)
			if err != nil {
				return fail("%v", err)
			}
			if what != "" {
				unsupported(what)
				continue
			}
			if p.Inbound && (t.Kind == AnyTime || t.Range) {
				return fail("an injected packet needs an exact time")
			}
			if t.Blocking {
				return fail("a packet cannot block")
			}
			ev.Packet = p
		default:
			c, err := parseCall(rest)
			if err != nil {
				return fail("%v", err)
			}
			if what := unsupportedCall(c); what != "" {
				unsupported(what)
				continue
			}
			if t.Kind == AnyTime || t.Range {
				return fail("a call needs an exact time")
			}
			ev.Call = c
		}
		s.Events = append(s.Events, ev)
	}
	return s, nil
}

// checkOption validates the values of the options the runner uses.
func checkOption(o Option) error {
	switch o.Name {
	case "tolerance_usecs", "mtu":
		if _, err := strconv.ParseUint(o.Value, 10, 31); err != nil {
			return fmt.Errorf("--%s=%q: want a whole number", o.Name, o.Value)
		}
	case "tolerance_percent":
		if v, err := strconv.ParseFloat(o.Value, 64); err != nil || v < 0 || v > 1000 || math.IsNaN(v) {
			return fmt.Errorf("--%s=%q: want a percentage", o.Name, o.Value)
		}
	}
	return nil
}

// stripComments blanks // and /* */ comments, keeping newlines so that
// line numbers stay right.
func stripComments(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			b[i], b[i+1] = ' ', ' '
			for i += 2; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// pythonBlock reads the inline Python block that starts with first
// (from its "%{", on line i) and returns the index of the line that
// closes it, and the block, or nil when the runner cannot evaluate it
// (reported with unsupported, naming why).
func pythonBlock(lines []string, i int, first string, unsupported func(string)) (int, *Python) {
	start := i
	body := strings.TrimPrefix(first, "%{")
	for !strings.Contains(body, "}%") && i+1 < len(lines) {
		i++
		body += "\n" + lines[i]
	}
	body, _, closed := strings.Cut(body, "}%")
	if !closed {
		unsupported("inline Python %{ without }%")
		return i, nil
	}
	py, err := parsePython(body, start+1)
	if err != nil {
		unsupported(err.Error())
		return i, nil
	}
	return i, py
}

// parseShellLine reads a backtick line (text from its first backtick),
// or reports it unsupported, naming the line, and returns nil.
func parseShellLine(text string, unsupported func(string)) *Shell {
	body := strings.TrimSpace(text)
	open, close := strings.IndexByte(body, '`'), strings.LastIndexByte(body, '`')
	if open < 0 || close <= open || strings.TrimSpace(body[close+1:]) != "" {
		unsupported("shell command " + body)
		return nil
	}
	sh, err := parseShell(body[open+1 : close])
	if err != nil {
		unsupported(fmt.Sprintf("shell command %s (%v)", body, err))
		return nil
	}
	return sh
}

// skipBackticks returns the index of the line that closes the backtick
// command opened on line i.
func skipBackticks(lines []string, i int) int {
	n := strings.Count(lines[i], "`")
	for n%2 == 1 && i+1 < len(lines) {
		i++
		n += strings.Count(lines[i], "`")
	}
	return i
}

// parseTime parses "1.5", "+.1", "*", "a~b", "a...b".
func parseTime(text string) (Time, error) {
	var t Time
	if text == "*" {
		t.Kind = AnyTime
		return t, nil
	}
	start, end, blocking := text, "", false
	if a, b, ok := strings.Cut(text, "..."); ok {
		start, end, blocking = a, b, true
	} else if a, b, ok := strings.Cut(text, "~"); ok {
		start, end = a, b
	}
	var err error
	var rel bool
	if t.Start, rel, err = parseSeconds(start); err != nil {
		return t, err
	}
	if rel {
		t.Kind = Relative
	}
	if end != "" || blocking {
		t.Range, t.Blocking = !blocking, blocking
		if t.End, t.EndRelative, err = parseSeconds(end); err != nil {
			return t, err
		}
		if t.EndRelative {
			t.End += t.Start
		}
		if t.End < t.Start {
			return t, fmt.Errorf("time %q ends before it starts", text)
		}
	}
	return t, nil
}

// parseSeconds parses "[+]seconds" with an optional fraction.
func parseSeconds(s string) (d time.Duration, relative bool, err error) {
	if strings.HasPrefix(s, "+") {
		relative, s = true, s[1:]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 || strings.ContainsAny(s, "eExXpPnN_") {
		return 0, false, fmt.Errorf("bad time %q", s)
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, relative, nil
}

// knownSegmentOptions are the option names tcp.ParseSegment understands.
var knownSegmentOptions = map[string]bool{
	"mss": true, "wscale": true, "sackOK": true, "TS": true, "sack": true, "nop": true, "eol": true,
}

// parsePacket parses a "<" or ">" line. A non-empty what names a feature
// the runner lacks.
func parsePacket(text string) (p *Packet, what string, err error) {
	p = &Packet{Inbound: text[0] == '<'}
	body := strings.TrimSpace(text[1:])
	p.Text = body
	if f := strings.Fields(body); len(f) > 0 {
		switch {
		case f[0] == "udp" || f[0] == "icmp" || f[0] == "sctp" || strings.HasPrefix(f[0], "["):
			return nil, "non-TCP or IP-level packet " + body, nil
		case strings.HasPrefix(f[0], "("):
			return nil, "IP header fields " + body, nil
		}
	}
	if strings.Contains(body, " encap ") || strings.Contains(body, "flowlabel") {
		return nil, "IP-level packet fields " + body, nil
	}
	segText := body
	if i := strings.IndexByte(body, '<'); i >= 0 {
		opts := strings.TrimSpace(body[i:])
		if !strings.HasSuffix(opts, ">") {
			return nil, "", fmt.Errorf("option list not closed by '>' in %q", body)
		}
		inner := strings.TrimSpace(opts[1 : len(opts)-1])
		if inner == "..." {
			if p.Inbound {
				return nil, "", errors.New("an injected packet cannot have <...> options")
			}
			p.AnyOptions = true
			segText = strings.TrimSpace(body[:i])
		} else {
			for _, part := range strings.Split(inner, ",") {
				name, _, _ := strings.Cut(strings.TrimSpace(part), " ")
				if !knownSegmentOptions[name] {
					return nil, "TCP option " + strings.TrimSpace(part), nil
				}
			}
		}
	}
	fields := strings.Fields(segText)
	for i := 2; i < len(fields); i++ {
		if fields[i] == "win" {
			p.HasWindow = true
		}
	}
	if p.Inbound && !p.HasWindow {
		return nil, "", fmt.Errorf("injected packet %q needs a window (win N)", body)
	}
	segText, rawAck, hasRawAck := cutBareAck(segText)
	seg, err := tcp.ParseSegment(segText)
	if err != nil {
		return nil, "", fmt.Errorf("packet: %w", err)
	}
	if hasRawAck {
		seg.Ack = rawAck
	}
	p.Seg = seg
	return p, "", nil
}

// cutBareAck takes "ack N" out of a segment whose flags lack '.', as
// packetdrill accepts it: the header's acknowledgment field carries N
// as written (not relative: without ACK the field means nothing to the
// receiver, RFC 9293 §3.1), and on expected packets it is not compared.
func cutBareAck(text string) (rest string, ack tcp.Seq, ok bool) {
	f := strings.Fields(text)
	if len(f) == 0 || strings.ContainsRune(f[0], '.') {
		return text, 0, false
	}
	for i := 2; i+1 < len(f); i++ {
		if f[i] != "ack" {
			continue
		}
		v, err := strconv.ParseUint(f[i+1], 10, 32)
		if err != nil {
			return text, 0, false // ParseSegment says why
		}
		return strings.Join(append(f[:i:i], f[i+2:]...), " "), tcp.Seq(v), true
	}
	return text, 0, false
}

// parseCall parses "name(args) = result [ERRNO] [(text)]".
func parseCall(text string) (*Call, error) {
	open := strings.IndexByte(text, '(')
	if open <= 0 {
		return nil, fmt.Errorf("%q: want name(args) = result", text)
	}
	c := &Call{Name: strings.TrimSpace(text[:open]), Text: text}
	for _, r := range c.Name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return nil, fmt.Errorf("%q is not a call name", c.Name)
		}
	}
	closeAt, err := matching(text, open)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	c.Args = splitArgs(text[open+1 : closeAt])
	rest := strings.TrimSpace(text[closeAt+1:])
	if !strings.HasPrefix(rest, "=") {
		return nil, fmt.Errorf("%q: want \"= result\" after the call", text)
	}
	fields := strings.Fields(rest[1:])
	if len(fields) == 0 {
		return nil, fmt.Errorf("%q: missing result", text)
	}
	if c.Result, err = strconv.ParseInt(fields[0], 0, 64); err != nil {
		return nil, fmt.Errorf("result %q: not a number", fields[0])
	}
	if len(fields) > 1 && !strings.HasPrefix(fields[1], "(") {
		c.Errno = fields[1]
		if c.Result != -1 {
			return nil, fmt.Errorf("errno %s given with result %d (want -1)", c.Errno, c.Result)
		}
	}
	return c, nil
}

// matching returns the index of the bracket closing the one at open.
func matching(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, errors.New("unbalanced brackets")
}

// splitArgs splits at commas outside brackets and quotes.
func splitArgs(s string) []string {
	var args []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			args = append(args, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(args) > 0 {
		args = append(args, last)
	}
	return args
}

// ioctlRequests are the ioctl requests the runner knows: the bytes
// queued to read (SIOCINQ, or FIONREAD) and written but not yet
// acknowledged (SIOCOUTQ, or TIOCOUTQ).
var ioctlRequests = map[string]bool{"SIOCINQ": true, "FIONREAD": true, "SIOCOUTQ": true, "TIOCOUTQ": true}

// unsupportedCall names what of c the seqack target cannot do, or "".
func unsupportedCall(c *Call) string {
	if !supportedCalls[c.Name] {
		return "system call " + c.Name
	}
	for _, a := range c.Args {
		switch {
		case strings.Contains(a, "tcpi_"):
			return "tcp_info in " + c.Name
		case a == "SOCK_DGRAM" || a == "IPPROTO_UDP" || a == "IPPROTO_SCTP":
			return "non-TCP socket " + a
		case strings.Contains(a, "MSG_") && !strings.HasPrefix(a, "{"): // a msghdr's msg_flags are recvmsg's to compare
			for _, f := range strings.Split(a, "|") {
				if f = strings.TrimSpace(f); f != "MSG_DONTWAIT" && f != "MSG_PEEK" && f != "MSG_MORE" {
					return "send/recv flag " + f
				}
			}
		}
	}
	switch c.Name {
	case "setsockopt", "getsockopt":
		if len(c.Args) < 3 {
			return ""
		}
		known := map[string]bool{
			"TCP_NODELAY": true, "TCP_MAXSEG": true, "TCP_CONGESTION": true,
			"SO_LINGER": true, "SO_KEEPALIVE": true, "SO_REUSEADDR": true,
			"TCP_KEEPIDLE": true, "TCP_KEEPINTVL": true, "TCP_KEEPCNT": true,
		}
		switch {
		case known[c.Args[2]], NumericOption(c.Args[2]): // a number: ENOPROTOOPT (sockopt.go)
		case ExtraOptions[c.Args[2]] || c.Name == "getsockopt" && c.Args[2] == "TCP_INFO": // sockopt.go
		case c.Name == "setsockopt" && (c.Args[2] == "SO_RCVBUF" || c.Args[2] == "SO_SNDBUF"):
		case c.Name == "getsockopt" && c.Args[2] == "SO_ERROR":
		default:
			return "socket option " + c.Args[2] + " in " + c.Name
		}
	case "ioctl":
		if len(c.Args) > 1 && !ioctlRequests[c.Args[1]] {
			return "ioctl " + c.Args[1]
		}
	}
	return ""
}
