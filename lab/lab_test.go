package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/trace"
)

// post sends a run request to the lab and decodes the answer into v.
func post(t *testing.T, h http.Handler, body any, v any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/run", bytes.NewReader(b)))
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, rec.Body.String())
	}
	return rec.Code
}

func TestRun(t *testing.T) {
	h := New()
	var run Run
	if code := post(t, h, Request{Scenario: "lost-final-ack", Lang: "zh"}, &run); code != 200 {
		t.Fatalf("status %d", code)
	}
	if !strings.HasPrefix(run.SVG, "<svg ") || strings.Contains(run.SVG, "xmlns") || !strings.Contains(run.SVG, `role="button"`) {
		t.Errorf("diagram: %.200s", run.SVG)
	}
	if !strings.Contains(run.Machine, `data-from="FIN_WAIT_2" data-to="TIME_WAIT" data-hosts="client"`) {
		t.Error("state machine lacks the client's FIN_WAIT_2 → TIME_WAIT")
	}
	if len(run.Steps) == 0 || !strings.Contains(run.Steps[0].Text, "服务器") {
		t.Errorf("steps: %+v", run.Steps)
	}
	if got := run.Faults; len(got) != 1 || got[0] != "drop client:ack@TIME_WAIT" {
		t.Errorf("faults %q, want the scenario's own", got)
	}
	states := run.States["client"]
	if len(states) == 0 || states[0].State != "CLOSED" || states[len(states)-1].State != "CLOSED" {
		t.Errorf("client states %+v", states)
	}
	lost := 0
	for _, s := range run.Segments {
		if s.Fate == "lost" {
			lost++
			if s.DroppedBy != "drop client:ack@TIME_WAIT" || s.Selector != "" {
				t.Errorf("lost segment %+v", s)
			}
		} else if s.Selector == "" {
			t.Errorf("segment %+v has no selector", s)
		}
	}
	if lost != 1 {
		t.Errorf("%d lost segments, want 1", lost)
	}
}

// Each bad setting is reported with the field it came from, so that the
// page can show the message next to its control, and in the request's
// language: en (the default) or zh.
func TestRunErrors(t *testing.T) {
	h := New()
	tooMany := make([]Fault, maxFaults+1)
	for i := range tooMany {
		tooMany[i] = Fault{Action: "drop", Selector: "server:fin"}
	}
	drop := func(selector string) []Fault { return []Fault{{Action: "drop", Selector: selector}} }
	for _, c := range []struct {
		req    Request
		field  string
		en, zh string
	}{
		{Request{Scenario: "lost-everything"}, "scenario", "no scenario", `没有名为 "lost-everything" 的场景`},
		{Request{Scenario: "handshake", MSL: "forever"}, "msl", "not a duration", `"forever" 不是时长：请输入秒数`},
		{Request{Scenario: "handshake", MSL: "-1s"}, "msl", "out of range", "-1 秒超出范围"},
		// The MSL box is in seconds: its errors are too (the page sends a
		// bare number as typed, with its unit).
		{Request{Scenario: "handshake", MSL: "-5"}, "msl", "-5 seconds is out of range: from 0.001 to 600 seconds", "-5 秒超出范围：应在 0.001 到 600 秒之间"},
		{Request{Scenario: "handshake", MSL: "-5s"}, "msl", "-5 seconds is out of range", "-5 秒超出范围"},
		{Request{Scenario: "custom", Custom: &Custom{Delay: "-3"}}, "custom.delay", "-3 milliseconds is out of range", "-3 毫秒超出范围：应在 0 到 10000 毫秒之间"},
		{Request{Scenario: "handshake", Faults: tooMany}, "faults", "at most 32 faults", "最多 32 个故障"},
		{Request{Scenario: "handshake", Faults: []Fault{{Action: "drop", Selector: "server:fin"}, {Action: "drop", Selector: "server:fim"}}}, "faults.1", `kind "fim"`, `没有 "fim" 这种报文段类型，应为 any、syn`},
		{Request{Scenario: "handshake", Faults: []Fault{{Action: "explode", Selector: "server:fin"}}}, "faults.0", "unknown fault action", `未知的故障动作 "explode"：应为 drop、delay、dup 或 corrupt`},
		{Request{Scenario: "handshake", Faults: []Fault{{Action: "delay", Selector: "server:fin"}}}, "faults.0", "needs a duration", "延迟需要一个时长，例如 200ms"},
		{Request{Scenario: "handshake", Faults: []Fault{{Action: "delay", Selector: "server:fin", Delay: "1h"}}}, "faults.0", "at most", "延迟不能超过 10s"},
		{Request{Scenario: "handshake", Faults: []Fault{{Action: "delay", Selector: "server:fin", Delay: "soon"}}}, "faults.0", `"soon" is not a duration`, `"soon" 不是时长，应写成 5s 或 200ms 这样的形式`},
		{Request{Scenario: "handshake", Faults: drop("")}, "faults.0", "empty", "选择器为空：应写成 [方向:]类型[@状态][#序号]"},
		{Request{Scenario: "handshake", Faults: drop(":fin")}, "faults.0", "empty side", `选择器 ":fin" 有误：“:”前面缺少方向`},
		{Request{Scenario: "handshake", Faults: drop("server:fin#0")}, "faults.0", `count "0"`, `序号 "0" 应写成 N、N-M、N+ 或 *`},
		{Request{Scenario: "handshake", Faults: drop("server:fin#3-2")}, "faults.0", "range ends before it starts", `序号范围 "3-2" 的终点在起点之前`},
		{Request{Scenario: "handshake", Faults: drop("server:fin@NOWHERE")}, "faults.0", `state "NOWHERE"`, `没有 "NOWHERE" 这个状态，应为 CLOSED、LISTEN`},
		{Request{Scenario: "custom"}, "scenario", "needs its settings", "自定义场景缺少设置"},
		{Request{Scenario: "custom", Custom: &Custom{Data: -1}}, "custom.data", "from 0", "应在 0 到 65536 字节之间"},
		{Request{Scenario: "custom", Custom: &Custom{Reply: 1 << 20}}, "custom.reply", "from 0", "应在 0 到 65536 字节之间"},
		{Request{Scenario: "custom", Custom: &Custom{Loss: 101}}, "custom.loss", "percentage", "应为 0 到 100 之间的百分比"},
		{Request{Scenario: "custom", Custom: &Custom{Delay: "soon"}}, "custom.delay", "not a duration", `"soon" 不是时长：请输入毫秒数`},
		{Request{Scenario: "custom", Custom: &Custom{CloseAt: "2h"}}, "custom.closeAt", "out of range", "7200000 毫秒超出范围：应在 0 到 60000 毫秒之间"},
		{Request{Scenario: "custom", Custom: &Custom{Open: "nobody"}}, "custom.open", "client or both", "应为 client 或 both"},
		{Request{Scenario: "custom", Custom: &Custom{Close: "later"}}, "custom.close", "want client", "应为 client、server、both、abort 或 none"},
	} {
		for _, lang := range []string{"", "en", "zh"} {
			want := c.en
			if lang == "zh" {
				want = c.zh
			}
			req := c.req
			req.Lang = lang
			var e errorReply
			if code := post(t, h, req, &e); code != 400 || e.Field != c.field || !strings.Contains(e.Error, want) || strings.Contains(e.Error, "%!") {
				t.Errorf("%s %q, lang %q: status %d, %+v; want field %q and %q", req.Scenario, req.MSL, lang, code, e, c.field, want)
			}
		}
	}
	// A language the lab does not speak: the error says so in both it does
	// speak, and comes before any other (MSL "forever" here).
	var e errorReply
	if code := post(t, h, Request{Scenario: "handshake", Lang: "fr", MSL: "forever"}, &e); code != 400 || e.Field != "lang" || e.Error != "want en or zh / 应为 en 或 zh" {
		t.Errorf("lang fr: status %d, %+v", code, e)
	}
	// A body that is not a Request has no language to speak.
	e = errorReply{}
	if code := post(t, h, map[string]any{"scenario": "handshake", "frobnicate": 1, "lang": "zh"}, &e); code != 400 || e.Field != "" || !strings.Contains(e.Error, "unknown field") {
		t.Errorf("unknown field: status %d, %+v", code, e)
	}
}

// Random loss says how many segments it lost: a seed may lose none,
// and the page must not leave the reader thinking the setting did
// nothing.
func TestCustomRandomLoss(t *testing.T) {
	h := New()
	total := 0
	for seed := int64(1); seed <= 5; seed++ {
		var run Run
		if code := post(t, h, Request{Scenario: "custom", Custom: &Custom{Data: 100, Loss: 20}, Seed: seed, MSL: "1s"}, &run); code != 200 {
			t.Fatalf("seed %d: status %d", seed, code)
		}
		lost := 0
		for _, s := range run.Segments {
			if s.Fate == "lost" {
				lost++
			}
		}
		if run.RandomLoss != 20 || run.RandomLost != lost {
			t.Errorf("seed %d: randomLoss %v, randomLost %d; %d segments lost", seed, run.RandomLoss, run.RandomLost, lost)
		}
		total += run.RandomLost
	}
	if total == 0 {
		t.Error("20% loss lost nothing over five seeds")
	}
	// Faults are not random loss.
	var run Run
	post(t, h, Request{Scenario: "lost-fin", Faults: []Fault{{Action: "drop", Selector: "server:fin"}}}, &run)
	if run.RandomLost != 0 {
		t.Errorf("lost-fin with a drop: randomLost %d, want 0", run.RandomLost)
	}
}

func TestCustom(t *testing.T) {
	h := New()
	for _, c := range []Custom{
		{},
		{Open: "both", Close: "both", Data: 10, Reply: 20},
		{Close: "server", Data: 5000, Reply: 3000, Delay: "50"},
		{Close: "abort", Data: 100},
		{Close: "none", Data: 1},
		{Close: "client", Data: 3000, Loss: 30, Delay: "5ms", CloseAt: "1000"},
	} {
		var run Run
		if code := post(t, h, Request{Scenario: "custom", Custom: &c, MSL: "2s", Seed: 3}, &run); code != 200 {
			t.Errorf("%+v: status %d", c, code)
			continue
		}
		if len(run.Segments) < 3 || len(run.Steps) == 0 || run.Warning != "" {
			t.Errorf("%+v: %d segments, %d steps, warning %q", c, len(run.Segments), len(run.Steps), run.Warning)
		}
	}
	var run Run
	post(t, h, Request{Scenario: "custom", Custom: &Custom{Open: "both", Close: "both"}, MSL: "1s"}, &run)
	for _, want := range []string{"SYN_RCVD", "CLOSING", "TIME_WAIT"} {
		if !strings.Contains(run.SVG, ">"+want+"<") {
			t.Errorf("simultaneous open and close: no %s", want)
		}
	}
}

// The heart of "click an arrow to drop it": for every segment of every
// scenario, a drop with the segment's selector, added after the faults
// that made the run, drops exactly that segment, and the run up to it is
// unchanged.
func TestSelectorsPickTheirSegment(t *testing.T) {
	type runner func(faults []sim.Fault) []trace.Event
	runners := map[string]runner{}
	for _, s := range scenario.All() {
		runners[s.Name] = func(faults []sim.Fault) []trace.Event {
			res, err := runScenario(s, scenario.Options{Seed: 1, Faults: faults})
			if err != nil {
				// Some scripts cannot go on after some losses (see
				// runScenario); the lab reports that as an error.
				t.Log(err)
				return nil
			}
			return res.Events
		}
	}
	runners["custom-lossy"] = func(faults []sim.Fault) []trace.Event {
		events, _, err := runCustom(&Custom{Data: 4000, Reply: 2000, Loss: 25}, 7, 30e9, faults)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	// A fault the user added already: the counts must skip what it drops.
	first, _ := sim.ParseFault("drop", "client:any#2")
	runners["handshake-with-fault"] = func(faults []sim.Fault) []trace.Event {
		res, _ := scenario.All()[0].Run(scenario.Options{Seed: 1, Faults: append([]sim.Fault{first}, faults...)})
		return res.Events
	}
	for name, run := range runners {
		t.Run(name, func(t *testing.T) {
			events := run(nil)
			selectors, droppedBy := Selectors(events)
			for _, e := range events {
				if e.Kind == trace.SegmentSent && selectors[e.ID] == "" && droppedBy[e.ID] == "" {
					t.Errorf("segment %d (%v) has no selector and was not dropped", e.ID, e.Segment)
				}
			}
			for i, e := range events {
				sel, ok := selectors[e.ID]
				if e.Kind != trace.SegmentSent || !ok {
					continue
				}
				f, err := sim.ParseFault("drop", sel)
				if err != nil {
					t.Fatalf("segment %d: %v", e.ID, err)
				}
				again := run([]sim.Fault{f})
				if again == nil {
					continue
				}
				if len(again) < i+3 {
					t.Fatalf("%s: the run ends before segment %d", sel, e.ID)
				}
				for j := 0; j <= i; j++ {
					if show(again[j]) != show(events[j]) {
						t.Fatalf("%s: event %d changed: %s, was %s", sel, j, show(again[j]), show(events[j]))
					}
				}
				// Other faults may apply to the same segment first.
				k := i + 1
				for k < len(again) && again[k].Kind == trace.Note && strings.HasPrefix(again[k].Text, "fault ") && again[k].Text != "fault drop "+f.Selector.String()+" applied" {
					k++
				}
				if again[k].Text != "fault drop "+f.Selector.String()+" applied" || again[k+1].Kind != trace.SegmentDropped || again[k+1].ID != e.ID {
					t.Errorf("%s did not drop segment %d (%v): %s, %s", sel, e.ID, e.Segment, show(again[k]), show(again[k+1]))
				}
			}
		})
	}
}

func show(e trace.Event) string {
	return fmt.Sprintf("%v %d %s id=%d dup=%d %v %v→%v %v %q", e.At, e.Kind, e.Host, e.ID, e.Dup, e.Segment, e.From, e.To, e.Timer, e.Text)
}

func TestExport(t *testing.T) {
	h := New()
	req, _ := json.Marshal(Request{Scenario: "lost-final-ack", Faults: []Fault{{Action: "drop", Selector: "client:ack#5"}}})
	for _, c := range []struct {
		format, ctype, ext, want string
	}{
		{"svg", "image/svg+xml", "svg", `xmlns="http://www.w3.org/2000/svg"`},
		{"html", "text/html; charset=utf-8", "html", "<!DOCTYPE html>"},
		{"mermaid", "text/plain; charset=utf-8", "mmd", "sequenceDiagram"},
		{"text", "text/plain; charset=utf-8", "txt", "faults: drop client:ack@TIME_WAIT, drop client:ack#5"},
		{"pcap", "application/vnd.tcpdump.pcap", "pcap", "\x4d\x3c\xb2\xa1"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export?format="+c.format+"&run="+url.QueryEscape(string(req)), nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != c.ctype ||
			rec.Header().Get("Content-Disposition") != `attachment; filename="seqack-lost-final-ack.`+c.ext+`"` ||
			!strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: %d %v\n%.300s", c.format, rec.Code, rec.Header(), rec.Body.String())
		}
	}
	for format, code := range map[string]int{"gif": 400} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export?format="+format+"&run="+url.QueryEscape(string(req)), nil))
		if rec.Code != code {
			t.Errorf("%s: status %d, want %d", format, rec.Code, code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export?format=svg&run=%7B", nil))
	if rec.Code != 400 {
		t.Errorf("bad run: status %d", rec.Code)
	}
}

// The page and its files are served from the binary and refer to
// nothing outside it.
func TestPage(t *testing.T) {
	h := New()
	for path, ctype := range map[string]string{"/": "text/html", "/app.js": "javascript", "/style.css": "text/css", "/api/scenarios": "application/json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		body := rec.Body.String()
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s refers to the network", path)
		}
		if path == "/" {
			if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
				t.Error("no content security policy")
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				for _, a := range n.Attr {
					if a.Key == "id" {
						if ids[a.Val] {
							t.Errorf("id %q twice", a.Val)
						}
						ids[a.Val] = true
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			for _, id := range []string{"scenario", "diagram", "segmenu", "act-drop", "err-msl", "err-custom-data", "machine", "steps", "dl-html", "dl-svg"} {
				if !ids[id] {
					t.Errorf("page has no #%s", id)
				}
			}
		}
	}
	var list struct{ Scenarios []scenarioInfo }
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/scenarios", nil))
	json.NewDecoder(rec.Body).Decode(&list)
	if len(list.Scenarios) != len(scenario.All()) {
		t.Errorf("%d scenarios listed", len(list.Scenarios))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/run", io.LimitReader(strings.NewReader("{"), 1)))
	if rec.Code != 400 {
		t.Errorf("truncated body: %d", rec.Code)
	}
}
