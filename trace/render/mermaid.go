package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/seqack/seqack/trace"
)

// MermaidOptions configures Mermaid.
type MermaidOptions struct {
	// Left and Right name the two participants, as in TextOptions.
	Left, Right string
	// Absolute and Window change the segment labels as in TextOptions.
	Absolute, Window bool
	// Title, if set, becomes a note over both participants at the top.
	Title string
	// Times prefixes each message with the time it was sent ("0.110 ").
	Times bool
}

// Mermaid writes events as a Mermaid sequenceDiagram, for pasting
// into Markdown that renders Mermaid (GitHub, GitLab, many wikis): the two
// hosts are participants; a delivered segment is a solid arrow (->>), a
// lost or corrupted one a dotted arrow ending in a cross (--x); states,
// timers and application calls are notes over their host; idle stretches
// of more than two seconds are a note over both. Mermaid has no time
// axis, so arrows are not sloped: each message is drawn when it was sent.
func Mermaid(w io.Writer, events []trace.Event, opts MermaidOptions) error {
	d, err := buildDiagram(events, labelOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Window: opts.Window})
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	left, right := mermaidName(d.left), mermaidName(d.right)
	fmt.Fprintf(&b, "    participant %s\n", left)
	if d.right != "" {
		fmt.Fprintf(&b, "    participant %s\n", right)
	}
	both := left
	if d.right != "" {
		both += "," + right
	}
	if opts.Title != "" {
		fmt.Fprintf(&b, "    Note over %s: %s\n", both, mermaidText(strings.ReplaceAll(opts.Title, "\n", " — ")))
	}
	for _, h := range []string{d.left, d.right} {
		if h != "" && d.initial[h] != "" {
			fmt.Fprintf(&b, "    Note over %s: %s\n", mermaidName(h), d.initial[h])
		}
	}
	for i, it := range d.items {
		if i > 0 {
			if idle := it.at - d.items[i-1].at; idle >= svgBreakAfter {
				fmt.Fprintf(&b, "    Note over %s: ⋯ %s later ⋯\n", both, seconds(idle))
			}
		}
		switch it.kind {
		case itemState:
			fmt.Fprintf(&b, "    Note over %s: %s\n", mermaidName(it.host), it.text)
		case itemTimer:
			fmt.Fprintf(&b, "    Note over %s: ⏱ %s\n", mermaidName(it.host), mermaidText(it.text))
		case itemApp:
			fmt.Fprintf(&b, "    Note over %s: %s\n", mermaidName(it.host), mermaidText(it.text))
		case itemNote:
			fmt.Fprintf(&b, "    Note over %s: %s\n", both, mermaidText(it.text))
		case itemArrive:
			if it.seg.fate == trace.SegmentCorrupted {
				fmt.Fprintf(&b, "    Note over %s: ✕ bad checksum\n", mermaidName(it.host))
			} else if it.seg.fate == trace.SegmentDropped {
				fmt.Fprintf(&b, "    Note over %s: ✕ %s\n", mermaidName(it.host), mermaidText(it.seg.fateText))
			}
		case itemSend:
			s := it.seg
			arrow, suffix := "->>", ""
			switch {
			case s.fate == trace.SegmentDropped && s.dropInNet:
				arrow, suffix = "--x", " (lost)"
			case s.fate == trace.SegmentDropped:
				arrow, suffix = "--x", " (lost: "+s.fateText+")"
			case s.fate == trace.SegmentCorrupted:
				arrow, suffix = "--x", " (corrupted)"
			case s.fate == 0:
				arrow, suffix = "--x", " (never arrived)"
			}
			text := s.label + suffix
			if opts.Times {
				text = fmt.Sprintf("%.3f %s", s.sent.Seconds(), text)
			}
			fmt.Fprintf(&b, "    %s%s%s: %s\n", mermaidName(s.from), arrow, mermaidName(s.to), mermaidText(text))
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// mermaidName makes a host name usable as a participant: Mermaid reads
// letters, digits and a few signs; anything else becomes '_'.
func mermaidName(h string) string {
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// mermaidText escapes message and note text. Mermaid ends a statement at
// ';' and a new line, starts an entity code at '#', and sanitises text as
// HTML, so that "<mss 1460>" would vanish as an unknown tag: all of them
// are written as Mermaid's entity codes.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#':
			b.WriteString("#35;")
		case ';':
			b.WriteString("#59;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
