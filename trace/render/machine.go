package render

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// MachineOptions configures StateMachine.
type MachineOptions struct {
	// Left and Right name the two hosts, as in TextOptions; the left one
	// is marked "C" (as in client) and the right one "S".
	Left, Right string
	// Lang is "en" (the default) or "zh", for the caption.
	Lang string
	// Inline and IDPrefix are as in SVGOptions.
	Inline   bool
	IDPrefix string
}

// machineState is a box of the state diagram.
type machineState struct {
	name string
	x, y float64
}

// machineEdge is an arrow of the state diagram: the RFC's label, and
// an optional control point that bends it around other boxes.
type machineEdge struct {
	from, to string
	label    string
	cx, cy   float64 // control point; 0, 0: straight
	lx, ly   float64 // where the label goes, relative to the curve's middle
}

// The boxes and arrows of RFC 9293's Figure 5, laid out on a 700×660
// grid: opening at the top, ESTABLISHED in the middle, the active close
// down the left and the passive close down the right. CLOSED is drawn
// twice, as in the RFC: where connections begin (top) and where they end
// (bottom right). The functions return fresh values: nothing global is
// shared or changed.
func machineStates() []machineState {
	return []machineState{
		{"CLOSED", 340, 40},
		{"LISTEN", 340, 130},
		{"SYN_RCVD", 110, 230},
		{"SYN_SENT", 570, 230},
		{"ESTABLISHED", 340, 330},
		{"FIN_WAIT_1", 110, 430},
		{"CLOSING", 340, 430},
		{"CLOSE_WAIT", 570, 430},
		{"FIN_WAIT_2", 110, 530},
		{"TIME_WAIT", 340, 530},
		{"LAST_ACK", 570, 530},
		{"CLOSED·end", 570, 620},
	}
}

func machineEdges() []machineEdge {
	return []machineEdge{
		{from: "CLOSED", to: "LISTEN", label: "passive open", lx: 48},
		{from: "CLOSED", to: "SYN_SENT", label: "active open / snd SYN", cx: 570, cy: 40, lx: -62, ly: 18},
		{from: "LISTEN", to: "SYN_RCVD", label: "rcv SYN / snd SYN,ACK", cx: 110, cy: 130, lx: -30, ly: -16},
		{from: "LISTEN", to: "SYN_SENT", label: "send / snd SYN", lx: 20, ly: -10},
		{from: "SYN_SENT", to: "SYN_RCVD", label: "rcv SYN / snd SYN,ACK", ly: -8},
		{from: "SYN_RCVD", to: "LISTEN", label: "rcv RST", lx: -14, ly: 14},
		{from: "SYN_SENT", to: "CLOSED", label: "close / timeout", cx: 690, cy: 60, lx: 40, ly: 4},
		{from: "SYN_RCVD", to: "ESTABLISHED", label: "rcv ACK of SYN", lx: -40, ly: 8},
		{from: "SYN_SENT", to: "ESTABLISHED", label: "rcv SYN,ACK / snd ACK", lx: 50, ly: 8},
		{from: "SYN_RCVD", to: "FIN_WAIT_1", label: "close / snd FIN", lx: -52},
		{from: "ESTABLISHED", to: "FIN_WAIT_1", label: "close / snd FIN", lx: -30, ly: -8},
		{from: "ESTABLISHED", to: "CLOSE_WAIT", label: "rcv FIN / snd ACK", lx: 40, ly: -8},
		{from: "FIN_WAIT_1", to: "CLOSING", label: "rcv FIN / snd ACK", lx: -14, ly: -8},
		{from: "FIN_WAIT_1", to: "FIN_WAIT_2", label: "rcv ACK of FIN", lx: -50},
		{from: "FIN_WAIT_1", to: "TIME_WAIT", label: "rcv FIN,ACK / snd ACK", lx: 34, ly: -4},
		{from: "CLOSING", to: "TIME_WAIT", label: "rcv ACK of FIN", lx: 50},
		{from: "FIN_WAIT_2", to: "TIME_WAIT", label: "rcv FIN / snd ACK", lx: -8, ly: 20},
		{from: "CLOSE_WAIT", to: "LAST_ACK", label: "close / snd FIN", lx: 50},
		{from: "LAST_ACK", to: "CLOSED·end", label: "rcv ACK of FIN", lx: 52},
		{from: "TIME_WAIT", to: "CLOSED·end", label: "timeout = 2MSL", lx: -40, ly: 14},
	}
}

// machineNode maps a transition's end to the box that shows it: a
// connection that ends goes to the bottom CLOSED box, one that starts
// leaves the top one.
func machineNode(s tcp.State, end bool) string {
	if s == tcp.Closed && end {
		return "CLOSED·end"
	}
	return s.String()
}

// transition is one state change a host made.
type transition struct {
	host     string
	from, to tcp.State
}

// StateMachine draws the TCP state diagram of RFC 9293 (Figure 5,
// after RFC 793's Figure 6) as SVG, with the states each host went
// through and the transitions it took drawn heavy and marked with the
// host's letter (C for the left host, S for the right one) — letters and
// line weight, not only colour, so that it prints. Transitions the figure
// does not draw (a RST or an abort from ESTABLISHED, TIME_WAIT reused by
// a new SYN) are listed beneath it.
func StateMachine(w io.Writer, events []trace.Event, opts MachineOptions) error {
	d, err := buildDiagram(events, labelOptions{Left: opts.Left, Right: opts.Right})
	if err != nil {
		return err
	}
	var b strings.Builder
	writeMachine(&b, d, events, opts)
	_, err = io.WriteString(w, b.String())
	return err
}

func writeMachine(b *strings.Builder, d *diagram, events []trace.Event, opts MachineOptions) {
	p := opts.IDPrefix
	if p == "" {
		p = "sm"
	}
	var taken []transition
	visited := map[string]map[string]bool{} // box → hosts
	visit := func(box, host string) {
		if visited[box] == nil {
			visited[box] = map[string]bool{}
		}
		visited[box][host] = true
	}
	for _, h := range []string{d.left, d.right} {
		if h != "" && d.initial[h] != "" {
			visit(bareState(d.initial[h]), h)
		}
	}
	for _, e := range events {
		if e.Kind == trace.StateChanged && (e.Host == d.left || e.Host == d.right) && e.Host != "" && !startsOnly(e) {
			taken = append(taken, transition{e.Host, e.From, e.To})
			visit(machineNode(e.To, true), e.Host)
		}
	}
	edges := machineEdges()
	used := make([]map[string]bool, len(edges))
	var others []transition
	for _, t := range taken {
		found := false
		for i, ed := range edges {
			if ed.from == machineNode(t.from, false) && ed.to == machineNode(t.to, true) {
				if used[i] == nil {
					used[i] = map[string]bool{}
				}
				used[i][t.host] = true
				found = true
			}
		}
		if !found && !containsTransition(others, t) {
			others = append(others, t)
		}
	}

	states := machineStates()
	pos := map[string]machineState{}
	for _, s := range states {
		pos[s.name] = s
	}
	words := machineWords(opts.Lang)
	const width, boxW, boxH = 720.0, 124.0, 32.0
	height := 660.0 + 18*float64(len(others))
	if len(others) > 0 {
		height += 24
	}
	ns := ` xmlns="http://www.w3.org/2000/svg"`
	if opts.Inline {
		ns = ""
	}
	fmt.Fprintf(b, `<svg%s class="%s-machine" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="10">`+"\n",
		ns, p, num(width), num(height), num(width), num(height), p)
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`+"\n", p, esc(words.title))
	fmt.Fprintf(b, `<defs><marker id="%[1]s-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker>`+
		`<marker id="%[1]s-arrow-on" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="4" markerHeight="4" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#000"/></marker></defs>`+"\n", p)
	fmt.Fprintf(b, `<rect width="%s" height="%s" fill="#fff"/>`+"\n", num(width), num(height))

	// Edges first, then boxes over their ends, then the taken edges'
	// labels over everything.
	type labelAt struct {
		x, y  float64
		text  string
		hosts map[string]bool
	}
	var labels []labelAt
	for i, ed := range edges {
		a, z := pos[ed.from], pos[ed.to]
		cx, cy := ed.cx, ed.cy
		if cx == 0 && cy == 0 {
			cx, cy = (a.x+z.x)/2, (a.y+z.y)/2
		}
		x0, y0 := boxExit(a.x, a.y, cx, cy, boxW/2+2, boxH/2+2)
		x1, y1 := boxExit(z.x, z.y, cx, cy, boxW/2+3, boxH/2+3)
		on := len(used[i]) > 0
		stroke, sw, marker, dash := "#777", "1", p+"-arrow", ""
		if on {
			stroke, sw, marker = "#000", "3", p+"-arrow-on"
		}
		hosts := ""
		for _, h := range []string{d.left, d.right} {
			if used[i][h] {
				hosts += " " + h
			}
		}
		class := p + "-edge"
		if on {
			class += " " + p + "-taken"
		}
		fmt.Fprintf(b, `<path class="%s" data-from="%s" data-to="%s" data-hosts="%s" d="M%s,%s Q%s,%s %s,%s" fill="none" stroke="%s" stroke-width="%s"%s marker-end="url(#%s)"/>`+"\n",
			class, ed.from, strings.TrimSuffix(ed.to, "·end"), strings.TrimSpace(hosts),
			num(x0), num(y0), num(cx), num(cy), num(x1), num(y1), stroke, sw, dash, marker)
		// The label goes by the curve's middle point.
		mx := 0.25*x0 + 0.5*cx + 0.25*x1
		my := 0.25*y0 + 0.5*cy + 0.25*y1
		labels = append(labels, labelAt{mx + ed.lx, my + ed.ly, ed.label, used[i]})
	}
	for _, s := range states {
		hosts := visited[s.name]
		fill, sw, weight := "#fff", "1", "normal"
		if len(hosts) > 0 {
			fill, sw, weight = "#f2f2f2", "2.2", "bold"
		}
		name := strings.TrimSuffix(s.name, "·end")
		fmt.Fprintf(b, `<g class="%s-node" data-state="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="%s" stroke="#000" stroke-width="%s"/>`,
			p, name, num(s.x-boxW/2), num(s.y-boxH/2), num(boxW), num(boxH), fill, sw)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" font-size="12" font-weight="%s">%s</text>`, num(s.x), num(s.y+4), weight, name)
		badges(b, s.x+boxW/2-2, s.y-boxH/2-2, hosts, d, false)
		b.WriteString("</g>\n")
	}
	for _, l := range labels {
		attrs := `fill="#555"`
		if len(l.hosts) > 0 {
			attrs = `fill="#000" font-weight="bold"`
		}
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" %s stroke="#fff" stroke-width="3" paint-order="stroke">%s</text>`+"\n", num(l.x), num(l.y), attrs, esc(l.text))
		if len(l.hosts) > 0 {
			badges(b, l.x+float64(len(l.text))*3.2+6, l.y-4, l.hosts, d, true)
		}
	}

	// The key, and the transitions the figure has no arrow for.
	y := 662.0 - 12
	fmt.Fprintf(b, `<text x="12" y="%s" fill="#000">`, num(y))
	fmt.Fprintf(b, `<tspan font-weight="bold">C</tspan> = %s, <tspan font-weight="bold">S</tspan> = %s; %s</text>`+"\n", esc(d.left), esc(d.right), esc(words.key))
	if len(others) > 0 {
		y += 24
		fmt.Fprintf(b, `<text x="12" y="%s" font-weight="bold">%s</text>`+"\n", num(y), esc(words.others))
		for _, t := range others {
			y += 18
			fmt.Fprintf(b, `<text x="24" y="%s" class="%s-other">%s: %s → %s</text>`+"\n", num(y), p, esc(t.host), t.from, t.to)
		}
	}
	b.WriteString("</svg>\n")
}

func containsTransition(list []transition, t transition) bool {
	for _, o := range list {
		if o == t {
			return true
		}
	}
	return false
}

// badges draws a small circled letter for each host in hosts, C for the
// left host and S for the right one, in a row that starts at x (left) or
// ends there, centred on y.
func badges(b *strings.Builder, x, y float64, hosts map[string]bool, d *diagram, left bool) {
	type badge struct{ letter, fill string }
	var list []badge
	if hosts[d.left] {
		list = append(list, badge{"C", "#1f5fbf"})
	}
	if hosts[d.right] {
		list = append(list, badge{"S", "#b34d00"})
	}
	const r, step = 8.0, 17.0
	start := x + r
	if !left {
		start = x - r - step*float64(len(list)-1)
	}
	for i, bd := range list {
		cx := start + step*float64(i)
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="8" fill="%s" stroke="#000" stroke-width="0.8"/><text x="%s" y="%s" text-anchor="middle" font-size="10" font-weight="bold" fill="#fff">%s</text>`,
			num(cx), num(y), bd.fill, num(cx), num(y+3.5), bd.letter)
	}
}

// boxExit returns where the line from a box's centre (x, y) toward
// (tx, ty) leaves the box of half-sizes hw, hh.
func boxExit(x, y, tx, ty, hw, hh float64) (float64, float64) {
	dx, dy := tx-x, ty-y
	if dx == 0 && dy == 0 {
		return x, y
	}
	s := math.Inf(1)
	if dx != 0 {
		s = hw / math.Abs(dx)
	}
	if dy != 0 {
		s = min(s, hh/math.Abs(dy))
	}
	return x + dx*s, y + dy*s
}

type machineText struct{ title, key, others string }

func machineWords(lang string) machineText {
	if lang == "zh" {
		return machineText{
			title:  "RFC 9293 TCP 状态机：本次运行经过的状态与转换",
			key:    "粗线为本次运行走过的转换",
			others: "图中没有画出的转换：",
		}
	}
	return machineText{
		title:  "The TCP state machine of RFC 9293, with the states and transitions of this run",
		key:    "heavy arrows are the transitions this run took",
		others: "Transitions the figure has no arrow for:",
	}
}
