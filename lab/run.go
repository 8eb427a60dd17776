package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

// Request is what the page asks the lab to run: a built-in scenario or
// one built from the controls, with the faults the user added.
type Request struct {
	// Scenario is a built-in scenario's name, or "custom" for Custom.
	Scenario string `json:"scenario"`
	// Custom describes the scenario built from the controls.
	Custom *Custom `json:"custom,omitempty"`
	// Seed drives the run's random choices (default 1).
	Seed int64 `json:"seed,omitempty"`
	// MSL is the maximum segment lifetime, as "30s" or "2s"; TIME_WAIT
	// lasts 2×MSL. Empty means 30 s.
	MSL string `json:"msl,omitempty"`
	// Faults are added after the scenario's own.
	Faults []Fault `json:"faults,omitempty"`
	// Lang is the language of the explanations: "en" or "zh".
	Lang string `json:"lang,omitempty"`
	// Absolute shows sequence numbers as on the wire.
	Absolute bool `json:"absolute,omitempty"`
}

// Fault is one fault: an action on the segments a selector picks (see
// package sim).
type Fault struct {
	Action   string `json:"action"` // drop, delay, dup or corrupt
	Selector string `json:"selector"`
	Delay    string `json:"delay,omitempty"` // for delay: "200ms"
}

// Custom is a scenario built from the page's controls.
type Custom struct {
	// Open is who opens: "client" (the server listens, the client
	// connects) or "both" (a simultaneous open).
	Open string `json:"open"`
	// Close is who closes first: "client", "server", "both" (a
	// simultaneous close), "abort" (the client aborts) or "none".
	Close string `json:"close"`
	// CloseAt is when, after the start, the closing side closes ("200ms").
	CloseAt string `json:"closeAt,omitempty"`
	// Data is how many bytes the client sends once connected; Reply how
	// many the server sends back once it has them all.
	Data  int `json:"data,omitempty"`
	Reply int `json:"reply,omitempty"`
	// Delay is the link's one-way delay ("10ms"); Loss the chance in
	// percent that the link loses any one packet, either way.
	Delay string  `json:"delay,omitempty"`
	Loss  float64 `json:"loss,omitempty"`
}

// Limits of what a run may ask, so that one request cannot make the
// server draw forever.
const (
	maxBytes   = 64 << 10
	maxDelay   = 10 * time.Second
	maxMSL     = 10 * time.Minute
	maxFaults  = 32
	maxEvents  = 20000
	runLimit   = time.Hour
	clientPort = 40000
	serverPort = 80
)

// FieldError is a bad setting: Field names the control that caused it,
// so that the page can show the message next to it, in the page's
// language (Message).
type FieldError struct {
	Field string
	Err   error
	// ZH says what Err says, in Chinese; empty when there is no
	// translation.
	ZH string
}

// Error returns the field and what is wrong with it, in English.
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns what is wrong, without the field.
func (e *FieldError) Unwrap() error { return e.Err }

// Message says what is wrong, without the field, in lang: Chinese for
// "zh" (when there is a translation), English for "en" or "". For any
// other lang, not one the lab speaks, it says both.
func (e *FieldError) Message(lang string) string {
	switch {
	case lang == "zh" && e.ZH != "":
		return e.ZH
	case lang == "zh" || lang == "en" || lang == "" || e.ZH == "":
		return e.Err.Error()
	}
	return e.Err.Error() + " / " + e.ZH
}

// Run is what a run produced, as the page shows it.
type Run struct {
	Title    string          `json:"title"`
	Summary  string          `json:"summary"`
	Client   string          `json:"client"`
	Server   string          `json:"server"`
	SVG      string          `json:"svg"`
	Machine  string          `json:"machine"`
	Segments []Segment       `json:"segments"`
	Steps    []Step          `json:"steps"`
	States   map[string][]At `json:"states"`
	// Faults lists every fault that shaped the run: the scenario's own,
	// then the user's.
	Faults  []string `json:"faults"`
	Applied []string `json:"applied"` // the faults that matched a segment, in order
	// Warning says the run did not fall quiet in its time limit.
	Warning string        `json:"warning,omitempty"`
	Events  []trace.Event `json:"-"`
	// EventCount is len(Events), for the page's summary.
	EventCount int `json:"eventCount"`
	// RandomLoss is the link's random loss rate, in percent, and
	// RandomLost how many segments it lost in this run: the page says
	// so, since a seed may happen to lose none.
	RandomLoss float64 `json:"randomLoss,omitempty"`
	RandomLost int     `json:"randomLost"`
}

// Segment is one segment of a run, with the selector that picks exactly
// it for a new fault.
type Segment struct {
	ID        int     `json:"id"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	Sent      float64 `json:"sent"`              // seconds
	Arrived   float64 `json:"arrived,omitempty"` // seconds, when it arrived
	Fate      string  `json:"fate"`              // delivered, lost, corrupted, in flight
	Label     string  `json:"label"`
	Kind      string  `json:"kind"`
	Dup       bool    `json:"dup,omitempty"`
	Original  int     `json:"original,omitempty"`
	Selector  string  `json:"selector,omitempty"`  // empty when no new fault can pick it
	DroppedBy string  `json:"droppedBy,omitempty"` // the fault that dropped it
}

// Step is one explanation.
type Step struct {
	At   float64 `json:"at"`
	Host string  `json:"host"`
	// Who names Host in the run's language ("客户端").
	Who  string `json:"who,omitempty"`
	ID   int    `json:"id,omitempty"`
	Text string `json:"text"`
}

// At is a state entered at a time.
type At struct {
	State string  `json:"state"`
	At    float64 `json:"at"`
}

// parseFaults checks the user's faults, naming the one at fault.
func parseFaults(fs []Fault) ([]sim.Fault, error) {
	if len(fs) > maxFaults {
		return nil, fieldErr("faults", msgTooManyFaults, maxFaults)
	}
	var out []sim.Fault
	for i, f := range fs {
		text := f.Selector
		if f.Action == "delay" {
			if f.Delay == "" {
				return nil, fieldErr(fmt.Sprintf("faults.%d", i), msgDelayNeedsTime)
			}
			text += "=" + f.Delay
		}
		sf, err := sim.ParseFault(f.Action, text)
		if err != nil {
			return nil, faultErr(fmt.Sprintf("faults.%d", i), err)
		}
		if sf.Action == sim.Delay && sf.Delay > maxDelay {
			return nil, fieldErr(fmt.Sprintf("faults.%d", i), msgDelayTooLong, maxDelay)
		}
		out = append(out, sf)
	}
	return out, nil
}

// parseDuration reads a duration field: a Go duration ("200ms", "2s")
// or a bare number in unit (time.Second or time.Millisecond), the unit
// the control shows; an error says the range in that unit too, so that
// a field in seconds never answers in milliseconds.
func parseDuration(field, text string, unit, def, lo, hi time.Duration) (time.Duration, error) {
	if text == "" {
		return def, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil {
			d, err = time.Duration(f*float64(unit)), nil
		}
	}
	if err != nil {
		return 0, fieldErr(field, msgNotDuration, text, unitName(unit))
	}
	if d < lo || d > hi {
		return 0, fieldErr(field, msgOutOfRange,
			inUnit(d, unit), unitName(unit), inUnit(lo, unit), inUnit(hi, unit), unitName(unit))
	}
	return d, nil
}

// unitName names a field's unit in its errors.
func unitName(unit time.Duration) message {
	if unit == time.Second {
		return msgSeconds
	}
	return msgMilliseconds
}

// inUnit writes d as a plain number of unit: 0.001, -5, 600.
func inUnit(d, unit time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(unit), 'f', -1, 64)
}

// execute runs a request in a fresh simulated network.
func execute(req *Request) (*Run, error) {
	// The language first: the other errors are said in it.
	if req.Lang != "" && req.Lang != "en" && req.Lang != "zh" {
		return nil, fieldErr("lang", msgBadLang)
	}
	msl, err := parseDuration("msl", req.MSL, time.Second, 30*time.Second, time.Millisecond, maxMSL)
	if err != nil {
		return nil, err
	}
	faults, err := parseFaults(req.Faults)
	if err != nil {
		return nil, err
	}
	seed := req.Seed
	if seed == 0 {
		seed = 1
	}
	run := &Run{Client: "client", Server: "server"}
	absolute := req.Absolute
	var own []string
	switch req.Scenario {
	case "custom":
		if req.Custom == nil {
			return nil, fieldErr("scenario", msgCustomNeedsIt)
		}
		events, unfinished, err := runCustom(req.Custom, seed, msl, faults)
		if err != nil {
			return nil, err
		}
		run.Events = events
		if unfinished != nil {
			run.Warning = warning(unfinished, req.Lang)
		}
		run.Title = "custom"
		run.Summary = req.Custom.describe(req.Lang)
		run.RandomLoss = req.Custom.Loss
	default:
		s, ok := scenario.Lookup(req.Scenario)
		if !ok {
			return nil, fieldErr("scenario", msgNoScenario, req.Scenario)
		}
		res, err := runScenario(s, scenario.Options{Seed: seed, MSL: msl, Faults: faults, KeepPackets: true})
		if err != nil {
			field := "scenario"
			if len(faults) > 0 {
				field = "faults"
			}
			var sf *scriptFailure
			if errors.As(err, &sf) {
				return nil, &FieldError{Field: field, Err: sf, ZH: sprint("zh", msgScriptFailed, sf.scenario, sf.panic)}
			}
			return nil, fieldErr(field, msgScenarioFailed, err)
		}
		run.Events, run.Client, run.Server = res.Events, res.Client, res.Server
		run.Title, run.Summary = s.Name, s.Describe(req.Lang)
		absolute = absolute || s.Absolute
		if res.Err != nil {
			run.Warning = warning(res.Err, req.Lang)
		}
		own = scenarioFaults(res.Events, faults)
	}
	if len(run.Events) > maxEvents {
		return nil, fieldErr("scenario", msgTooManyEvents, len(run.Events))
	}
	run.EventCount = len(run.Events)
	// Lists are never null in the JSON: the page iterates them.
	own = append(make([]string, 0, len(own)+len(faults)), own...)
	for _, f := range faults {
		own = append(own, f.String())
	}
	run.Faults = own
	if err := run.render(req.Lang, absolute); err != nil {
		return nil, err
	}
	return run, nil
}

// scenarioFaults lists the faults a scenario added itself: those whose
// notes are in the trace but which the user did not ask for.
func scenarioFaults(events []trace.Event, user []sim.Fault) []string {
	mine := map[string]bool{}
	for _, f := range user {
		mine[f.String()] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range events {
		if e.Kind != trace.Note {
			continue
		}
		if f, ok := strings.CutPrefix(e.Text, "fault "); ok {
			f = strings.TrimSuffix(f, " applied")
			if !mine[f] && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// render fills in the drawings, segments, steps and states.
func (r *Run) render(lang string, absolute bool) error {
	var b bytes.Buffer
	r.Steps, r.Segments, r.Applied = []Step{}, []Segment{}, []string{}
	if err := render.SVG(&b, r.Events, render.SVGOptions{Left: r.Client, Right: r.Server, Absolute: absolute, Lang: lang, Interactive: true, Inline: true, IDPrefix: "sq"}); err != nil {
		return err
	}
	r.SVG = b.String()
	b.Reset()
	if err := render.StateMachine(&b, r.Events, render.MachineOptions{Left: r.Client, Right: r.Server, Lang: lang, Inline: true, IDPrefix: "sm"}); err != nil {
		return err
	}
	r.Machine = b.String()
	for _, s := range render.Explain(r.Events, lang) {
		r.Steps = append(r.Steps, Step{At: s.At.Seconds(), Host: s.Host, Who: s.Who, ID: s.ID, Text: s.Text})
	}
	r.States = map[string][]At{}
	for _, h := range []string{r.Client, r.Server} {
		r.States[h] = []At{{State: tcp.Closed.String()}}
	}
	first := map[string]bool{}
	for _, e := range r.Events {
		switch e.Kind {
		case trace.StateChanged:
			if _, ok := r.States[e.Host]; !ok {
				continue
			}
			if !first[e.Host] {
				first[e.Host] = true
				r.States[e.Host][0].State = e.From.String()
			}
			r.States[e.Host] = append(r.States[e.Host], At{State: e.To.String(), At: e.At.Seconds()})
		case trace.Note:
			if f, ok := strings.CutPrefix(e.Text, "fault "); ok {
				r.Applied = append(r.Applied, strings.TrimSuffix(f, " applied"))
			}
		}
	}
	segs, err := render.Segments(r.Events, render.TextOptions{Left: r.Client, Right: r.Server, Absolute: absolute})
	if err != nil {
		return err
	}
	selectors, droppedBy := Selectors(r.Events)
	r.RandomLost = 0
	for _, e := range r.Events {
		// Dropped on the way to a host, with no fault to blame and no
		// reason given at the receiver: the link's random loss.
		if e.Kind == trace.SegmentDropped && e.Text == "" && droppedBy[e.ID] == "" && (e.Host == r.Client || e.Host == r.Server) {
			r.RandomLost++
		}
	}
	for _, s := range segs {
		seg := Segment{
			ID: s.ID, From: s.From, To: s.To, Sent: s.Sent.Seconds(), Fate: s.FateWord(), Label: s.Label,
			Kind: s.Kind, Dup: s.Dup, Original: s.Original, Selector: selectors[s.ID], DroppedBy: droppedBy[s.ID],
		}
		if s.Fate != 0 && !s.LostInNetwork {
			seg.Arrived = s.Arrived.Seconds()
		}
		r.Segments = append(r.Segments, seg)
	}
	return nil
}

// Selectors works out, for each segment sent in a trace of the
// simulator, the selector "SIDE:KIND#N" that picks exactly that segment
// when a fault with it is added after the faults that made the trace;
// and, for the segments a fault dropped, which fault.
//
// A fault counts the segments that match its side and kind in the order
// they are sent, but only those that reach it: a segment an earlier fault
// dropped never does. The run up to a segment is the same with one more
// fault added last (the simulator is deterministic and the new fault
// changes nothing before it applies), so counting in this trace counts as
// the next run will. Duplicates are made by the network, not sent, so no
// selector picks them; nor does one pick a segment already dropped.
func Selectors(events []trace.Event) (selectors map[int]string, droppedBy map[int]string) {
	selectors, droppedBy = map[int]string{}, map[int]string{}
	for i, e := range events {
		if e.Kind == trace.SegmentDropped && i > 0 && events[i-1].Kind == trace.Note {
			if f, ok := strings.CutPrefix(events[i-1].Text, "fault drop "); ok {
				droppedBy[e.ID] = "drop " + strings.TrimSuffix(f, " applied")
			}
		}
	}
	type key struct {
		side string
		kind sim.Kind
	}
	counts := map[key]int{}
	for _, e := range events {
		if e.Kind != trace.SegmentSent || droppedBy[e.ID] != "" {
			continue
		}
		for k := sim.KindAny; k <= sim.KindRST; k++ {
			if k.Matches(&e.Segment) {
				counts[key{e.Host, k}]++
			}
		}
		target := kindOf(&e.Segment)
		selectors[e.ID] = fmt.Sprintf("%s:%v#%d", e.Host, target, counts[key{e.Host, target}])
	}
	return selectors, droppedBy
}

// kindOf returns the narrowest selector kind a segment is of, so that
// the count stays small and the selector reads well.
func kindOf(seg *tcp.Segment) sim.Kind {
	f := seg.Flags
	switch {
	case f.Has(wire.FlagRST):
		return sim.KindRST
	case f.Has(wire.FlagSYN | wire.FlagACK):
		return sim.KindSYNACK
	case f.Has(wire.FlagSYN):
		return sim.KindSYN
	case f.Has(wire.FlagFIN):
		return sim.KindFIN
	case len(seg.Payload) > 0:
		return sim.KindData
	case sim.KindACK.Matches(seg):
		return sim.KindACK
	}
	return sim.KindAny
}

// describe says in a line what a custom scenario does, in lang.
func (c *Custom) describe(lang string) string {
	zh := lang == "zh"
	pick := func(en, cn string) string {
		if zh {
			return cn
		}
		return en
	}
	var parts []string
	if c.Open == "both" {
		parts = append(parts, pick("both sides open at once", "双方同时打开"))
	} else {
		parts = append(parts, pick("the client connects", "客户端发起连接"))
	}
	if c.Data > 0 {
		parts = append(parts, fmt.Sprintf(pick("sends %d bytes", "发送 %d 字节"), c.Data))
	}
	if c.Reply > 0 {
		parts = append(parts, fmt.Sprintf(pick("the server replies with %d bytes", "服务器回复 %d 字节"), c.Reply))
	}
	switch c.Close {
	case "", "client":
		parts = append(parts, pick("the client closes first", "客户端先关闭"))
	case "server":
		parts = append(parts, pick("the server closes first", "服务器先关闭"))
	case "both":
		parts = append(parts, pick("both close at once", "双方同时关闭"))
	case "abort":
		parts = append(parts, pick("the client aborts", "客户端中止连接"))
	}
	if c.Loss > 0 {
		parts = append(parts, fmt.Sprintf(pick("%g%% loss", "丢包率 %g%%"), c.Loss))
	}
	return strings.Join(parts, pick(", ", "，"))
}

// runCustom runs a scenario built from the controls: it returns the
// events, why the run did not fall quiet in its time limit if it did
// not, and any bad setting.
func runCustom(c *Custom, seed int64, msl time.Duration, faults []sim.Fault) (events []trace.Event, unfinished, err error) {
	switch c.Open {
	case "", "client", "both":
	default:
		return nil, nil, fieldErr("custom.open", msgWantOpen)
	}
	switch c.Close {
	case "", "client", "server", "both", "abort", "none":
	default:
		return nil, nil, fieldErr("custom.close", msgWantClose)
	}
	if c.Data < 0 || c.Data > maxBytes {
		return nil, nil, fieldErr("custom.data", msgBytes, maxBytes)
	}
	if c.Reply < 0 || c.Reply > maxBytes {
		return nil, nil, fieldErr("custom.reply", msgBytes, maxBytes)
	}
	if c.Loss < 0 || c.Loss > 100 {
		return nil, nil, fieldErr("custom.loss", msgPercentage)
	}
	delay, err := parseDuration("custom.delay", c.Delay, time.Millisecond, 10*time.Millisecond, 0, maxDelay)
	if err != nil {
		return nil, nil, err
	}
	closeAt, err := parseDuration("custom.closeAt", c.CloseAt, time.Millisecond, 200*time.Millisecond, 0, time.Minute)
	if err != nil {
		return nil, nil, err
	}
	cfg := tcp.PlainConfig() // RFC 9293's plain connection, as the scenarios draw it
	cfg.MSL = msl
	n := sim.New(sim.Config{Seed: seed, KeepPackets: true})
	caddr, saddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	client := n.AddHost("client", caddr, cfg)
	server := n.AddHost("server", saddr, cfg)
	n.Link(client, server, sim.LinkConfig{Delay: delay, Loss: c.Loss / 100})
	for _, f := range faults {
		n.AddFault(f)
	}
	// The applications: read everything; the server replies once the
	// client's data is all in; whoever did not close first closes when
	// the other has (the usual passive close).
	got := 0
	replied := false
	reply := func(conn *sim.Conn) {
		if !replied && c.Reply > 0 && got >= c.Data {
			replied = true
			conn.Write(make([]byte, c.Reply))
		}
	}
	var clientConn *sim.Conn
	sent := false
	client.OnEvent(func(conn *sim.Conn, ev tcp.Events) {
		if ev&(tcp.EventReadable|tcp.EventPeerClosed) != 0 {
			conn.ReadAll()
		}
		if ev&tcp.EventEstablished != 0 && !sent && c.Data > 0 {
			sent = true
			conn.Write(make([]byte, c.Data))
		}
		if ev&tcp.EventPeerClosed != 0 && conn.State() == tcp.CloseWait {
			conn.Close()
		}
	})
	server.OnEvent(func(conn *sim.Conn, ev tcp.Events) {
		if ev&(tcp.EventReadable|tcp.EventPeerClosed) != 0 {
			got += len(conn.ReadAll())
		}
		if ev&(tcp.EventEstablished|tcp.EventReadable) != 0 {
			reply(conn)
		}
		if ev&tcp.EventPeerClosed != 0 && conn.State() == tcp.CloseWait {
			conn.Close()
		}
	})
	remoteServer := netip.AddrPortFrom(saddr, serverPort)
	if c.Open == "both" {
		n.At(0, func() {
			clientConn, _ = client.Dial(clientPort, remoteServer)
			server.Dial(serverPort, netip.AddrPortFrom(caddr, clientPort))
		})
	} else {
		server.Listen(serverPort)
		n.At(0, func() { clientConn, _ = client.Dial(clientPort, remoteServer) })
	}
	closeAll := func(h *sim.Host) {
		for _, conn := range h.Conns() {
			conn.Close()
		}
	}
	switch c.Close {
	case "", "client":
		n.At(closeAt, func() { closeAll(client) })
	case "server":
		n.At(closeAt, func() { closeAll(server) })
	case "both":
		n.At(closeAt, func() { closeAll(client); closeAll(server) })
	case "abort":
		n.At(closeAt, func() {
			if clientConn != nil && clientConn.State() != tcp.Closed {
				clientConn.Abort()
			}
		})
	}
	unfinished = n.Run(runLimit)
	return n.Events(), unfinished, nil
}

// runScenario runs a built-in scenario, turning a panic into an error: a
// scenario's script may not expect what a fault did (a connection it
// meant to use never opened), and one such run must not take the server
// down with it.
func runScenario(s scenario.Scenario, opts scenario.Options) (res scenario.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &scriptFailure{scenario: s.Name, panic: p}
		}
	}()
	return s.Run(opts)
}

// scriptFailure is a scenario whose script panicked: the faults did
// something it did not expect.
type scriptFailure struct {
	scenario string
	panic    any
}

func (e *scriptFailure) Error() string {
	return sprint("en", msgScriptFailed, e.scenario, e.panic)
}
