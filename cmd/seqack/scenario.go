package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

const scenarioUsage = `Usage: seqack scenario NAME [flags]
       seqack scenario --list

Runs a built-in scenario in the deterministic simulator (client 10.0.0.1,
server 10.0.0.2 port 80, 10 ms each way) and draws it as a sequence diagram.

Flags (before or after NAME):
  --drop SEL        drop the segments SEL selects (repeatable)
  --delay SEL=DUR   delay them by DUR, e.g. client:ack@TIME_WAIT=5s (repeatable)
  --dup SEL         duplicate them (repeatable)
  --corrupt SEL     corrupt them; the receiver discards them (repeatable)
  --seed N          seed for random choices such as initial sequence numbers (default 1)
  --msl DURATION    maximum segment lifetime; TIME_WAIT lasts 2×MSL (default 30s)
  --absolute        absolute sequence numbers instead of relative ones
  --window          show advertised windows
  --ascii           draw with ASCII only
  --width N         diagram width in columns (default: the terminal's, else 100)
  --color WHEN      colour the text diagram: auto (on a terminal, unless NO_COLOR
                    is set), always or never (default auto)
  --format FORMAT   text, svg, mermaid, html or pcap (default text); html is one
                    self-contained page: diagram, states, segments, explanations;
                    pcap is the packets for Wireshark (write it with --out)
  --out FILE        write the drawing to FILE instead of standard output
  --lang LANG       language of the title, the explanations and the diagram's
                    words: en or zh
  --explain         after a text diagram, say why each step happened
  --list            list the scenarios

A selector SEL is [SIDE:]KIND[@STATE][#COUNT]:
  SIDE   client or server (default: either)
  KIND   any, syn, syn-ack, ack (a bare ACK), data, fin, rst
  STATE  the sender's state just after sending, e.g. TIME_WAIT
  COUNT  N, N-M, N+ or * among the matching segments (default 1)
Examples: server:fin   client:any#3   syn-ack#1-2   client:ack@TIME_WAIT
`

// faultFlag collects repeated fault flags of one action.
type faultFlag struct {
	action string
	faults *[]sim.Fault
}

func (f faultFlag) String() string { return "" }

func (f faultFlag) Set(text string) error {
	fault, err := sim.ParseFault(f.action, text)
	if err != nil {
		return err
	}
	*f.faults = append(*f.faults, fault)
	return nil
}

func runScenario(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack scenario", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		faults []sim.Fault
		seed   = fs.Int64("seed", 1, "")
		msl    = fs.Duration("msl", 30*time.Second, "")
		list   = fs.Bool("list", false, "")
		draw   = addDrawFlags(fs)
	)
	for _, action := range []string{"drop", "delay", "dup", "corrupt"} {
		fs.Var(faultFlag{action, &faults}, action, "")
	}
	names, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, scenarioUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack scenario", args, err))
		return exitUsage
	}
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for _, s := range scenario.All() {
			fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Summary)
		}
		tw.Flush()
		return exitOK
	}
	if len(names) != 1 {
		fmt.Fprintf(stderr, "seqack scenario: want one scenario name, got %d\nScenarios: %s\n", len(names), strings.Join(scenario.Names(), ", "))
		return exitUsage
	}
	s, ok := scenario.Lookup(names[0])
	if !ok {
		fmt.Fprintf(stderr, "seqack scenario: unknown scenario %q\nScenarios: %s\n", names[0], strings.Join(scenario.Names(), ", "))
		return exitUsage
	}
	if *msl <= 0 {
		fmt.Fprintf(stderr, "seqack scenario: --msl %v: must be positive\n", *msl)
		return exitUsage
	}
	err = draw.check()
	if err == nil {
		err = draw.checkOutput(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack scenario: %v\n", err)
		return exitUsage
	}
	res, err := s.Run(scenario.Options{Seed: *seed, MSL: *msl, Faults: faults, KeepPackets: *draw.format == "pcap"})
	if err != nil {
		fmt.Fprintf(stderr, "seqack scenario: %v\n", err)
		return exitError
	}
	title := fmt.Sprintf("%s — %s", s.Name, s.Describe(*draw.lang))
	if len(faults) > 0 {
		var fl []string
		for _, f := range faults {
			fl = append(fl, f.String())
		}
		label := "faults: "
		if *draw.lang == "zh" {
			label = "故障："
		}
		title += "\n" + label + strings.Join(fl, ", ")
	}
	if err := draw.draw(stdout, res.Events, res.Client, res.Server, title, s.Absolute); err != nil {
		fmt.Fprintf(stderr, "seqack scenario: %v\n", err)
		return exitError
	}
	if res.Err != nil {
		fmt.Fprintf(stderr, "seqack scenario: %v\n", res.Err)
		return exitError
	}
	return exitOK
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// isTerminal reports whether w is a terminal (a nil w is not): colour
// and the terminal's width apply only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth returns the width of the terminal w is, or def when it
// is none.
func terminalWidth(w io.Writer, def int) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return def
}

// drawFlags are the flags of the commands that draw a trace (scenario,
// trace): its format, where it goes and how it looks.
type drawFlags struct {
	absolute, window, ascii, explain *bool
	width                            *int
	color, format, out, lang         *string
	// micro writes a text diagram's times to the microsecond.
	micro bool
}

func addDrawFlags(fs *flag.FlagSet) *drawFlags {
	return &drawFlags{
		absolute: fs.Bool("absolute", false, ""),
		window:   fs.Bool("window", false, ""),
		ascii:    fs.Bool("ascii", false, ""),
		explain:  fs.Bool("explain", false, ""),
		width:    fs.Int("width", 0, ""),
		color:    fs.String("color", "auto", ""),
		format:   fs.String("format", "text", ""),
		out:      fs.String("out", "", ""),
		lang:     fs.String("lang", "en", ""),
	}
}

// errBinaryToTerminal is returned for pcap output to a terminal: the
// bytes would garble it.
var errBinaryToTerminal = errors.New("--format pcap is binary and standard output is a terminal: write it with --out FILE, or redirect it (> run.pcap)")

// checkOutput reports a drawing that must not go to stdout, where it
// goes without --out.
func (d *drawFlags) checkOutput(stdout io.Writer) error {
	if *d.format == "pcap" && *d.out == "" && isTerminal(stdout) {
		return errBinaryToTerminal
	}
	return nil
}

// check reports a bad combination of drawing flags.
func (d *drawFlags) check() error {
	switch *d.format {
	case "text", "svg", "mermaid", "html", "pcap":
	default:
		return fmt.Errorf("--format %q: want text, svg, mermaid, html or pcap", *d.format)
	}
	if *d.lang != "en" && *d.lang != "zh" {
		return fmt.Errorf("--lang %q: want en or zh", *d.lang)
	}
	if *d.color != "auto" && *d.color != "always" && *d.color != "never" {
		return fmt.Errorf("--color %q: want auto, always or never", *d.color)
	}
	if *d.width < 0 {
		return fmt.Errorf("--width %d: must be positive", *d.width)
	}
	return nil
}

// draw renders events in the chosen format to --out or stdout. It
// renders into memory first, so that a failed render leaves no
// half-written file behind.
func (d *drawFlags) draw(stdout io.Writer, events []trace.Event, left, right, title string, absolute bool) error {
	var doc bytes.Buffer
	var err error
	abs := *d.absolute || absolute
	switch *d.format {
	case "text":
		var dest io.Writer = stdout
		if *d.out != "" {
			dest = nil
		}
		tty := isTerminal(dest)
		w := *d.width
		if w == 0 {
			w = terminalWidth(dest, 100)
		}
		err = render.Text(&doc, events, render.TextOptions{
			Left: left, Right: right, Absolute: abs,
			Window: *d.window, ASCII: *d.ascii, Width: w, Title: title, Microseconds: d.micro,
			Color: *d.color == "always" || (*d.color == "auto" && tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"),
			Lang:  *d.lang,
		})
		if err == nil && *d.explain {
			writeExplanation(&doc, events, *d.lang)
		}
	case "svg":
		err = render.SVG(&doc, events, render.SVGOptions{Left: left, Right: right, Absolute: abs, Window: *d.window, Title: title, Lang: *d.lang})
	case "mermaid":
		err = render.Mermaid(&doc, events, render.MermaidOptions{Left: left, Right: right, Absolute: abs, Window: *d.window, Title: title})
	case "html":
		err = render.HTML(&doc, events, render.HTMLOptions{Left: left, Right: right, Absolute: abs, Window: *d.window, Title: title, Lang: *d.lang})
	case "pcap":
		err = render.Pcap(&doc, events)
	}
	if err != nil {
		return err
	}
	if *d.out != "" {
		return os.WriteFile(*d.out, doc.Bytes(), 0o644)
	}
	_, err = stdout.Write(doc.Bytes())
	return err
}

// writeExplanation writes the numbered steps of Explain. Each sentence
// names its host, so no column repeats it; hosts known by their
// addresses (a capture's) are named by role, and a line before the
// steps says which address is which, apart from the sentences.
func writeExplanation(w io.Writer, events []trace.Event, lang string) {
	fmt.Fprintln(w)
	if roles := render.Roles(events); roles != nil {
		var client, server string
		for addr, role := range roles {
			if role == "client" {
				client = addr
			} else {
				server = addr
			}
		}
		names := [2]string{"client", "server"}
		if lang == "zh" {
			names = [2]string{"客户端", "服务器"}
		}
		fmt.Fprintf(w, "%s = %s, %s = %s\n\n", names[0], client, names[1], server)
	}
	for i, st := range render.Explain(events, lang) {
		fmt.Fprintf(w, "%3d. %8.3f  %s\n", i+1, st.At.Seconds(), st.Text)
	}
}
