package render

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// TextOptions configures Text.
type TextOptions struct {
	// Left and Right name the hosts of the two columns. By default the
	// host that sends the first SYN is on the left and the other on the
	// right.
	Left, Right string
	// Absolute prints sequence and acknowledgment numbers as on the wire;
	// by default they are relative to each side's ISN, learned from its
	// latest SYN, as Wireshark shows them.
	Absolute bool
	// Window adds each segment's advertised window ("win 65535").
	Window bool
	// Width is the width of the diagram in columns; 0 means 100.
	Width int
	// Title, if set, is printed above the diagram.
	Title string
	// ASCII draws with plain ASCII (-->, <--, X) for terminals without
	// Unicode.
	ASCII bool
	// Color adds ANSI colours for a terminal: states bold, lost and
	// corrupted segments red, retransmissions magenta, timers yellow,
	// application calls cyan, notes faint. The layout is the same as
	// without. The command line sets it when writing to a terminal and
	// NO_COLOR is not set.
	Color bool
}

// ANSI styles of a coloured diagram.
const (
	styleNone    = ""
	styleBold    = "1"
	styleLost    = "31"
	styleRexmit  = "35"
	styleTimer   = "33"
	styleApp     = "36"
	styleNote    = "2"
	styleCorrupt = "1;31"
)

// glyphs are the characters a diagram is drawn with.
type glyphs struct {
	line, right, left, lost, timer, note string
}

var (
	unicodeGlyphs = glyphs{line: "─", right: "▶", left: "◀", lost: "✕", timer: "⏱", note: "·"}
	asciiGlyphs   = glyphs{line: "-", right: ">", left: "<", lost: "X", timer: "@", note: "*"}
)

// timeWidth and sideWidth are the widths of the time margin and of each
// host's column; the arrows run between the two host columns.
const (
	timeWidth = 10
	sideWidth = 13
)

// Text draws events as the two-column sequence diagram of the
// founding article: time runs down the page, each side's states are
// written in its column on the row where they change, each segment is an
// arrow from its sender toward its receiver labelled in packetdrill
// notation, a lost segment's arrow stops in the middle with a cross, and
// timers and application calls are marked in their owner's column.
func Text(w io.Writer, events []trace.Event, opts TextOptions) error {
	r, err := newRenderer(events, opts)
	if err != nil {
		return err
	}
	r.render(events)
	_, err = io.WriteString(w, r.out.String())
	return err
}

type renderer struct {
	opts        TextOptions
	g           glyphs
	width       int
	left, right string
	fate        map[int]trace.Kind // what became of each segment ID
	isn         map[string]tcp.Seq
	seen        map[string]bool // host|seq|len|flags of segments sent, to spot retransmissions
	lastTime    time.Duration
	timeShown   bool
	out         strings.Builder
}

// ErrTooManyHosts is returned when the events involve more than two
// hosts: a two-column diagram cannot show them.
var ErrTooManyHosts = errors.New("render: events involve more than two hosts")

func newRenderer(events []trace.Event, opts TextOptions) (*renderer, error) {
	if err := oneConnection(events); err != nil {
		return nil, err
	}
	r := &renderer{
		opts:  opts,
		g:     unicodeGlyphs,
		width: opts.Width,
		fate:  make(map[int]trace.Kind),
		isn:   make(map[string]tcp.Seq),
		seen:  make(map[string]bool),
	}
	if opts.ASCII {
		r.g = asciiGlyphs
	}
	if r.width <= 0 {
		r.width = 100
	}
	r.width = max(r.width, timeWidth+2*sideWidth+30)
	var hosts []string
	var firstSYN string
	for _, e := range events {
		if e.Host != "" && (e.Kind == trace.SegmentSent || e.Kind == trace.StateChanged || e.Kind == trace.AppCall || e.Kind == trace.TimerFired) {
			if !contains(hosts, e.Host) {
				hosts = append(hosts, e.Host)
			}
		}
		if e.Kind == trace.SegmentSent && firstSYN == "" && e.Segment.Flags&(wire.FlagSYN|wire.FlagACK) == wire.FlagSYN {
			firstSYN = e.Host
		}
		switch e.Kind {
		case trace.SegmentDropped, trace.SegmentCorrupted:
			r.fate[e.ID] = e.Kind
		}
	}
	if len(hosts) > 2 {
		return nil, fmt.Errorf("%w: %s", ErrTooManyHosts, strings.Join(hosts, ", "))
	}
	r.left, r.right = opts.Left, opts.Right
	if r.left == "" {
		r.left = firstSYN
		if r.left == "" && len(hosts) > 0 {
			r.left = hosts[0]
		}
	}
	if r.right == "" {
		for _, h := range hosts {
			if h != r.left {
				r.right = h
			}
		}
	}
	return r, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *renderer) render(events []trace.Event) {
	if r.opts.Title != "" {
		r.out.WriteString(r.opts.Title + "\n\n")
	}
	r.row(-1, "time (s)", r.left, "", r.right, styleBold)
	leftInit, rightInit := initialState(events, r.left), initialState(events, r.right)
	r.row(-1, "", leftInit, "", rightInit, styleBold)
	for _, e := range events {
		if e.Host == r.left || e.Host == r.right || e.Kind == trace.Note {
			r.event(e)
		}
	}
}

// initialState is the state a host starts in: the From of its first state
// change, or CLOSED.
func initialState(events []trace.Event, host string) string {
	for _, e := range events {
		if e.Kind == trace.StateChanged && e.Host == host {
			return e.From.String()
		}
	}
	if host == "" {
		return ""
	}
	return tcp.Closed.String()
}

func (r *renderer) event(e trace.Event) {
	switch e.Kind {
	case trace.StateChanged:
		r.side(e.At, e.Host, e.To.String(), styleBold)
	case trace.TimerFired:
		r.side(e.At, e.Host, r.g.timer+" "+e.Timer.String(), styleTimer)
	case trace.AppCall:
		r.side(e.At, e.Host, e.Text, styleApp)
	case trace.SegmentSent:
		r.arrow(e, r.fate[e.ID], "")
	case trace.SegmentDuplicated:
		r.arrow(trace.Event{At: e.At, Host: e.Host, ID: e.Dup, Segment: e.Segment}, r.fate[e.Dup], "(dup) ")
	case trace.SegmentCorrupted:
		r.side(e.At, e.Host, r.g.lost+" bad checksum", styleCorrupt)
	case trace.SegmentDropped:
		if e.Text != "" { // dropped on arrival, e.g. the host was down
			r.side(e.At, e.Host, r.g.lost+" "+e.Text, styleLost)
		}
	case trace.Note:
		if !strings.HasPrefix(e.Text, "fault ") {
			r.row(e.At, "", "", r.g.note+" "+e.Text, "", styleNote)
		}
	}
}

// side writes text in host's column.
func (r *renderer) side(at time.Duration, host, text, style string) {
	if host == r.left {
		r.row(at, "", text, "", "", style)
	} else {
		r.row(at, "", "", "", text, style)
	}
}

// label returns the arrow label of a segment sent by host.
func (r *renderer) label(host string, seg tcp.Segment) string {
	peer := r.right
	if host == r.right {
		peer = r.left
	}
	if seg.Flags.Has(wire.FlagSYN) {
		r.isn[host] = seg.Seq
	}
	var text string
	if r.opts.Absolute {
		text = seg.String()
	} else {
		text = seg.Format(r.isn[host], r.isn[peer])
	}
	if !r.opts.Window {
		if i := strings.Index(text, " win "); i >= 0 {
			end := strings.IndexAny(text[i+5:], " ")
			if end < 0 {
				text = text[:i]
			} else {
				text = text[:i] + text[i+5+end:]
			}
		}
	}
	key := fmt.Sprintf("%s|%d|%d|%v", host, seg.Seq, len(seg.Payload), seg.Flags&^wire.FlagPSH)
	if seg.SeqLen() > 0 && r.seen[key] {
		text += " (retransmit)"
	}
	r.seen[key] = true
	return text
}

// arrow draws a segment from its sender's column toward the receiver's.
func (r *renderer) arrow(e trace.Event, fate trace.Kind, prefix string) {
	text := " " + prefix + r.label(e.Host, e.Segment) + " "
	style := styleNone
	switch {
	case fate == trace.SegmentDropped:
		style = styleLost
	case fate == trace.SegmentCorrupted:
		style = styleCorrupt
	case strings.HasSuffix(text, " (retransmit) "):
		style = styleRexmit
	}
	span := r.width - timeWidth - sideWidth // arrows run from mid-column to mid-column
	toRight := e.Host == r.left
	lost := fate == trace.SegmentDropped
	var b strings.Builder
	body := span
	if lost {
		body = span * 2 / 3
	}
	dashes := body - utf8.RuneCountInString(text) - 1
	lead := min(4, max(dashes, 0))
	if toRight {
		b.WriteString(strings.Repeat(r.g.line, lead) + text + strings.Repeat(r.g.line, max(dashes-lead, 1)))
		if lost {
			b.WriteString(r.g.lost + " lost")
		} else if fate == trace.SegmentCorrupted {
			b.WriteString(r.g.lost)
		} else {
			b.WriteString(r.g.right)
		}
		r.arrowRow(e.At, b.String(), true, style)
		return
	}
	switch {
	case lost:
		b.WriteString("lost " + r.g.lost)
	case fate == trace.SegmentCorrupted:
		b.WriteString(r.g.lost)
	default:
		b.WriteString(r.g.left)
	}
	b.WriteString(strings.Repeat(r.g.line, max(dashes-lead, 1)) + text + strings.Repeat(r.g.line, lead))
	r.arrowRow(e.At, b.String(), false, style)
}

// arrowRow writes an arrow: a left-to-right arrow starts at the left
// host's column, a right-to-left one ends at the right host's.
func (r *renderer) arrowRow(at time.Duration, arrow string, fromLeft bool, style string) {
	r.writeTime(at)
	start := timeWidth + sideWidth/2
	n := utf8.RuneCountInString(arrow)
	if !fromLeft {
		start = r.width - sideWidth/2 - n
	}
	r.out.WriteString(strings.Repeat(" ", max(start-timeWidth, 0)) + r.paint(style, arrow))
	r.out.WriteString("\n")
}

// row writes one line: the time (when it changed), then text in the left
// column, the middle and the right column (right-aligned).
func (r *renderer) row(at time.Duration, timeText, left, middle, right, style string) {
	if timeText != "" {
		r.out.WriteString(pad(timeText, timeWidth))
	} else {
		r.writeTime(at)
	}
	line := left
	if middle != "" {
		line = pad(line, sideWidth) + middle
	}
	if right != "" {
		line = pad(line, r.width-timeWidth-max(utf8.RuneCountInString(right), sideWidth))
		line += right
	}
	line = strings.TrimRight(line, " ")
	// Colour from the first character written, after the time margin's
	// padding: escape codes take no columns, so the layout is unchanged.
	if k := len(line) - len(strings.TrimLeft(line, " ")); k < len(line) {
		line = line[:k] + r.paint(style, line[k:])
	}
	r.out.WriteString(line + "\n")
}

// paint wraps s in the ANSI style when the diagram is coloured.
func (r *renderer) paint(style, s string) string {
	if !r.opts.Color || style == styleNone || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// writeTime writes the time margin: the time when it differs from the
// previous row's, else blanks.
func (r *renderer) writeTime(at time.Duration) {
	if at < 0 || (r.timeShown && at == r.lastTime) {
		r.out.WriteString(strings.Repeat(" ", timeWidth))
		return
	}
	r.lastTime, r.timeShown = at, true
	r.out.WriteString(pad(fmt.Sprintf("%8.3f", at.Seconds()), timeWidth))
}

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}
