package render_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"golang.org/x/net/html"
)

// closeEvents is a hand-written close whose final ACK is lost: the
// server's FIN is retransmitted after its RTO, the client re-ACKs it from
// TIME_WAIT, and 2MSL later the client is CLOSED. Written out rather
// than simulated so that the golden files change only when the renderers
// do, not when the engine does.
func closeEvents(t *testing.T) []trace.Event {
	const (
		C = "client"
		S = "server"
	)
	return []trace.Event{
		{At: 100 * ms, Kind: trace.AppCall, Host: C, Text: "close()"},
		{At: 100 * ms, Kind: trace.StateChanged, Host: C, From: tcp.Established, To: tcp.FinWait1},
		{At: 100 * ms, Kind: trace.SegmentSent, Host: C, ID: 1, Segment: seg(t, "F. 1:1(0) ack 1 win 65535")},
		{At: 110 * ms, Kind: trace.SegmentDelivered, Host: S, ID: 1},
		{At: 110 * ms, Kind: trace.StateChanged, Host: S, From: tcp.Established, To: tcp.CloseWait},
		{At: 110 * ms, Kind: trace.SegmentSent, Host: S, ID: 2, Segment: seg(t, ". 1:1(0) ack 2 win 65535")},
		{At: 110 * ms, Kind: trace.AppCall, Host: S, Text: "read() = EOF"},
		{At: 110 * ms, Kind: trace.AppCall, Host: S, Text: "close()"},
		{At: 110 * ms, Kind: trace.StateChanged, Host: S, From: tcp.CloseWait, To: tcp.LastAck},
		{At: 110 * ms, Kind: trace.SegmentSent, Host: S, ID: 3, Segment: seg(t, "F. 1:1(0) ack 2 win 65535")},
		{At: 120 * ms, Kind: trace.SegmentDelivered, Host: C, ID: 2},
		{At: 120 * ms, Kind: trace.StateChanged, Host: C, From: tcp.FinWait1, To: tcp.FinWait2},
		{At: 120 * ms, Kind: trace.SegmentDelivered, Host: C, ID: 3},
		{At: 120 * ms, Kind: trace.StateChanged, Host: C, From: tcp.FinWait2, To: tcp.TimeWait},
		{At: 120 * ms, Kind: trace.SegmentSent, Host: C, ID: 4, Segment: seg(t, ". 2:2(0) ack 2 win 65535")},
		{At: 120 * ms, Kind: trace.Note, Text: "fault drop client:ack@TIME_WAIT applied"},
		{At: 120 * ms, Kind: trace.SegmentDropped, Host: S, ID: 4},
		{At: 310 * ms, Kind: trace.TimerFired, Host: S, Timer: tcp.TimerRetransmit},
		{At: 310 * ms, Kind: trace.SegmentSent, Host: S, ID: 5, Segment: seg(t, "F. 1:1(0) ack 2 win 65535")},
		{At: 320 * ms, Kind: trace.SegmentDelivered, Host: C, ID: 5},
		{At: 320 * ms, Kind: trace.SegmentSent, Host: C, ID: 6, Segment: seg(t, ". 2:2(0) ack 2 win 65535")},
		{At: 330 * ms, Kind: trace.SegmentDelivered, Host: S, ID: 6},
		{At: 330 * ms, Kind: trace.StateChanged, Host: S, From: tcp.LastAck, To: tcp.Closed},
		{At: 60320 * ms, Kind: trace.TimerFired, Host: C, Timer: tcp.TimerTimeWait},
		{At: 60320 * ms, Kind: trace.StateChanged, Host: C, From: tcp.TimeWait, To: tcp.Closed},
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s (go test ./trace/render -update if intended):\n%s", path, got)
	}
}

// wellFormed decodes an SVG document with encoding/xml and returns the
// names of its elements.
func wellFormed(t *testing.T, doc []byte) map[string]int {
	t.Helper()
	elements := map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			elements[se.Name.Local]++
			if elements["svg"] == 1 && se.Name.Local == "svg" && se.Name.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("root element in namespace %q", se.Name.Space)
			}
		}
	}
	return elements
}

func TestRenderSVGGolden(t *testing.T) {
	for _, c := range []struct {
		name   string
		events []trace.Event
		opts   render.SVGOptions
	}{
		{"handshake.svg", handshakeEvents(t), render.SVGOptions{Title: "a handshake"}},
		{"close.svg", closeEvents(t), render.SVGOptions{Title: "lost final ACK\nfaults: drop client:ack@TIME_WAIT"}},
		{"close-interactive-zh.svg", closeEvents(t), render.SVGOptions{Left: "client", Right: "server", Interactive: true, Lang: "zh", Width: 720}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.SVG(&b, c.events, c.opts); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, b.Bytes())
			golden(t, c.name, b.Bytes())
		})
	}
}

// What a reader must find in the drawing: both hosts, the states, the
// labels as the text renderer writes them, a lost arrow with its cross,
// the timers, the application calls and a break in the time axis.
func TestRenderSVGContent(t *testing.T) {
	var b bytes.Buffer
	if err := render.SVG(&b, closeEvents(t), render.SVGOptions{Interactive: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	el := wellFormed(t, b.Bytes())
	if el["g"] < 6 || el["line"] < 6 {
		t.Errorf("too few elements: %v", el)
	}
	for _, want := range []string{
		">client<", ">server<", ">FIN_WAIT_1<", ">TIME_WAIT<", ">LAST_ACK<", ">CLOSED<",
		"F. 1:1(0) ack 2 (retransmit)", ". 2:2(0) ack 2", ">lost<", ">RTO<", ">2MSL<", ">close()<",
		"+59.990 s later", `data-id="4"`, `tabindex="0"`, `role="button"`, "url(#sq-hatch)",
		`stroke-dasharray="7 4"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(out, "fault drop") {
		t.Error("fault notes are drawn; the lost arrow shows them")
	}
	// Arrows slope with their delay: a delivered segment's arrow ends
	// lower than it starts.
	m := regexp.MustCompile(`class="sq-line" x1="[0-9.]+" y1="([0-9.]+)" x2="[0-9.]+" y2="([0-9.]+)"`).FindAllStringSubmatch(out, -1)
	if len(m) != 6 {
		t.Fatalf("%d arrows, want 6", len(m))
	}
	for _, a := range m {
		if a[1] >= a[2] && len(a[1]) >= len(a[2]) {
			t.Errorf("arrow from y=%s to y=%s does not go down", a[1], a[2])
		}
	}
	var inline bytes.Buffer
	render.SVG(&inline, closeEvents(t), render.SVGOptions{Inline: true})
	if strings.Contains(inline.String(), "http") {
		t.Error("an inline SVG declares its namespace")
	}
}

func TestRenderMermaidGolden(t *testing.T) {
	for _, c := range []struct {
		name   string
		events []trace.Event
		opts   render.MermaidOptions
	}{
		{"handshake.mmd", handshakeEvents(t), render.MermaidOptions{Title: "a handshake; #1"}},
		{"close.mmd", closeEvents(t), render.MermaidOptions{Times: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.Mermaid(&b, c.events, c.opts); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.HasPrefix(out, "sequenceDiagram\n    participant client\n    participant server\n") {
				t.Errorf("header:\n%s", out)
			}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
				text := regexp.MustCompile(`#[a-z0-9]+;`).ReplaceAllString(line, "")
				if strings.ContainsAny(text, "<>;") && !strings.Contains(text, "->>") && !strings.Contains(text, "--x") {
					t.Errorf("unescaped text in %q", line)
				}
			}
			golden(t, c.name, b.Bytes())
		})
	}
	var b bytes.Buffer
	render.Mermaid(&b, closeEvents(t), render.MermaidOptions{})
	for _, want := range []string{
		"client->>server: F. 1:1(0) ack 1\n",
		"client--xserver: . 2:2(0) ack 2 (lost)\n",
		"server->>client: F. 1:1(0) ack 2 (retransmit)\n",
		"Note over server: ⏱ RTO\n",
		"Note over client: TIME_WAIT\n",
		"Note over client,server: ⋯ +59.990 s later ⋯\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, b.String())
		}
	}
}

func TestRenderStateMachine(t *testing.T) {
	var b bytes.Buffer
	if err := render.StateMachine(&b, closeEvents(t), render.MachineOptions{}); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.Bytes())
	golden(t, "close.machine.svg", b.Bytes())
	out := b.String()
	for _, want := range []string{
		`data-from="FIN_WAIT_2" data-to="TIME_WAIT" data-hosts="client"`,
		`data-from="LAST_ACK" data-to="CLOSED" data-hosts="server"`,
		`data-from="TIME_WAIT" data-to="CLOSED" data-hosts="client"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("state machine lacks %q", want)
		}
	}
	// A transition the figure has no arrow for is listed.
	reuse := append(closeEvents(t), trace.Event{At: 61 * 1000 * ms, Kind: trace.StateChanged, Host: "server", From: tcp.TimeWait, To: tcp.SynReceived})
	b.Reset()
	render.StateMachine(&b, reuse, render.MachineOptions{})
	if !strings.Contains(b.String(), "server: TIME_WAIT → SYN_RCVD") {
		t.Errorf("unusual transition not listed:\n%s", b.String())
	}
}

// Every scenario draws as well-formed SVG in every format, in both
// languages, and as a page that parses as HTML and refers to nothing
// outside itself.
func TestRenderScenarios(t *testing.T) {
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			res, err := s.Run(scenario.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := render.SVG(&b, res.Events, render.SVGOptions{Left: res.Client, Right: res.Server, Title: s.Name, Interactive: true}); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, b.Bytes())
			b.Reset()
			if err := render.StateMachine(&b, res.Events, render.MachineOptions{Left: res.Client, Right: res.Server}); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, b.Bytes())
			b.Reset()
			if err := render.Mermaid(&b, res.Events, render.MermaidOptions{Left: res.Client, Right: res.Server}); err != nil {
				t.Fatal(err)
			}
			for _, lang := range render.ExplainLanguages() {
				b.Reset()
				if err := render.HTML(&b, res.Events, render.HTMLOptions{Title: s.Name + "\n" + s.Summary, Lang: lang, Left: res.Client, Right: res.Server}); err != nil {
					t.Fatal(err)
				}
				checkHTML(t, b.Bytes())
			}
		})
	}
}

// checkHTML parses a page and checks that it has the parts a report has
// and that no attribute refers to the network (text may mention URLs).
func checkHTML(t *testing.T, page []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("does not parse as HTML: %v", err)
	}
	found := map[string]int{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			found[n.Data]++
			for _, a := range n.Attr {
				if v := strings.ToLower(a.Val); strings.Contains(v, "http://") || strings.Contains(v, "https://") || strings.Contains(v, "//") && (a.Key == "src" || a.Key == "href") {
					t.Errorf("<%s %s=%q> refers outside the page", n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "style" || n.Data == "script" {
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if strings.Contains(c.Data, "http") || strings.Contains(c.Data, "url(//") || strings.Contains(c.Data, "@import") {
						t.Errorf("<%s> refers outside the page", n.Data)
					}
				}
			}
			if n.Data == "link" || n.Data == "iframe" || n.Data == "img" || n.Data == "script" {
				t.Errorf("<%s> in a self-contained report", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, want := range []string{"svg", "table", "ol", "h1", "style"} {
		if found[want] == 0 {
			t.Errorf("page has no <%s>", want)
		}
	}
	if found["svg"] < 2 {
		t.Errorf("page has %d drawings, want the diagram and the state machine", found["svg"])
	}
}

func TestRenderHTML(t *testing.T) {
	var b bytes.Buffer
	if err := render.HTML(&b, closeEvents(t), render.HTMLOptions{Title: "lost final ACK\nsee https://example.com/ for more", Lang: "zh"}); err != nil {
		t.Fatal(err)
	}
	checkHTML(t, b.Bytes())
	out := b.String()
	for _, want := range []string{
		`<html lang="zh-Hans">`, "时序图", "<caption>客户端</caption>", "<td class=\"st\">TIME_WAIT</td>",
		"<code>F. 1:1(0) ack 2 （重传）</code>", "丢失", "重新开始 2MSL 计时", "see https://example.com/ for more",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestRenderersTooManyHosts(t *testing.T) {
	three := append(handshakeEvents(t), trace.Event{Kind: trace.SegmentSent, Host: "intruder", ID: 99})
	for name, draw := range map[string]func(w io.Writer) error{
		"svg":     func(w io.Writer) error { return render.SVG(w, three, render.SVGOptions{}) },
		"mermaid": func(w io.Writer) error { return render.Mermaid(w, three, render.MermaidOptions{}) },
		"html":    func(w io.Writer) error { return render.HTML(w, three, render.HTMLOptions{}) },
		"machine": func(w io.Writer) error { return render.StateMachine(w, three, render.MachineOptions{}) },
	} {
		if err := draw(io.Discard); !errors.Is(err, render.ErrTooManyHosts) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Odd input draws something, without panicking.
	for _, events := range [][]trace.Event{
		nil,
		{{Kind: trace.SegmentDelivered, Host: "a", ID: 42}},
		{{Kind: trace.SegmentSent, Host: "a", ID: 1}},
		{{Kind: trace.SegmentSent, Host: "a", ID: 1}, {Kind: trace.SegmentDuplicated, Host: "a", ID: 1, Dup: 2}, {Kind: trace.SegmentCorrupted, Host: "b", ID: 2}},
	} {
		var b bytes.Buffer
		if err := render.SVG(&b, events, render.SVGOptions{Width: 1}); err != nil {
			t.Error(err)
		}
		wellFormed(t, b.Bytes())
		if err := render.HTML(io.Discard, events, render.HTMLOptions{}); err != nil {
			t.Error(err)
		}
		render.Explain(events, "zh")
	}
}

// Colour changes nothing but the escape codes: without them the output
// is the plain diagram.
func TestRenderTextColor(t *testing.T) {
	var plain, color bytes.Buffer
	render.Text(&plain, closeEvents(t), render.TextOptions{})
	render.Text(&color, closeEvents(t), render.TextOptions{Color: true})
	if !strings.Contains(color.String(), "\x1b[31m") || !strings.Contains(color.String(), "\x1b[1mTIME_WAIT\x1b[0m") {
		t.Errorf("no colours:\n%q", color.String())
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(color.String(), "")
	if stripped != plain.String() {
		t.Errorf("coloured layout differs:\n%s\nplain:\n%s", stripped, plain.String())
	}
}
