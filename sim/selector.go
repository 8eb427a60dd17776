package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Kind is the KIND part of a selector.
type Kind uint8

// The segment kinds a selector can name.
const (
	KindAny Kind = iota
	KindSYN
	KindSYNACK
	KindACK
	KindData
	KindFIN
	KindRST
)

var kindNames = [...]string{"any", "syn", "syn-ack", "ack", "data", "fin", "rst"}

func (k Kind) String() string { return kindNames[k] }

// Matches reports whether seg is of kind k.
func (k Kind) Matches(seg *tcp.Segment) bool {
	f := seg.Flags
	switch k {
	case KindSYN:
		return f.Has(wire.FlagSYN) && !f.Has(wire.FlagACK)
	case KindSYNACK:
		return f.Has(wire.FlagSYN | wire.FlagACK)
	case KindACK:
		return f&(wire.FlagSYN|wire.FlagFIN|wire.FlagRST) == 0 && f.Has(wire.FlagACK) && len(seg.Payload) == 0
	case KindData:
		return len(seg.Payload) > 0
	case KindFIN:
		return f.Has(wire.FlagFIN)
	case KindRST:
		return f.Has(wire.FlagRST)
	}
	return true
}

// Selector picks segments by sender, kind, the sender's state and their
// position among the matching segments. See the package documentation
// for the syntax.
type Selector struct {
	Side     string // "" for any host
	Kind     Kind
	State    tcp.State
	HasState bool
	// From and To bound the 1-based count of matching segments; To == 0
	// means no upper bound.
	From, To int
}

// ParseSelector parses a selector (see the package documentation).
func ParseSelector(text string) (Selector, error) {
	s := Selector{From: 1, To: 1}
	bad := func(format string, args ...any) (Selector, error) {
		return Selector{}, fmt.Errorf("sim: bad selector %q: %s", text, fmt.Sprintf(format, args...))
	}
	rest := strings.TrimSpace(text)
	if rest == "" {
		return bad("empty; want [SIDE:]KIND[@STATE][#COUNT], e.g. server:fin")
	}
	if side, after, ok := strings.Cut(rest, ":"); ok {
		if side == "" {
			return bad("empty side before ':'")
		}
		s.Side, rest = side, after
	}
	if r, count, ok := strings.Cut(rest, "#"); ok {
		rest = r
		if err := s.parseCount(count); err != nil {
			return bad("%v", err)
		}
	}
	if r, state, ok := strings.Cut(rest, "@"); ok {
		rest = r
		st, found := tcp.ParseState(strings.ToUpper(state))
		if !found {
			return bad("state %q is not one of CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT", state)
		}
		s.State, s.HasState = st, true
	}
	found := false
	for i, name := range kindNames {
		if strings.EqualFold(rest, name) {
			s.Kind, found = Kind(i), true
		}
	}
	if !found {
		return bad("kind %q is not one of %s", rest, strings.Join(kindNames[:], ", "))
	}
	return s, nil
}

func (s *Selector) parseCount(c string) error {
	num := func(t string) (int, error) {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("count %q: want N, N-M, N+ or * with N >= 1", c)
		}
		return n, nil
	}
	var err error
	switch {
	case c == "*":
		s.From, s.To = 1, 0
	case strings.HasSuffix(c, "+"):
		s.From, err = num(strings.TrimSuffix(c, "+"))
		s.To = 0
	case strings.Contains(c, "-"):
		lo, hi, _ := strings.Cut(c, "-")
		if s.From, err = num(lo); err == nil {
			if s.To, err = num(hi); err == nil && s.To < s.From {
				err = fmt.Errorf("count %q: range ends before it starts", c)
			}
		}
	default:
		s.From, err = num(c)
		s.To = s.From
	}
	return err
}

// String returns the selector in the syntax ParseSelector reads.
func (s Selector) String() string {
	var b strings.Builder
	if s.Side != "" {
		b.WriteString(s.Side + ":")
	}
	b.WriteString(s.Kind.String())
	if s.HasState {
		b.WriteString("@" + s.State.String())
	}
	switch {
	case s.From == 1 && s.To == 0:
		b.WriteString("#*")
	case s.To == 0:
		fmt.Fprintf(&b, "#%d+", s.From)
	case s.From == s.To && s.From != 1:
		fmt.Fprintf(&b, "#%d", s.From)
	case s.From != s.To:
		fmt.Fprintf(&b, "#%d-%d", s.From, s.To)
	}
	return b.String()
}

// matchesSegment reports whether a segment sent by side in state matches
// the selector's side, kind and state (not its count).
func (s *Selector) matchesSegment(side string, state tcp.State, seg *tcp.Segment) bool {
	return (s.Side == "" || s.Side == side) && s.Kind.Matches(seg) && (!s.HasState || s.State == state)
}

// inCount reports whether the n-th matching segment is selected.
func (s *Selector) inCount(n int) bool { return n >= s.From && (s.To == 0 || n <= s.To) }
