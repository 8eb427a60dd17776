package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

const traceUsage = `Usage: seqack trace [flags] FILE

Draws one TCP connection of a capture — pcap or pcapng, as tcpdump,
Wireshark, tshark, dumpcap or seqack write them — as a sequence diagram.
A capture is taken at one point, so a segment is drawn as sent and
received at the moment it was captured, and each side's states are
inferred from the segments and marked "(inferred)"; a capture that began
after the handshake starts both sides in "ESTABLISHED (capture began
mid-connection)". Times are to the microsecond. A capture cut short is
drawn up to where it ends, with a warning that says where.

Flags (before or after FILE):
  --conn N          draw the N-th connection of the capture (default: the
                    first that starts with a SYN, else the first)
  --list            list the capture's connections
  --format FORMAT   text, svg, mermaid, html or pcap (default text)
  --out FILE        write the drawing to FILE instead of standard output
  --lang LANG       language of the explanations and the svg/html words: en or zh
  --absolute        absolute sequence numbers instead of relative ones
  --window          show advertised windows, scaled when the capture holds
                    the handshake's window scale options (as Wireshark does)
  --no-ts           leave the timestamps option (TS val/ecr) out of the labels
  --ascii           draw with ASCII only
  --width N         diagram width in columns (default: the terminal's, else 100)
  --color WHEN      auto, always or never (default auto)
  --explain         after a text diagram, say why each step happened
`

func runTrace(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		conn = fs.Int("conn", 0, "")
		list = fs.Bool("list", false, "")
		noTS = fs.Bool("no-ts", false, "")
		draw = addDrawFlags(fs)
	)
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, traceUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack trace", args, err))
		return exitUsage
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "seqack trace: want one capture file, got %d\n\n%s", len(files), traceUsage)
		return exitUsage
	}
	if err := draw.check(); err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitUsage
	}
	name := files[0]
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	defer f.Close()
	// The first reading lists the connections and keeps the packets of
	// none (or of the one --conn names); the second, if needed, keeps
	// the packets of the one to draw. Memory grows with the number of
	// connections and the size of the one drawn, not the file's.
	keep := func(int) bool { return false }
	_, seekErr := f.Seek(0, io.SeekCurrent)
	switch {
	case *conn > 0 && !*list:
		keep = func(i int) bool { return i == *conn-1 }
	case seekErr != nil && !*list:
		keep = nil // a pipe is read once: keep every connection's packets
	}
	capture, err := render.ReadCapture(f, render.ReadOptions{Keep: keep})
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %s: %v\n", name, err)
		return exitError
	}
	if capture.Cut != nil {
		fmt.Fprintf(stderr, "seqack trace: warning: %s: %v; drawn up to there\n", name, capture.Cut)
	}
	conns, skipped := capture.Conns, capture.Skipped
	if len(conns) == 0 {
		fmt.Fprintf(stderr, "seqack trace: %s: no TCP packets (%d others skipped)\n", name, skipped)
		return exitError
	}
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		for i, c := range conns {
			syn := ""
			if c.HasSYN {
				syn = "from its SYN"
			}
			fmt.Fprintf(tw, "%d\t%v ↔ %v\t%d packets\t%s\n", i+1, c.First, c.Second, c.Packets, syn)
		}
		tw.Flush()
		return exitOK
	}
	var pick int
	switch {
	case *conn > 0 && *conn <= len(conns):
		pick = *conn - 1
	case *conn != 0:
		fmt.Fprintf(stderr, "seqack trace: --conn %d: the capture has %d connections (--list lists them)\n", *conn, len(conns))
		return exitUsage
	case keep == nil:
		pick = capture.Main()
	default:
		pick = capture.Main()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			fmt.Fprintf(stderr, "seqack trace: %s: %v\n", name, err)
			return exitError
		}
		if capture, err = render.ReadCapture(f, render.ReadOptions{Keep: func(i int) bool { return i == pick }}); err != nil {
			fmt.Fprintf(stderr, "seqack trace: %s: %v\n", name, err)
			return exitError
		}
	}
	c := capture.Conns[pick]
	events := c.Events
	if *noTS {
		events = withoutTimestamps(events)
	}
	if *draw.window && !c.Handshake && len(events) > 0 {
		// Without both SYNs the window scale is unknown (RFC 7323 §2.2).
		events = append([]trace.Event{{At: events[0].At, Kind: trace.Note,
			Text: "the capture does not hold the handshake: windows are shown as on the wire, not scaled"}}, events...)
	}
	draw.micro = capture.Resolution <= time.Microsecond
	left, right := c.First.String(), c.Second.String()
	title := fmt.Sprintf("%s — connection %d of %d: %s ↔ %s, %d packets", name, pick+1, len(conns), left, right, c.Packets)
	if err := draw.draw(stdout, events, left, right, title, false); err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "seqack trace: %d packets that are not TCP over IP were skipped\n", skipped)
	}
	return exitOK
}

// withoutTimestamps returns events with the timestamps option taken off
// every segment, for labels without "TS val ... ecr ...".
func withoutTimestamps(events []trace.Event) []trace.Event {
	out := make([]trace.Event, len(events))
	for i, e := range events {
		e.Segment.Options.HasTimestamps = false
		out[i] = e
	}
	return out
}
