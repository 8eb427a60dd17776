package render

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seqack/seqack/trace"
)

// SVGOptions configures SVG.
type SVGOptions struct {
	// Left and Right name the hosts of the two columns, as in TextOptions.
	Left, Right string
	// Absolute and Window change the segment labels as in TextOptions.
	Absolute, Window bool
	// Title, if set, is written above the diagram (and as its <title>);
	// it may have several lines.
	Title string
	// Width is the width of the drawing in pixels; 0 means 960.
	Width int
	// Lang is the language of the few words the drawing has ("lost",
	// "time (s)"): "en" (the default) or "zh".
	Lang string
	// Interactive makes each segment's arrow a focusable button
	// (tabindex, role, aria-label), for the lab page, where a click or a
	// key press on it offers to drop, delay or duplicate that segment.
	Interactive bool
	// Inline leaves out the XML declaration of the SVG namespace, for an
	// <svg> inside an HTML page, whose parser supplies it.
	Inline bool
	// IDPrefix prefixes the ids of markers and patterns so that several
	// drawings in one page do not share them. Default "sq".
	IDPrefix string
}

// The vertical rhythm of a drawing, in pixels.
const (
	svgRowH   = 20.0 // between two items at the same instant
	svgBreakH = 46.0 // extra height of a break in the time axis
	svgBandW  = 12.0 // width of a state band
	svgSideW  = 190.0
	svgTimeW  = 64.0
	svgCharW  = 6.63 // advance of an 11 px monospace character
)

// svgBreakAfter is the idle time from which the time axis is broken
// rather than drawn to its (logarithmic) scale: the 60 s of TIME_WAIT
// would otherwise dwarf the 10 ms flights of the segments.
const svgBreakAfter = 2 * time.Second

// svgGap is the vertical distance drawn for dt of idle time: logarithmic,
// so that a 10 ms flight is a visible slope and a 1 s timeout does not
// push everything off the page.
func svgGap(dt time.Duration) float64 {
	if dt <= 0 {
		return svgRowH
	}
	return svgRowH + 12*math.Log2(1+float64(dt)/float64(5*time.Millisecond))
}

// svgWords are the words a drawing uses, per language.
type svgWords struct {
	time, lost, badChecksum, later string
}

func wordsFor(lang string) svgWords {
	if lang == "zh" {
		return svgWords{time: "时间 (秒)", lost: "丢失", badChecksum: "校验和错误", later: "之后"}
	}
	return svgWords{time: "time (s)", lost: "lost", badChecksum: "bad checksum", later: "later"}
}

// svgLayout is where everything of a drawing goes.
type svgLayout struct {
	width, height float64
	xL, xR        float64
	titleLines    []string
	headerY       float64 // baseline of the host names
	initialY      float64 // row of the initial states
	rows          []float64
	slots         []svgSlot
	breaks        []svgBreak
	bottom        float64
	flight        float64 // vertical extent of a typical flight, for lost segments
}

type svgSlot struct {
	y  float64
	at time.Duration
}

type svgBreak struct {
	y0, y1 float64
	idle   time.Duration
}

func layoutSVG(d *diagram, opts SVGOptions) *svgLayout {
	l := &svgLayout{width: float64(opts.Width)}
	if l.width <= 0 {
		l.width = 960
	}
	l.width = max(l.width, 640)
	l.xL = svgTimeW + svgSideW
	l.xR = l.width - svgSideW
	if opts.Title != "" {
		l.titleLines = strings.Split(opts.Title, "\n")
	}
	l.headerY = 30 + 20*float64(len(l.titleLines))
	l.initialY = l.headerY + 24
	l.flight = svgGap(d.oneWayDelay())
	y := l.initialY + svgRowH
	l.rows = make([]float64, len(d.items))
	for i, it := range d.items {
		if i > 0 {
			dt := it.at - d.items[i-1].at
			switch {
			case dt == 0:
				y += svgRowH
			case dt >= svgBreakAfter:
				l.breaks = append(l.breaks, svgBreak{y0: y + svgRowH/2, y1: y + svgRowH/2 + svgBreakH, idle: dt})
				y += svgRowH + svgBreakH
			default:
				y += svgGap(dt)
			}
		}
		if i == 0 || it.at != d.items[i-1].at {
			l.slots = append(l.slots, svgSlot{y: y, at: it.at})
		}
		l.rows[i] = y
	}
	l.bottom = y + svgRowH + 6
	// A lost segment sent last still needs room for its slope.
	for _, s := range d.order {
		if s.arriveItem < 0 {
			l.bottom = max(l.bottom, l.rows[s.sendItem]+l.flight*0.6+svgRowH)
		}
	}
	l.height = l.bottom + 14
	return l
}

// SVG draws events as an SVG sequence diagram: the first host on the
// left, the other on the right, time running down. Each side's lifeline is
// a band divided into its states, named where they begin. Each segment is
// an arrow from the sender's column at the time it was sent to the
// receiver's at the time it arrived, labelled in packetdrill notation as
// Text labels it; a lost segment's arrow is dashed and stops midway
// in a cross. Timers, application calls and notes are written beside
// their host. Idle stretches of more than two seconds (TIME_WAIT's
// 2×MSL) are cut out of the time axis and marked by a break. The drawing
// is black on white and says everything in words or line styles as well
// as in its few tints, so that it prints.
func SVG(w io.Writer, events []trace.Event, opts SVGOptions) error {
	d, err := buildDiagram(events, labelOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Window: opts.Window, Lang: opts.Lang})
	if err != nil {
		return err
	}
	var b strings.Builder
	writeSVG(&b, d, opts)
	_, err = io.WriteString(w, b.String())
	return err
}

func writeSVG(b *strings.Builder, d *diagram, opts SVGOptions) {
	l := layoutSVG(d, opts)
	words := wordsFor(opts.Lang)
	p := opts.IDPrefix
	if p == "" {
		p = "sq"
	}
	ns := ` xmlns="http://www.w3.org/2000/svg"`
	if opts.Inline {
		ns = ""
	}
	fmt.Fprintf(b, `<svg%s class="%s-diagram" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">`+"\n",
		ns, p, num(l.width), num(l.height), num(l.width), num(l.height), p)
	title := opts.Title
	if title == "" {
		title = d.left + " ↔ " + d.right
	}
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`+"\n", p, esc(title))
	fmt.Fprintf(b, `<defs>`+
		`<marker id="%[1]s-head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker>`+
		`<pattern id="%[1]s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fbe3c4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a6a1f" stroke-width="2"/></pattern>`+
		`</defs>`+"\n", p)
	fmt.Fprintf(b, `<rect width="%s" height="%s" fill="#fff"/>`+"\n", num(l.width), num(l.height))

	// Title and header.
	for i, line := range l.titleLines {
		weight := ` font-weight="bold" font-size="13"`
		if i > 0 {
			weight = ` font-size="11"`
		}
		fmt.Fprintf(b, `<text x="12" y="%s"%s font-family="DejaVu Sans, Helvetica, Arial, sans-serif">%s</text>`+"\n", num(22+20*float64(i)), weight, esc(line))
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="#333">%s</text>`+"\n", num(svgTimeW-8), num(l.headerY), esc(words.time))
	for _, h := range []string{d.left, d.right} {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="15" font-weight="bold" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" class="%s-host">%s</text>`+"\n",
			num(l.xOf(d, h)), num(l.headerY), p, esc(textWordsFor(opts.Lang).column(h)))
	}

	// Lifelines and state bands.
	top := l.initialY - svgRowH/2
	for _, h := range []string{d.left, d.right} {
		x := l.xOf(d, h)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#888" stroke-width="1" stroke-dasharray="3 3"/>`+"\n", num(x), num(top), num(x), num(l.bottom))
		b.WriteString(fmt.Sprintf(`<g class="%s-states" data-host="%s">`, p, esc(h)) + "\n")
		for _, sp := range d.spans(h) {
			y0, y1 := top, l.bottom
			if sp.from >= 0 {
				y0 = l.rows[sp.from]
			}
			if sp.to >= 0 {
				y1 = l.rows[sp.to]
			}
			if fill := stateFill(bareState(sp.state), p); fill != "" && y1 > y0 {
				fmt.Fprintf(b, `<rect class="%s-band" data-state="%s" x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#444" stroke-width="0.7"/>`+"\n",
					p, sp.state, num(x-svgBandW/2), num(y0), num(svgBandW), num(y1-y0), fill)
			}
		}
		b.WriteString("</g>\n")
	}

	// Breaks in the time axis, drawn over lifelines and bands.
	for _, br := range l.breaks {
		zig := func(y float64) string {
			var pts []string
			for x, up := 0.0, true; x <= l.width+10; x, up = x+10, !up {
				dy := -3.0
				if !up {
					dy = 3
				}
				pts = append(pts, num(x)+","+num(y+dy))
			}
			return strings.Join(pts, " ")
		}
		a, c := br.y0+10, br.y1-10
		fmt.Fprintf(b, `<polygon points="%s %s" fill="#fff"/>`+"\n", zig(a), reversePoints(zig(c)))
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="#666"/><polyline points="%s" fill="none" stroke="#666"/>`+"\n", zig(a), zig(c))
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-style="italic" fill="#333">⋯ %s %s ⋯</text>`+"\n",
			num((l.xL+l.xR)/2), num((a+c)/2+4), esc(seconds(br.idle)), esc(words.later))
	}

	// Times.
	for _, s := range l.slots {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="#333">%.3f</text>`+"\n", num(svgTimeW-8), num(s.y+4), s.at.Seconds())
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#bbb" stroke-width="0.6"/>`+"\n", num(svgTimeW-4), num(s.y), num(svgTimeW+4), num(s.y))
	}

	// Initial states, then everything written beside a host.
	for _, h := range []string{d.left, d.right} {
		if st := d.initial[h]; st != "" {
			l.sideText(b, d, h, l.initialY, bareState(st), `font-size="12" font-weight="bold"`, p+"-state")
			if why := strings.TrimSpace(strings.TrimPrefix(st, bareState(st))); why != "" {
				// "(inferred)", "(capture began mid-connection)": above, to fit the margin.
				l.sideText(b, d, h, l.initialY-12, why, `font-size="10"`, p+"-state")
			}
		}
	}
	for i, it := range d.items {
		y := l.rows[i]
		switch it.kind {
		case itemState:
			x := l.xOf(d, it.host)
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000" stroke-width="1.5"/>`+"\n", num(x-svgBandW/2-3), num(y), num(x+svgBandW/2+3), num(y))
			l.sideText(b, d, it.host, y, it.text, `font-size="12" font-weight="bold"`, p+"-state")
		case itemApp:
			l.sideText(b, d, it.host, y, it.text, `font-style="italic" fill="#222"`, p+"-app")
		case itemTimer:
			l.timer(b, d, it.host, y, it.text, p)
		case itemNote:
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-style="italic" fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke" class="%s-note">· %s</text>`+"\n",
				num((l.xL+l.xR)/2), num(y+4), p, esc(it.text))
		case itemArrive:
			if it.seg.fate != trace.SegmentDelivered {
				x := l.xOf(d, it.host)
				cross(b, x, y)
				why := words.badChecksum
				if it.seg.fate == trace.SegmentDropped {
					why = it.seg.fateText
				}
				l.sideText(b, d, it.host, y, "✕ "+why, `fill="#000"`, p+"-fate")
			}
		}
	}

	// The segments, last so that they are drawn over the rest.
	for _, s := range d.order {
		l.arrow(b, d, s, opts, words, p)
	}
	b.WriteString("</svg>\n")
}

// xOf returns the x of host's lifeline.
func (l *svgLayout) xOf(d *diagram, host string) float64 {
	if host == d.right {
		return l.xR
	}
	return l.xL
}

// sideText writes text on the outer side of host's column at row y.
func (l *svgLayout) sideText(b *strings.Builder, d *diagram, host string, y float64, text, attrs, class string) {
	x, anchor := l.xL-svgBandW/2-8, "end"
	if host == d.right {
		x, anchor = l.xR+svgBandW/2+8, "start"
	}
	fmt.Fprintf(b, `<text class="%s" x="%s" y="%s" text-anchor="%s" %s>%s</text>`+"\n", class, num(x), num(y+4), anchor, attrs, esc(text))
}

// timer draws a small clock and the timer's name beside host: the clock
// is drawn, not a glyph, so that it shows whatever fonts the reader has.
func (l *svgLayout) timer(b *strings.Builder, d *diagram, host string, y float64, name, p string) {
	cx, tx, anchor := l.xL-svgBandW/2-14, l.xL-svgBandW/2-24, "end"
	if host == d.right {
		cx, tx, anchor = l.xR+svgBandW/2+14, l.xR+svgBandW/2+24, "start"
	}
	fmt.Fprintf(b, `<g class="%s-timer"><circle cx="%s" cy="%s" r="6" fill="#fff" stroke="#000" stroke-width="1.2"/><path d="M%s,%s v-4 M%s,%s h3" stroke="#000" stroke-width="1.2" fill="none"/>`,
		p, num(cx), num(y), num(cx), num(y), num(cx), num(y))
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s" font-weight="bold">%s</text></g>`+"\n", num(tx), num(y+4), anchor, esc(name))
}

// cross draws an ✕ centred on (x, y) with lines, not a glyph.
func cross(b *strings.Builder, x, y float64) {
	fmt.Fprintf(b, `<path d="M%s,%s l10,10 M%s,%s l-10,10" stroke="#000" stroke-width="2.2"/>`+"\n", num(x-5), num(y-5), num(x+5), num(y-5))
}

// arrow draws one segment.
func (l *svgLayout) arrow(b *strings.Builder, d *diagram, s *segment, opts SVGOptions, words svgWords, p string) {
	xs, xr := l.xOf(d, s.from), l.xOf(d, s.to)
	ys := l.rows[s.sendItem]
	xe, ye := xr, ys+l.flight
	if s.arriveItem >= 0 {
		ye = l.rows[s.arriveItem]
	}
	lostMidway := s.arriveItem < 0
	if lostMidway {
		// Stop where a typical flight would be 55% of the way across.
		xe, ye = xs+(xr-xs)*0.55, ys+(ye-ys)*0.55
	}
	dir := 1.0
	if xr < xs {
		dir = -1
	}
	classes := p + "-seg"
	if s.lost() || lostMidway {
		classes += " " + p + "-lost"
	}
	if s.retransmit {
		classes += " " + p + "-rexmit"
	}
	tw, fate := textWordsFor(opts.Lang), s.fateWord()
	if w, ok := htmlWordsFor(opts.Lang).fates[fate]; ok {
		fate = w
	}
	desc := fmt.Sprintf("%s → %s: %s — %s", tw.column(s.from), tw.column(s.to), s.label, fate)
	fmt.Fprintf(b, `<g class="%s" data-id="%d" data-from="%s" data-kind="%s"`, classes, s.id, esc(s.from), segmentKind(&s.seg))
	if opts.Interactive {
		fmt.Fprintf(b, ` tabindex="0" role="button" aria-label="%s"`, esc(desc))
	}
	fmt.Fprintf(b, `><title>%s</title>`+"\n", esc(desc))
	// A wide invisible stroke makes the thin arrow easy to click or tap.
	fmt.Fprintf(b, `<line class="%s-hit" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#fff" stroke-opacity="0" stroke-width="16" pointer-events="stroke"/>`+"\n",
		p, num(xs), num(ys), num(xe), num(ye))
	style := `stroke="#000" stroke-width="1.5"`
	switch {
	case lostMidway:
		style += ` stroke-dasharray="7 4"`
	case s.fate == trace.SegmentDelivered:
		style += fmt.Sprintf(` marker-end="url(#%s-head)"`, p)
	default: // corrupted or dropped on arrival: the cross is at the receiver
		style += ` stroke-dasharray="7 4"`
	}
	if s.dup {
		style = strings.Replace(style, `stroke-width="1.5"`, `stroke-width="1.2"`, 1)
	}
	fmt.Fprintf(b, `<line class="%s-line" x1="%s" y1="%s" x2="%s" y2="%s" %s/>`+"\n", p, num(xs), num(ys), num(xe), num(ye), style)
	if lostMidway {
		cross(b, xe, ye)
		anchor := "start"
		if dir < 0 {
			anchor = "end"
		}
		text := words.lost
		if s.fate == 0 {
			text = "…"
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s" font-weight="bold">%s</text>`+"\n", num(xe+dir*10), num(ye+4), anchor, esc(text))
	}

	// The label runs along the arrow from near its sender, above it.
	room := math.Abs(xe-xs) - 30
	if lostMidway {
		room -= 8
	}
	x0 := xs + dir*18
	slope := (ye - ys) / (xe - xs)
	y0 := ys + (x0-xs)*slope
	angle := math.Atan(slope) * 180 / math.Pi
	anchor := "start"
	if dir < 0 {
		anchor = "end"
	}
	fit := ""
	if need := float64(utf8.RuneCountInString(s.label)) * svgCharW; need > room && room > 40 {
		fit = fmt.Sprintf(` textLength="%s" lengthAdjust="spacingAndGlyphs"`, num(room))
	}
	fmt.Fprintf(b, `<text class="%s-label" x="%s" y="%s" text-anchor="%s" transform="rotate(%s %s %s)" stroke="#fff" stroke-width="3" paint-order="stroke"%s>%s</text>`+"\n",
		p, num(x0), num(y0-4), anchor, num(angle), num(x0), num(y0), fit, esc(s.label))
	b.WriteString("</g>\n")
}

// stateFill is the band fill of a state: light tints that turn into
// distinct greys on paper, TIME_WAIT hatched; none for CLOSED.
func stateFill(state, prefix string) string {
	switch state {
	case "LISTEN":
		return "#eeeeee"
	case "SYN_SENT", "SYN_RCVD":
		return "#d6e6f5"
	case "ESTABLISHED":
		return "#cdebd0"
	case "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING":
		return "#fbe3c4"
	case "CLOSE_WAIT", "LAST_ACK":
		return "#e9d8f0"
	case "TIME_WAIT":
		return "url(#" + prefix + "-hatch)"
	}
	return ""
}

// seconds formats an idle time for a break: "+59.800 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("+%.3f s", d.Seconds())
}

// num formats a coordinate with at most one decimal, so that output is
// short and stable.
func num(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

func reversePoints(pts string) string {
	f := strings.Fields(pts)
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
	return strings.Join(f, " ")
}

// esc escapes text for XML and HTML content and attribute values.
func esc(s string) string {
	if !strings.ContainsAny(s, `&<>"'`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
