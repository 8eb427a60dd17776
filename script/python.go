package script

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/seqack/seqack/tcp"
)

// Python is an inline Python block %{ ... }% of assertions on the
// connection's tcp_info, as packetdrill runs them: each name tcpi_X is
// field X of Linux's struct tcp_info for the socket under test, taken at
// the block's time. The runner understands the subset such blocks use:
// assert statements whose expressions have integer literals, tcpi_
// fields, the TCP_CA_* and TCP_* state names, arithmetic, comparisons
// (chained, as in Python), and, or, not and parentheses.
type Python struct {
	// Text is the block as written, without %{ and }%.
	Text string
	// Asserts are its statements, in order.
	Asserts []Assert
}

// Assert is one assert statement.
type Assert struct {
	// Line is where it is in the script.
	Line int
	// Text is the expression as written.
	Text string
	expr expr
}

// InfoFields are the tcp_info fields (without tcpi_) a script may assert
// on: those seqack's engine knows (from tcp.Conn's Stats, Flight and
// the accessors beside them) and Linux reports the same way. A script
// naming another is skipped. Counts of segments the engine keeps in
// bytes (unacked, sacked, lost, retrans, delivered without RACK-TLP's
// records) read as Linux's do for full-sized segments. Left out, among
// others: segs_out (Linux does not count a passive open's SYN+ACK, sent
// before the socket exists; the engine's Conn does), probes, pacing and
// delivery-rate fields.
var InfoFields = map[string]string{
	"state":          "TCP_ESTABLISHED ... TCP_CLOSING, as Linux numbers states",
	"ca_state":       "TCP_CA_Open, _Disorder, _Recovery or _Loss (tcp.RecoveryState; never _CWR: no ECN)",
	"retransmits":    "retransmission timer expiries since data was last acknowledged",
	"advmss":         "the MSS our SYN offers, bytes",
	"rto":            "retransmission timeout, µs",
	"rtt":            "smoothed RTT, µs",
	"rttvar":         "RTT variation, µs",
	"snd_mss":        "largest payload sent, bytes",
	"snd_cwnd":       "congestion window, segments",
	"snd_ssthresh":   "slow-start threshold, segments (2147483647 before any loss)",
	"total_retrans":  "segments retransmitted",
	"bytes_received": "payload bytes received in order",
	"bytes_sent":     "payload bytes sent, retransmissions included",
	"bytes_retrans":  "payload bytes retransmitted",
	"segs_in":        "segments received",
	"snd_wnd":        "the peer's window, bytes",
	"backoff":        "RTO doublings since the last RTT sample (tcp.Conn.Backoff)",
	"ato":            "delayed-ACK timeout once data has arrived, µs (tcp.Conn.AckTimeout)",
	"rcv_mss":        "estimate of the peer's MSS, bytes (tcp.Conn.ReceiveMSS)",
	"unacked":        "segments sent and not cumulatively acknowledged (tcp.Flight)",
	"sacked":         "segments SACKed, or without SACK duplicate ACKs (tcp.Flight)",
	"lost":           "segments deemed lost (tcp.Flight)",
	"retrans":        "segments sent again and not yet acknowledged (tcp.Flight)",
	"reordering":     "reordering degree, segments: 3 (tcp.Conn.Reordering)",
	"delivered":      "segments delivered, the SYN included (tcp.Conn.Delivered)",
	"data_segs_in":   "segments received with data",
	"data_segs_out":  "segments sent with data, retransmissions included",
}

// pythonConstants are the names a block may use besides tcpi_ fields:
// Linux's TCP states and congestion-avoidance states.
var pythonConstants = map[string]float64{
	"True": 1, "False": 0,
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4,
	"TCP_FIN_WAIT2": 5, "TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8,
	"TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
	"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3, "TCP_CA_Loss": 4,
	"TCP_INFINITE_SSTHRESH": 0x7fffffff,
}

// ErrAssertion is wrapped by the error of an assert that does not hold.
var ErrAssertion = errors.New("AssertionError")

// AssertionError is an assert that did not hold (it wraps ErrAssertion):
// its text and the tcp_info fields it read, with their values, so that a
// caller can tell which fields failed it (the Linux target's tests run
// again a script whose failure depends only on timing-derived ones).
type AssertionError struct {
	// Text is the assert's expression, as written.
	Text string
	// Fields are the tcp_info fields the expression read, without
	// tcpi_, sorted by name.
	Fields []string
	// Values are their values, in Fields' order.
	Values []float64
}

// Error returns "AssertionError in inline Python: assert TEXT (tcpi_F =
// V, ...)".
func (e *AssertionError) Error() string {
	vals := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		vals[i] = fmt.Sprintf("tcpi_%s = %s", f, formatNumber(e.Values[i]))
	}
	return fmt.Sprintf("%v in inline Python: assert %s (%s)", ErrAssertion, e.Text, strings.Join(vals, ", "))
}

// Unwrap returns ErrAssertion.
func (e *AssertionError) Unwrap() error { return ErrAssertion }

// parsePython reads the body of a block that starts at line first. An
// error names what the runner cannot evaluate.
func parsePython(text string, first int) (*Python, error) {
	p := &Python{Text: text}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line, at := stripPythonComment(lines[i]), first+i
		// A statement continues while brackets are open or a line ends
		// in a backslash.
		for i+1 < len(lines) && (strings.HasSuffix(strings.TrimSpace(line), "\\") ||
			strings.Count(line, "(") > strings.Count(line, ")")) {
			i++
			line = strings.TrimSuffix(strings.TrimSpace(line), "\\") + " " + stripPythonComment(lines[i])
		}
		for _, stmt := range splitTop(line, ';') {
			stmt = strings.TrimSpace(stmt)
			if stmt == "" {
				continue
			}
			rest, ok := strings.CutPrefix(stmt, "assert")
			if !ok || rest == "" || !(rest[0] == ' ' || rest[0] == '\t' || rest[0] == '(') {
				return nil, fmt.Errorf("inline Python statement %q (only assert is run)", stmt)
			}
			// "assert expr, message": the message is not evaluated.
			cond := strings.TrimSpace(splitTop(rest, ',')[0])
			e, err := parseExpr(cond)
			if err != nil {
				return nil, fmt.Errorf("inline Python %q: %w", cond, err)
			}
			for _, name := range names(e) {
				field, isInfo := strings.CutPrefix(name, "tcpi_")
				_, isConst := pythonConstants[name]
				switch {
				case isInfo && InfoFields[field] == "":
					return nil, fmt.Errorf("tcp_info field %s: seqack does not know it", name)
				case !isInfo && !isConst:
					return nil, fmt.Errorf("inline Python name %s", name)
				}
			}
			p.Asserts = append(p.Asserts, Assert{Line: at, Text: cond, expr: e})
		}
	}
	return p, nil
}

// stripPythonComment cuts a "#" comment (outside quotes) off a line.
func stripPythonComment(s string) string {
	end := len(s)
	outsideQuotes(s, func(i int, c byte, _ int) bool {
		if c == '#' {
			end = i
			return false
		}
		return true
	})
	return s[:end]
}

// splitTop splits s at sep outside brackets and quotes.
func splitTop(s string, sep byte) []string {
	var parts []string
	start := 0
	outsideQuotes(s, func(i int, c byte, depth int) bool {
		if c == sep && depth == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
		return true
	})
	return append(parts, s[start:])
}

// outsideQuotes calls f with each byte c of s that lies outside a
// quoted string, its index i and the depth of brackets around it, until
// f returns false. The quotes themselves are not passed.
func outsideQuotes(s string, f func(i int, c byte, depth int) bool) {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case c == '\'' || c == '"':
			quote = c
			continue
		case c == ')' || c == ']' || c == '}':
			depth--
		}
		if !f(i, c, depth) {
			return
		}
		if c == '(' || c == '[' || c == '{' {
			depth++
		}
	}
}

// Check evaluates the block's asserts with info giving each tcp_info
// field (without tcpi_) and returns an error for the first that does
// not hold, naming its line and the values of the fields it read.
func (p *Python) Check(path string, info func(field string) (int64, bool)) error {
	for _, a := range p.Asserts {
		env := func(name string) (float64, error) {
			if field, ok := strings.CutPrefix(name, "tcpi_"); ok {
				v, ok := info(field)
				if !ok {
					return 0, fmt.Errorf("%w: tcp_info field %s", ErrUnsupported, name)
				}
				return float64(v), nil
			}
			if v, ok := pythonConstants[name]; ok {
				return v, nil
			}
			return 0, fmt.Errorf("name %s is not defined", name)
		}
		v, err := a.expr.eval(env)
		if err != nil {
			return &Error{path, a.Line, fmt.Errorf("inline Python: %w", err)}
		}
		if v == 0 {
			failed := &AssertionError{Text: a.Text}
			for _, n := range names(a.expr) {
				if x, err := env(n); err == nil && strings.HasPrefix(n, "tcpi_") {
					failed.Fields = append(failed.Fields, strings.TrimPrefix(n, "tcpi_"))
					failed.Values = append(failed.Values, x)
				}
			}
			return &Error{path, a.Line, failed}
		}
	}
	return nil
}

// formatNumber prints a value as Python would: integers without a
// fraction.
func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// An expr is a node of a parsed Python expression. Values are float64,
// as exact as Python's integers up to 2^53 (tcp_info's fields are 32 and
// 64 bits; counters beyond 2^53 do not occur in a script's run); a
// comparison or not gives 1 or 0, and and/or give an operand's value, as
// Python does.
type expr interface {
	eval(env func(name string) (float64, error)) (float64, error)
}

type (
	numberExpr float64
	nameExpr   string
	unaryExpr  struct {
		op string // "-", "+", "not"
		x  expr
	}
	binaryExpr struct {
		op   string // + - * / // % and or
		x, y expr
	}
	// compareExpr is a chain a < b <= c: each pair compared, all must hold.
	compareExpr struct {
		ops   []string
		terms []expr
	}
)

func (n numberExpr) eval(func(string) (float64, error)) (float64, error) { return float64(n), nil }

func (n nameExpr) eval(env func(string) (float64, error)) (float64, error) { return env(string(n)) }

func (u *unaryExpr) eval(env func(string) (float64, error)) (float64, error) {
	v, err := u.x.eval(env)
	if err != nil {
		return 0, err
	}
	switch u.op {
	case "-":
		return -v, nil
	case "not":
		return truth(v == 0), nil
	}
	return v, nil
}

func (b *binaryExpr) eval(env func(string) (float64, error)) (float64, error) {
	x, err := b.x.eval(env)
	if err != nil {
		return 0, err
	}
	// and, or: Python's short circuit, giving an operand's value.
	switch {
	case b.op == "and" && x == 0, b.op == "or" && x != 0:
		return x, nil
	}
	y, err := b.y.eval(env)
	if err != nil {
		return 0, err
	}
	switch b.op {
	case "and", "or":
		return y, nil
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	}
	if y == 0 {
		return 0, errors.New("ZeroDivisionError")
	}
	switch b.op {
	case "/":
		return x / y, nil
	case "//":
		return math.Floor(x / y), nil
	}
	return x - y*math.Floor(x/y), nil // %: the sign of the divisor, as Python
}

func (c *compareExpr) eval(env func(string) (float64, error)) (float64, error) {
	x, err := c.terms[0].eval(env)
	if err != nil {
		return 0, err
	}
	for i, op := range c.ops {
		y, err := c.terms[i+1].eval(env)
		if err != nil {
			return 0, err
		}
		var ok bool
		switch op {
		case "==":
			ok = x == y
		case "!=":
			ok = x != y
		case "<":
			ok = x < y
		case "<=":
			ok = x <= y
		case ">":
			ok = x > y
		case ">=":
			ok = x >= y
		}
		if !ok {
			return 0, nil
		}
		x = y
	}
	return 1, nil
}

func truth(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// names lists, sorted and once each, the names an expression reads.
func names(e expr) []string {
	seen := map[string]bool{}
	var walk func(expr)
	walk = func(e expr) {
		switch e := e.(type) {
		case nameExpr:
			seen[string(e)] = true
		case *unaryExpr:
			walk(e.x)
		case *binaryExpr:
			walk(e.x)
			walk(e.y)
		case *compareExpr:
			for _, t := range e.terms {
				walk(t)
			}
		}
	}
	walk(e)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// maxExprDepth bounds nesting, so that a hostile script cannot exhaust
// the stack.
const maxExprDepth = 64

// exprParser is a recursive-descent parser of Python's expression
// grammar, reduced to the subset above:
//
//	or_test    = and_test { "or" and_test }
//	and_test   = not_test { "and" not_test }
//	not_test   = "not" not_test | comparison
//	comparison = arith { ("=="|"!="|"<"|"<="|">"|">=") arith }
//	arith      = term { ("+"|"-") term }
//	term       = factor { ("*"|"/"|"//"|"%") factor }
//	factor     = ("-"|"+") factor | atom
//	atom       = number | name | "(" or_test ")"
type exprParser struct {
	toks  []string
	pos   int
	depth int
}

// parseExpr parses a Python expression of the subset.
func parseExpr(s string) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	e, err := p.orTest()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) take(ops ...string) (string, bool) {
	t := p.peek()
	for _, op := range ops {
		if t == op {
			p.pos++
			return t, true
		}
	}
	return "", false
}

func (p *exprParser) orTest() (expr, error)  { return p.binary(p.andTest, "or") }
func (p *exprParser) andTest() (expr, error) { return p.binary(p.notTest, "and") }
func (p *exprParser) arith() (expr, error)   { return p.binary(p.term, "+", "-") }
func (p *exprParser) term() (expr, error)    { return p.binary(p.factor, "*", "/", "//", "%") }

// binary parses next { op next }, left-associative.
func (p *exprParser) binary(next func() (expr, error), ops ...string) (expr, error) {
	x, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.take(ops...)
		if !ok {
			return x, nil
		}
		y, err := next()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{op: op, x: x, y: y}
	}
}

func (p *exprParser) notTest() (expr, error) {
	if _, ok := p.take("not"); ok {
		if p.depth++; p.depth > maxExprDepth {
			return nil, errors.New("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		x, err := p.notTest()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{op: "not", x: x}, nil
	}
	return p.comparison()
}

func (p *exprParser) comparison() (expr, error) {
	x, err := p.arith()
	if err != nil {
		return nil, err
	}
	c := &compareExpr{terms: []expr{x}}
	for {
		op, ok := p.take("==", "!=", "<", "<=", ">", ">=")
		if !ok {
			break
		}
		y, err := p.arith()
		if err != nil {
			return nil, err
		}
		c.ops, c.terms = append(c.ops, op), append(c.terms, y)
	}
	if len(c.ops) == 0 {
		return x, nil
	}
	return c, nil
}

func (p *exprParser) factor() (expr, error) {
	if op, ok := p.take("-", "+"); ok {
		if p.depth++; p.depth > maxExprDepth {
			return nil, errors.New("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		x, err := p.factor()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{op: op, x: x}, nil
	}
	return p.atom()
}

func (p *exprParser) atom() (expr, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, errors.New("unexpected end of expression")
	case t == "(":
		p.pos++
		if p.depth++; p.depth > maxExprDepth {
			return nil, errors.New("expression nested too deeply")
		}
		defer func() { p.depth-- }()
		x, err := p.orTest()
		if err != nil {
			return nil, err
		}
		if _, ok := p.take(")"); !ok {
			return nil, errors.New("missing )")
		}
		return x, nil
	case t[0] >= '0' && t[0] <= '9' || t[0] == '.':
		p.pos++
		v, err := parseNumber(t)
		if err != nil {
			return nil, err
		}
		return numberExpr(v), nil
	case isNameStart(t[0]) && !pythonKeywords[t]:
		p.pos++
		return nameExpr(t), nil
	}
	return nil, fmt.Errorf("unexpected %q", t)
}

// pythonKeywords are the words that cannot be names.
var pythonKeywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true, "lambda": true}

// parseNumber reads an integer (decimal, 0x, 0o, 0b, with _) or a
// decimal fraction.
func parseNumber(t string) (float64, error) {
	if strings.ContainsAny(t, ".eE") && !strings.HasPrefix(t, "0x") && !strings.HasPrefix(t, "0X") {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(v, 0) {
			return 0, fmt.Errorf("bad number %q", t)
		}
		return v, nil
	}
	if len(t) > 1 && t[0] == '0' && (t[1] >= '0' && t[1] <= '9') {
		return 0, fmt.Errorf("bad number %q", t) // Python 3 has no 017
	}
	v, err := strconv.ParseInt(t, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", t)
	}
	return float64(v), nil
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// tokenize splits an expression into numbers, names and operators.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case isNameStart(c):
			j := i + 1
			for j < len(s) && (isNameStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks, i = append(toks, s[i:j]), j
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (isNameStart(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '.' ||
				(s[j] == '+' || s[j] == '-') && (s[j-1] == 'e' || s[j-1] == 'E') && !strings.HasPrefix(s[i:], "0x")) {
				j++
			}
			toks, i = append(toks, s[i:j]), j
		default:
			op := ""
			for _, o := range []string{"//", "==", "!=", "<=", ">=", "(", ")", "+", "-", "*", "/", "%", "<", ">"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			toks, i = append(toks, op), i+len(op)
		}
	}
	return toks, nil
}

// linuxStates numbers tcp.State as Linux's tcp_info does.
var linuxStates = map[tcp.State]int64{
	tcp.Established: 1, tcp.SynSent: 2, tcp.SynReceived: 3, tcp.FinWait1: 4, tcp.FinWait2: 5,
	tcp.TimeWait: 6, tcp.Closed: 7, tcp.CloseWait: 8, tcp.LastAck: 9, tcp.Listen: 10, tcp.Closing: 11,
}

// infinity is the slow-start threshold before any loss, as Linux's
// TCP_INFINITE_SSTHRESH.
const infinity = 0x7fffffff

// connInfo gives the tcp_info fields of InfoFields from an engine
// connection, in Linux's units.
func connInfo(c *tcp.Conn) func(field string) (int64, bool) {
	st := c.Stats()
	segs := func(bytes int) int64 {
		if st.MSS <= 0 {
			return 0
		}
		return int64(bytes / st.MSS)
	}
	return func(field string) (int64, bool) {
		switch field {
		case "state":
			return linuxStates[c.State()], true
		case "ca_state":
			return int64(c.RecoveryState()), true
		case "retransmits":
			return int64(c.Timeouts()), true
		case "advmss":
			return int64(c.AdvertisedMSS()), true
		case "rto":
			return st.RTO.Microseconds(), true
		case "rtt":
			return st.SRTT.Microseconds(), true
		case "rttvar":
			return st.RTTVar.Microseconds(), true
		case "snd_mss":
			return int64(st.MSS), true
		case "snd_cwnd":
			return segs(st.CongestionWindow), true
		case "snd_ssthresh":
			if st.SlowStartThreshold >= infinity || st.SlowStartThreshold == 0 {
				return infinity, true
			}
			return segs(st.SlowStartThreshold), true
		case "total_retrans":
			return int64(st.Retransmissions), true
		case "bytes_received":
			return int64(st.BytesReceived), true
		case "bytes_sent":
			return int64(st.BytesSent + st.BytesRetransmitted), true
		case "bytes_retrans":
			return int64(st.BytesRetransmitted), true
		case "segs_in":
			return int64(st.SegmentsReceived), true
		case "snd_wnd":
			return int64(st.SendWindow), true
		case "backoff":
			return int64(c.Backoff()), true
		case "ato":
			return c.AckTimeout().Microseconds(), true
		case "rcv_mss":
			return int64(c.ReceiveMSS()), true
		case "unacked":
			return int64(c.Flight().Unacked), true
		case "sacked":
			return int64(c.Flight().SACKed), true
		case "lost":
			return int64(c.Flight().Lost), true
		case "retrans":
			return int64(c.Flight().Retransmitted), true
		case "reordering":
			return int64(c.Reordering()), true
		case "delivered":
			return int64(c.Delivered()), true
		case "data_segs_in":
			return int64(st.DataSegmentsReceived), true
		case "data_segs_out":
			return int64(st.DataSegmentsSent), true
		}
		return 0, false
	}
}

// python checks an inline Python block against the connection under
// test (the one the script's packets go to).
func (x *executor) python(ev *Event) {
	if x.cur == nil {
		x.failf(ev.Line, "%w: inline Python with no connection to read tcp_info from", ErrMismatch)
		return
	}
	x.log("%%{ %s }%%", strings.TrimSpace(ev.Python.Text))
	if err := ev.Python.Check(x.s.Path, connInfo(x.cur.conn)); err != nil && x.err == nil {
		x.err = err
	}
}
