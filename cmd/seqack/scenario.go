package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/trace"
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
  --width N         diagram width in columns (default 100)
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
		faults   []sim.Fault
		seed     = fs.Int64("seed", 1, "")
		msl      = fs.Duration("msl", 30*time.Second, "")
		absolute = fs.Bool("absolute", false, "")
		window   = fs.Bool("window", false, "")
		ascii    = fs.Bool("ascii", false, "")
		width    = fs.Int("width", 100, "")
		list     = fs.Bool("list", false, "")
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
		fmt.Fprintf(stderr, "seqack scenario: %v\n\n%s", err, scenarioUsage)
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
	res, err := s.Run(scenario.Options{Seed: *seed, MSL: *msl, Faults: faults})
	if err != nil {
		fmt.Fprintf(stderr, "seqack scenario: %v\n", err)
		return exitError
	}
	title := fmt.Sprintf("%s — %s", s.Name, s.Summary)
	if len(faults) > 0 {
		var fl []string
		for _, f := range faults {
			fl = append(fl, f.String())
		}
		title += "\nfaults: " + strings.Join(fl, ", ")
	}
	err = trace.RenderText(stdout, res.Events, trace.TextOptions{
		Left: res.Client, Right: res.Server, Absolute: *absolute || s.Absolute,
		Window: *window, ASCII: *ascii, Width: *width, Title: title,
	})
	if err != nil {
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
