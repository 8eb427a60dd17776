package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seqack/seqack/trace"
)

// HTMLOptions configures HTML.
type HTMLOptions struct {
	// Title heads the page; its first line is the page's <title>.
	Title string
	// Lang is "en" (the default) or "zh": the page's headings and the
	// explanations are in that language.
	Lang string
	// Left, Right, Absolute and Window are as in TextOptions.
	Left, Right      string
	Absolute, Window bool
}

// htmlWords are the words of a report page.
type htmlWords struct {
	lang, diagram, states, machine, segments, steps, state, entered, lasted, end,
	num, sent, from, to, segment, fate, arrived, footer, network string
	fates map[string]string
}

func htmlWordsFor(lang string) htmlWords {
	if lang == "zh" {
		return htmlWords{
			lang: "zh-Hans", diagram: "时序图", states: "双方的状态", machine: "RFC 9293 状态机", segments: "报文段",
			steps: "发生了什么，为什么", state: "状态", entered: "进入时间 (秒)",
			lasted: "持续", end: "（结束时仍处于此状态）", num: "编号", sent: "发送时间 (秒)", from: "发送方", to: "接收方",
			segment: "报文段", fate: "结果", arrived: "到达时间 (秒)",
			footer: "由 seqack 生成：这份文件自成一体，不引用任何外部资源。", network: "网络",
			fates: map[string]string{"delivered": "送达", "lost": "丢失", "corrupted": "损坏（校验和错误）", "in flight": "未到达", "lost (host down)": "丢失（主机已宕机）"},
		}
	}
	return htmlWords{
		lang: "en", diagram: "Sequence diagram", states: "Both sides' states", machine: "RFC 9293 state machine", segments: "Segments",
		steps: "What happened, and why", state: "state", entered: "entered (s)",
		lasted: "lasted", end: "(still in it at the end)", num: "#", sent: "sent (s)", from: "from", to: "to",
		segment: "segment", fate: "fate", arrived: "arrived (s)",
		footer: "Made by seqack. This file stands alone: it refers to nothing outside itself.", network: "network",
		fates: map[string]string{},
	}
}

// HTML writes a self-contained HTML page about a trace: the SVG
// diagram, each side's state timeline, the RFC 9293 state machine with
// the transitions taken, a table of every segment (when it was sent, by
// whom, to whom, what it was and what became of it) and the explanation
// of each step (Explain). Styles and drawings are inline and nothing
// refers outside the file, so it can be mailed, archived or printed.
func HTML(w io.Writer, events []trace.Event, opts HTMLOptions) error {
	lang := opts.Lang
	if lang != "zh" {
		lang = "en"
	}
	lo := labelOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Window: opts.Window, Lang: lang}
	d, err := buildDiagram(events, lo)
	if err != nil {
		return err
	}
	words := htmlWordsFor(lang)
	var b strings.Builder
	title := opts.Title
	if title == "" {
		title = d.left + " ↔ " + d.right
	}
	titleLines := strings.Split(title, "\n")
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", words.lang)
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(titleLines[0]), reportCSS)
	fmt.Fprintf(&b, "<header><h1>%s</h1>\n", esc(titleLines[0]))
	for _, line := range titleLines[1:] {
		fmt.Fprintf(&b, "<p class=\"sub\">%s</p>\n", esc(line))
	}
	b.WriteString("</header>\n<main>\n")

	fmt.Fprintf(&b, "<section id=\"diagram\"><h2>%s</h2>\n<div class=\"scroll\">\n", words.diagram)
	writeSVG(&b, d, SVGOptions{Left: d.left, Right: d.right, Absolute: opts.Absolute, Window: opts.Window, Lang: lang, Inline: true, IDPrefix: "sq"})
	b.WriteString("</div></section>\n")

	fmt.Fprintf(&b, "<section id=\"states\"><h2>%s</h2>\n<div class=\"sides\">\n", words.states)
	for _, h := range []string{d.left, d.right} {
		if h == "" {
			continue
		}
		fmt.Fprintf(&b, "<table class=\"timeline\"><caption>%s</caption>\n<thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n", esc(textWordsFor(lang).column(h)), words.state, words.entered, words.lasted)
		spans := d.spans(h)
		for i, sp := range spans {
			entered := "—"
			if sp.from >= 0 {
				entered = fmt.Sprintf("%.3f", sp.at.Seconds())
			}
			lasted := words.end
			if i+1 < len(spans) {
				start := time.Duration(0)
				if sp.from >= 0 {
					start = sp.at
				}
				lasted = duration(spans[i+1].at - start)
			}
			fmt.Fprintf(&b, "<tr><td class=\"st\">%s</td><td class=\"num\">%s</td><td>%s</td></tr>\n", sp.state, entered, lasted)
		}
		b.WriteString("</tbody></table>\n")
	}
	b.WriteString("</div></section>\n")

	fmt.Fprintf(&b, "<section id=\"machine\"><h2>%s</h2>\n<div class=\"scroll\">\n", words.machine)
	writeMachine(&b, d, events, MachineOptions{Left: d.left, Right: d.right, Lang: lang, Inline: true, IDPrefix: "sm"})
	b.WriteString("</div></section>\n")

	fmt.Fprintf(&b, "<section id=\"segments\"><h2>%s</h2>\n<div class=\"scroll\"><table class=\"segments\">\n", words.segments)
	fmt.Fprintf(&b, "<thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
		words.num, words.sent, words.from, words.to, words.segment, words.fate, words.arrived)
	for _, s := range d.order {
		arrived := "—"
		if s.fate != 0 && !s.dropInNet {
			arrived = fmt.Sprintf("%.3f", s.arrived.Seconds())
		}
		fate := s.fateWord()
		if t, ok := words.fates[fate]; ok {
			fate = t
		}
		class := ""
		if s.lost() || s.fate == 0 {
			class = ` class="lost"`
		}
		fmt.Fprintf(&b, "<tr%s id=\"seg-%d\"><td class=\"num\">%d</td><td class=\"num\">%.3f</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td class=\"num\">%s</td></tr>\n",
			class, s.id, s.id, s.sent.Seconds(), esc(s.from), esc(s.to), esc(s.label), esc(fate), arrived)
	}
	b.WriteString("</tbody></table></div></section>\n")

	fmt.Fprintf(&b, "<section id=\"steps\"><h2>%s</h2>\n<ol class=\"steps\">\n", words.steps)
	for _, st := range Explain(events, lang) {
		who := st.Who
		if who == "" {
			who = words.network
		}
		ref := ""
		if st.ID != 0 {
			ref = fmt.Sprintf(` data-seg="%d"`, st.ID)
		}
		fmt.Fprintf(&b, "<li%s><span class=\"t\">%.3f</span> <span class=\"who\">%s</span> %s</li>\n", ref, st.At.Seconds(), esc(who), esc(st.Text))
	}
	b.WriteString("</ol></section>\n</main>\n")
	fmt.Fprintf(&b, "<footer>%s</footer>\n</body>\n</html>\n", esc(words.footer))
	_, err = io.WriteString(w, b.String())
	return err
}

// duration formats how long a state lasted: "10 ms", "60.000 s".
func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// reportCSS styles a report: black on white, readable on a phone (the
// drawings scroll sideways in their own boxes) and on paper.
const reportCSS = `body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#000;background:#fff;margin:0 auto;max-width:1000px;padding:0 12px 24px;line-height:1.45}
h1{font-size:1.35em;margin:16px 0 4px}
h2{font-size:1.1em;border-bottom:1px solid #000;margin:24px 0 8px}
.sub{margin:0;color:#333}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.scroll svg{display:block;max-width:none}
.sides{display:flex;flex-wrap:wrap;gap:16px}
table{border-collapse:collapse;font-size:.9em}
caption{font-weight:bold;text-align:left;padding:2px 0}
th,td{border:1px solid #999;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.st{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-weight:bold}
tr.lost td{font-style:italic}
tr.lost td:nth-child(6)::before{content:"✕ "}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:nowrap}
ol.steps{padding-left:2.2em}
ol.steps li{margin:4px 0}
.t{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;color:#333}
.who{font-weight:bold}
footer{margin-top:32px;font-size:.85em;color:#333}
@media print{.scroll{overflow:visible}h2{break-after:avoid}section{break-inside:auto}}
`
