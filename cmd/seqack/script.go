package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/seqack/seqack/script"
	"github.com/seqack/seqack/script/linux"
)

const scriptUsage = `Usage: seqack script [--target seqack] [-v] FILE...

Runs packetdrill scripts. The target "seqack" runs each script against
seqack's TCP engine through a small socket layer, in virtual time: a
script with multi-second timers takes no time and runs the same way every
time. Injected ("<") and expected (">") segments use numbers relative to
each side's ISN, as packetdrill's do.

A script that uses what the runner cannot do (inline Python %{ }%, shell
commands, tcp_info, options seqack lacks) is skipped and says why; it is
never counted as passed.

The target "linux" runs each script against the Linux kernel, as
packetdrill does, in real time: in a network namespace of its own (made
and deleted for each script; root needed), with a TUN device whose kernel
side is 192.168.0.1/24 and the script's side 192.0.2.1 (port 48000); a
bound socket has port 8080. Without root its scripts are skipped.

Flags:
  --target NAME   seqack (default) or linux
  -v              also print passing scripts, ignored options, and what the
                  target did (each segment and call, at its virtual time,
                  or its real time for linux)

Exit status: 0 every script passed; 1 a script failed; 2 usage error;
3 nothing failed but every script was skipped (or the target is not
available).
`

// exitSkipped is seqack script's status when every script was skipped.
const exitSkipped = 3

func runScript(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("script", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	target := fs.String("target", "seqack", "")
	verbose := fs.Bool("v", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, scriptUsage)
			return exitOK
		}
		fmt.Fprintln(stderr, flagError("seqack script", args, err))
		return exitUsage
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintf(stderr, "seqack script: want at least one script\n\n%s", scriptUsage)
		return exitUsage
	}
	var runner script.Target
	switch *target {
	case "seqack":
		runner = script.Engine
	case "linux":
		runner = linux.Run
	default:
		fmt.Fprintf(stderr, "seqack script: unknown target %q (want seqack or linux)\n", *target)
		return exitUsage
	}
	var passed, failed, skipped int
	for _, f := range files {
		r := script.RunFile(f, runner)
		if *verbose {
			for _, n := range r.Notes {
				fmt.Fprintln(stdout, n)
			}
		}
		if *verbose {
			for _, l := range r.Trace {
				fmt.Fprintln(stdout, "  "+l)
			}
		}
		switch r.Status {
		case script.Passed:
			passed++
			if *verbose {
				fmt.Fprintf(stdout, "PASS %s\n", f)
			}
		case script.Failed:
			failed++
			fmt.Fprintln(stderr, r.Err)
			fmt.Fprintf(stdout, "FAIL %s\n", f)
		case script.Skipped:
			skipped++
			for _, u := range r.Unsupported {
				fmt.Fprintln(stdout, u)
			}
			fmt.Fprintf(stdout, "SKIP %s\n", f)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	switch {
	case failed > 0:
		return exitError
	case passed == 0:
		return exitSkipped
	}
	return exitOK
}
