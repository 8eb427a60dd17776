package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/seqack/seqack/trace/render"
)

const traceUsage = `Usage: seqack trace [flags] FILE.pcap

Draws one TCP connection of a capture (tcpdump, Wireshark, or seqack's own
pcap output) as a sequence diagram. A capture is taken at one point, so a
segment is drawn as sent and received at the moment it was captured, and
the states are not shown: they are inside the hosts, not on the wire.

Flags (before or after FILE):
  --conn N          draw the N-th connection of the capture (default: the
                    first that starts with a SYN, else the first)
  --list            list the capture's connections
  --format FORMAT   text, svg, mermaid or html (default text)
  --out FILE        write the drawing to FILE instead of standard output
  --lang LANG       language of the explanations and the svg/html words: en or zh
  --absolute        absolute sequence numbers instead of relative ones
  --window          show advertised windows
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
		draw = addDrawFlags(fs)
	)
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, traceUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n\n%s", err, traceUsage)
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
	f, err := os.Open(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	defer f.Close()
	capture, err := render.ReadPcap(f)
	if err != nil {
		fmt.Fprintf(stderr, "seqack trace: %s: %v\n", files[0], err)
		return exitError
	}
	conns, skipped := capture.Conns, capture.Skipped
	if len(conns) == 0 {
		fmt.Fprintf(stderr, "seqack trace: %s: no TCP packets (%d others skipped)\n", files[0], skipped)
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
	default:
		pick = capture.Main()
	}
	c := conns[pick]
	left, right := c.First.String(), c.Second.String()
	title := fmt.Sprintf("%s — connection %d of %d: %s ↔ %s, %d packets", files[0], pick+1, len(conns), left, right, c.Packets)
	if err := draw.draw(stdout, c.Events, left, right, title, false); err != nil {
		fmt.Fprintf(stderr, "seqack trace: %v\n", err)
		return exitError
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "seqack trace: %d packets that are not TCP over IP were skipped\n", skipped)
	}
	return exitOK
}
