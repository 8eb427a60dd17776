package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
)

// Every form of sim.ParseFault's errors is said in Chinese, not with the
// lead-in before the English that stands for a form the lab does not
// know: if sim's wording changes, this test names the form to update in
// simForms.
func TestFaultErrorsInChinese(t *testing.T) {
	for _, c := range []struct{ action, text, zh string }{
		{"explode", "server:fin", `未知的故障动作 "explode"：应为 drop、delay、dup 或 corrupt`},
		{"delay", "server:fin", `延迟 "server:fin"：应写成“选择器=时长”，例如 client:ack@TIME_WAIT=5s`},
		{"delay", "server:fin=soon", `延迟 "server:fin=soon"："soon" 不是时长，应写成 5s 或 200ms 这样的形式`},
		{"delay", "server:fin=-1s", `"-1s" 不是时长`},
		{"drop", " ", "选择器为空：应写成 [方向:]类型[@状态][#序号]，例如 server:fin"},
		{"drop", ":fin", `选择器 ":fin" 有误：“:”前面缺少方向`},
		{"drop", "fin#x", `选择器 "fin#x" 有误：序号 "x" 应写成 N、N-M、N+ 或 *，其中 N >= 1`},
		{"drop", "fin#0+", `序号 "0+" 应写成`},
		{"drop", "fin#5-2", `选择器 "fin#5-2" 有误：序号范围 "5-2" 的终点在起点之前`},
		{"drop", "fin@LATER", `选择器 "fin@LATER" 有误：没有 "LATER" 这个状态，应为 CLOSED、LISTEN、`},
		{"drop", `client:"fin"`, `选择器 "client:\"fin\"" 有误：没有 "\"fin\"" 这种报文段类型，应为 any、syn、syn-ack、ack、data、fin、rst 之一`},
	} {
		_, err := sim.ParseFault(c.action, c.text)
		if err == nil {
			t.Fatalf("%s %q: no error", c.action, c.text)
		}
		if got := faultZH(err); !strings.Contains(got, c.zh) || strings.HasPrefix(got, "故障设置有误") {
			t.Errorf("%s %q: %v\nin Chinese %q, want %q", c.action, c.text, err, got, c.zh)
		}
	}
	// A form the lab does not know: a Chinese lead-in, then sim's English.
	if got := faultZH(errors.New("sim: selector too clever")); got != "故障设置有误：selector too clever" {
		t.Errorf("unknown form: %q", got)
	}
}

// A FieldError is still the Go error it was: English, with the field,
// and wrapping its cause; only the page gets the Chinese.
func TestFieldErrorLanguages(t *testing.T) {
	_, err := execute(&Request{Scenario: "handshake", Lang: "zh", Faults: []Fault{{Action: "drop", Selector: "server:fim"}}})
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%v is not a FieldError", err)
	}
	if want := `faults.0: bad selector "server:fim": kind "fim" is not one of any, syn, syn-ack, ack, data, fin, rst`; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if errors.Unwrap(errors.Unwrap(fe.Err)) != nil || !strings.HasPrefix(errors.Unwrap(fe.Err).Error(), "sim: bad selector") {
		t.Errorf("the error does not wrap sim's: %#v", fe.Err)
	}
	for lang, want := range map[string]string{
		"":   `bad selector "server:fim"`,
		"en": `bad selector "server:fim"`,
		"zh": `选择器 "server:fim" 有误`,
		"fr": `bad selector "server:fim": kind "fim" is not one of any, syn, syn-ack, ack, data, fin, rst / 选择器 "server:fim" 有误`,
	} {
		if got := fe.Message(lang); !strings.HasPrefix(got, want) {
			t.Errorf("Message(%q) = %q, want %q…", lang, got, want)
		}
	}
	// One built without a translation says it in English.
	bare := &FieldError{Field: "seed", Err: errors.New("too big")}
	if bare.Message("zh") != "too big" || bare.Message("fr") != "too big" {
		t.Errorf("no translation: %q, %q", bare.Message("zh"), bare.Message("fr"))
	}
	// The scenario whose script fails says so as it did.
	sf := &scriptFailure{scenario: "lost-fin", panic: "no connection"}
	if got := sf.Error(); got != "scenario lost-fin cannot run with these faults: its script failed (no connection)" {
		t.Errorf("script failure: %q", got)
	}
	if got := sprint("zh", msgScriptFailed, sf.scenario, sf.panic); got != "加上这些故障后，场景 lost-fin 无法运行：它的脚本出错了（no connection）" {
		t.Errorf("script failure in Chinese: %q", got)
	}
	if got := sprint("zh", msgTooManyEvents, 20001); !strings.HasPrefix(got, "本次运行有 20001 个事件") {
		t.Errorf("too many events in Chinese: %q", got)
	}
}

// A run that does not fall quiet in its time limit carries a warning in
// the run's language.
func TestWarningLanguages(t *testing.T) {
	limit := fmt.Errorf("%w (%v)", sim.ErrTimeLimit, time.Hour)
	for _, c := range []struct {
		err        error
		lang, want string
	}{
		{limit, "", "sim: time limit reached before the network was quiet (1h0m0s)"},
		{limit, "en", "sim: time limit reached before the network was quiet (1h0m0s)"},
		{limit, "zh", "到达时间上限（1h0m0s）时，网络仍未静止"},
		{sim.ErrTimeLimit, "zh", "运行没有正常结束：sim: time limit reached before the network was quiet"},
		{errors.New("stuck"), "zh", "运行没有正常结束：stuck"},
		{errors.New("stuck"), "en", "stuck"},
	} {
		if got := warning(c.err, c.lang); got != c.want {
			t.Errorf("warning(%v, %q) = %q, want %q", c.err, c.lang, got, c.want)
		}
	}
}

// The export's own errors come in the request's language too.
func TestExportErrorLanguage(t *testing.T) {
	h := New()
	for lang, want := range map[string]string{"en": `format "gif": want svg`, "zh": `格式 "gif"：应为 svg、html、mermaid、text 或 pcap`} {
		run := url.QueryEscape(`{"scenario":"handshake","lang":"` + lang + `"}`)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export?format=gif&run="+run, nil))
		var e errorReply
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 400 || e.Field != "format" || !strings.Contains(e.Error, want) {
			t.Errorf("%s: %d %s", lang, rec.Code, rec.Body.String())
		}
	}
}
