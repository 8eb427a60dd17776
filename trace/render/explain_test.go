package render_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

// hasHan reports whether s has a Chinese character.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// checkSteps checks what every explanation must be: about an event of
// the trace, in order, not empty, with no placeholder left, and in the
// language asked for.
func checkSteps(t *testing.T, events []trace.Event, en, zh []render.Step) {
	t.Helper()
	if len(en) == 0 {
		t.Fatal("no steps")
	}
	if len(en) != len(zh) {
		t.Fatalf("%d English steps, %d Chinese", len(en), len(zh))
	}
	for i := range en {
		e, z := en[i], zh[i]
		if e.Event != z.Event || e.ID != z.ID || e.Host != z.Host || e.At != z.At {
			t.Errorf("step %d: the languages explain different events: %+v / %+v", i, e, z)
		}
		if e.Event < 0 || e.Event >= len(events) || events[e.Event].At != e.At {
			t.Errorf("step %d: event %d is not in the trace at %v", i, e.Event, e.At)
		}
		if i > 0 && e.Event <= en[i-1].Event {
			t.Errorf("step %d: out of order", i)
		}
		for _, s := range []string{e.Text, z.Text} {
			if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "{}") {
				t.Errorf("step %d: empty or unfilled: %q", i, s)
			}
		}
		if !unicode.IsUpper([]rune(e.Text)[0]) && !unicode.IsDigit([]rune(e.Text)[0]) {
			t.Errorf("step %d: English does not start a sentence: %q", i, e.Text)
		}
		if hasHan(e.Text) {
			t.Errorf("step %d: Chinese in English: %q", i, e.Text)
		}
		if !hasHan(z.Text) || z.Text == e.Text {
			t.Errorf("step %d: untranslated: %q", i, z.Text)
		}
		if strings.Contains(z.Text, "the client") || strings.Contains(z.Text, "the server") {
			t.Errorf("step %d: English names in Chinese: %q", i, z.Text)
		}
	}
}

// Every scenario is explained in both languages.
func TestExplainScenarios(t *testing.T) {
	// Sentences each scenario must have, in English and in Chinese: the
	// heart of what it shows.
	want := map[string][]string{
		"handshake":              {"third and last segment of the three-way handshake", "三次握手的第三个"},
		"client-closes-first":    {"enters TIME_WAIT for 2×MSL", "TIME_WAIT is for the side that closed first", "进入 TIME_WAIT", "四次挥手", "The window it advertises is one smaller too", "窗口也小了一"},
		"server-closes-first":    {"the server acknowledges it and enters TIME_WAIT", "客户端的应用读完了服务器发来的数据"},
		"half-close":             {"may still send until its own application calls close()", "仍可以继续发送", "calls shutdown(SHUT_WR) (CloseWrite() in Go): a half-close", "半关闭", "still reads and acknowledges"},
		"lost-syn":               {"the client's SYN is lost in the network", "sends its SYN again (try 2)", "第 2 次", "超时重传"},
		"lost-syn-ack":           {"the server's SYN+ACK is lost", "so the client never got the SYN+ACK", "Another copy of the SYN+ACK"},
		"lost-third-ack":         {"third ACK is lost", "the client's data segment carries the same acknowledgment", "数据报文段带着同样的确认号"},
		"lost-third-ack-no-data": {"third ACK is lost", "the server's SYN+ACK has not been acknowledged before the retransmission timeout"},
		"lost-fin":               {"the client's FIN is lost in the network", "超时重传 FIN", "the client's FIN has not been acknowledged before the retransmission timeout"},
		"lost-final-ack": {
			"the client's final ACK is lost in the network",
			"The server has not received the client's ACK of its FIN, so after the retransmission timeout it sends the FIN again",
			"the client, still in TIME_WAIT, answers with the same ACK and restarts its 2MSL timer",
			"仍处于 TIME_WAIT 的客户端用同样的 ACK 作答，并重新开始 2MSL 计时",
			"2×MSL has passed",
		},
		"simultaneous-open":      {"simultaneous open", "its SYN crosses the client's", "同时打开"},
		"simultaneous-close":     {"simultaneous close", "waits in CLOSING", "同时关闭"},
		"refused":                {"answers the SYN with a RST: the connection is refused", "The connection is refused and the client is CLOSED", "连接被拒绝"},
		"abort":                  {"aborts the connection", "neither acknowledged nor retransmitted", "the server discards it and is CLOSED at once", "中止"},
		"old-duplicate-syn":      {"An old duplicate SYN", "replies with a RST", "returns to LISTEN", "旧的重复"},
		"time-wait-reuse":        {"reuses the address pair and enters SYN_RCVD", "复用"},
		"last-ack-peer-vanished": {"The client crashes", "the client has crashed, so the server's FIN reaches nobody", "gives up on the connection", "崩溃"},
		"half-open":              {"lost all its connections when it crashed", "半开连接"},
		"syn-timeout":            {"has sent its SYN 7 times without an answer", "connect() fails with a timeout", "放弃"},
	}
	for _, s := range scenario.All() {
		t.Run(s.Name, func(t *testing.T) {
			res, err := s.Run(scenario.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			en := render.Explain(res.Events, "en")
			zh := render.Explain(res.Events, "zh")
			checkSteps(t, res.Events, en, zh)
			var all strings.Builder
			for i := range en {
				all.WriteString(en[i].Text + "\n" + zh[i].Text + "\n")
			}
			w, ok := want[s.Name]
			if !ok {
				t.Fatalf("no expectations for scenario %s: add some", s.Name)
			}
			for _, sentence := range w {
				if !strings.Contains(strings.ToLower(all.String()), strings.ToLower(sentence)) {
					t.Errorf("no step says %q:\n%s", sentence, all.String())
				}
			}
		})
	}
}

// The hand-written traces are explained too: duplicates, corruption and
// losses the scenarios do not have.
func TestExplainHandWritten(t *testing.T) {
	for name, events := range map[string][]trace.Event{"handshake": handshakeEvents(t), "close": closeEvents(t)} {
		t.Run(name, func(t *testing.T) {
			en := render.Explain(events, "en")
			zh := render.Explain(events, "zh")
			checkSteps(t, events, en, zh)
		})
	}
	var all []string
	for _, s := range render.Explain(handshakeEvents(t), "en") {
		all = append(all, s.Text)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"The network delivers this segment twice",
		"arrives at the client damaged: the checksum does not match",
		"The handshake's third ACK is lost in the network",
		"the server's SYN+ACK has not been acknowledged before the retransmission timeout",
	} {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
			t.Errorf("no step says %q:\n%s", want, text)
		}
	}
	// An unknown language is English.
	if got := render.Explain(closeEvents(t), "fr"); got[0].Text != render.Explain(closeEvents(t), "en")[0].Text {
		t.Errorf("lang fr: %q", got[0].Text)
	}
}
