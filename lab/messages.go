package lab

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/seqack/seqack/sim"
)

// message is one message of the lab in each language the page speaks:
// two fmt formats taking the same arguments (the Chinese may take them
// in another order with %[n]s). Only the English of a message for
// fieldErr may use %w: fieldErr makes it an error that wraps its cause.
type message struct {
	en, zh string
}

// in returns m in lang: Chinese for "zh", English otherwise.
func (m message) in(lang string) string {
	if lang == "zh" {
		return m.zh
	}
	return m.en
}

// The lab's messages: the errors for bad settings and a run's warning,
// in the words of the page's controls (场景, 故障, 选择器, 延迟 and 报文段
// as the page and the explanations say them).
var (
	msgBadLang           = message{"want en or zh", "应为 en 或 zh"}
	msgTooManyFaults     = message{"at most %d faults", "最多 %d 个故障"}
	msgDelayNeedsTime    = message{"a delay needs a duration such as 200ms", "延迟需要一个时长，例如 200ms"}
	msgDelayTooLong      = message{"a delay of at most %v", "延迟不能超过 %v"}
	msgNotDuration       = message{"%q is not a duration: give a number of %s", "%q 不是时长：请输入%s数"}
	msgOutOfRange        = message{"%s %s is out of range: from %s to %s %s", "%[1]s %[2]s超出范围：应在 %[3]s 到 %[4]s %[5]s之间"}
	msgSeconds           = message{"seconds", "秒"}
	msgMilliseconds      = message{"milliseconds", "毫秒"}
	msgCustomNeedsIt     = message{"a custom scenario needs its settings", "自定义场景缺少设置"}
	msgNoScenario        = message{"no scenario %q", "没有名为 %q 的场景"}
	msgScriptFailed      = message{"scenario %s cannot run with these faults: its script failed (%v)", "加上这些故障后，场景 %s 无法运行：它的脚本出错了（%v）"}
	msgScenarioFailed    = message{"%w", "场景无法运行：%v"}
	msgTooManyEvents     = message{"the run has %d events, too many to draw: send less data or lose fewer packets", "本次运行有 %d 个事件，太多了，无法绘制：请减少发送的数据量，或降低丢包率"}
	msgWantOpen          = message{"want client or both", "应为 client 或 both"}
	msgWantClose         = message{"want client, server, both, abort or none", "应为 client、server、both、abort 或 none"}
	msgBytes             = message{"from 0 to %d bytes", "应在 0 到 %d 字节之间"}
	msgPercentage        = message{"a percentage from 0 to 100", "应为 0 到 100 之间的百分比"}
	msgBadFormat         = message{"format %q: want svg, html, mermaid, text or pcap", "格式 %q：应为 svg、html、mermaid、text 或 pcap"}
	msgTimeLimit         = message{"%[1]v", "到达时间上限（%[2]s）时，网络仍未静止"}
	msgRunUnfinished     = message{"%v", "运行没有正常结束：%v"}
	msgFaultUntranslated = message{"%v", "故障设置有误：%v"}
)

// fieldErr returns a FieldError saying m, in English and in Chinese.
// An argument that is a message is said in the same language.
func fieldErr(field string, m message, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(m.en, localize("en", args)...), ZH: sprint("zh", m, args...)}
}

// sprint formats m in lang.
func sprint(lang string, m message, args ...any) string {
	return fmt.Sprintf(m.in(lang), localize(lang, args)...)
}

// localize turns the messages among args into their text in lang.
func localize(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if m, ok := a.(message); ok {
			a = m.in(lang)
		}
		out[i] = a
	}
	return out
}

// warning says in lang why a run did not end on its own: the
// simulator's time limit (sim.ErrTimeLimit) or, should another error
// come, that error after a Chinese lead-in.
func warning(err error, lang string) string {
	// sim writes "... quiet (1h0m0s)": the limit is in the brackets.
	rest, found := strings.CutPrefix(err.Error(), sim.ErrTimeLimit.Error()+" (")
	if limit, ok := strings.CutSuffix(rest, ")"); found && ok && errors.Is(err, sim.ErrTimeLimit) {
		return sprint(lang, msgTimeLimit, err, limit)
	}
	return sprint(lang, msgRunUnfinished, err)
}

// faultError is an error of sim.ParseFault, said without sim's "sim: "
// prefix: the page shows it next to the fault, where the prefix means
// nothing.
type faultError struct{ err error }

func (e faultError) Error() string { return strings.TrimPrefix(e.err.Error(), "sim: ") }

func (e faultError) Unwrap() error { return e.err }

// faultErr returns the FieldError for an error of sim.ParseFault.
func faultErr(field string, err error) error {
	return &FieldError{Field: field, Err: faultError{err}, ZH: faultZH(err)}
}

// quoted matches a string as %q writes it.
const quoted = `("(?:[^"\\]|\\.)*")`

// simForms are the forms of sim.ParseFault's errors (sim/fault.go,
// sim/selector.go), each with its Chinese. sim's errors are not typed,
// but their text is fixed apart from the quoted values the user typed;
// a form that no longer matches (sim's wording changed) falls back to
// msgFaultUntranslated, and TestFaultErrorsInChinese notices.
var simForms = []struct {
	re *regexp.Regexp
	zh func(m []string) string
}{
	{regexp.MustCompile(`^sim: unknown fault action ` + quoted + `: want drop, delay, dup or corrupt$`),
		func(m []string) string {
			return "未知的故障动作 " + m[1] + "：应为 drop、delay、dup 或 corrupt"
		}},
	{regexp.MustCompile(`^sim: delay ` + quoted + `: want SELECTOR=DURATION, e\.g\. (\S+)$`),
		func(m []string) string {
			return "延迟 " + m[1] + "：应写成“选择器=时长”，例如 " + m[2]
		}},
	{regexp.MustCompile(`^sim: delay ` + quoted + `: ` + quoted + ` is not a duration such as 5s or 200ms$`),
		func(m []string) string {
			return "延迟 " + m[1] + "：" + m[2] + " 不是时长，应写成 5s 或 200ms 这样的形式"
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: empty; want \[SIDE:\]KIND\[@STATE\]\[#COUNT\], e\.g\. (\S+)$`),
		func(m []string) string {
			return "选择器为空：应写成 [方向:]类型[@状态][#序号]，例如 " + m[2]
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: empty side before ':'$`),
		func(m []string) string {
			return "选择器 " + m[1] + " 有误：“:”前面缺少方向（client 或 server）"
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: count ` + quoted + `: want N, N-M, N\+ or \* with N >= 1$`),
		func(m []string) string {
			return "选择器 " + m[1] + " 有误：序号 " + m[2] + " 应写成 N、N-M、N+ 或 *，其中 N >= 1"
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: count ` + quoted + `: range ends before it starts$`),
		func(m []string) string {
			return "选择器 " + m[1] + " 有误：序号范围 " + m[2] + " 的终点在起点之前"
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: state ` + quoted + ` is not one of (.+)$`),
		func(m []string) string {
			return "选择器 " + m[1] + " 有误：没有 " + m[2] + " 这个状态，应为 " + strings.ReplaceAll(m[3], ", ", "、") + " 之一"
		}},
	{regexp.MustCompile(`^sim: bad selector ` + quoted + `: kind ` + quoted + ` is not one of (.+)$`),
		func(m []string) string {
			return "选择器 " + m[1] + " 有误：没有 " + m[2] + " 这种报文段类型，应为 " + strings.ReplaceAll(m[3], ", ", "、") + " 之一"
		}},
}

// faultZH says an error of sim.ParseFault in Chinese: translated when
// it has one of sim's known forms, else a Chinese lead-in before the
// English.
func faultZH(err error) string {
	text := err.Error()
	for _, f := range simForms {
		if m := f.re.FindStringSubmatch(text); m != nil {
			return f.zh(m)
		}
	}
	return sprint("zh", msgFaultUntranslated, faultError{err})
}
