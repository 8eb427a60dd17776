// Command seqack is the command-line face of seqack, a userspace TCP/IP
// stack in Go.
//
// Usage:
//
//	seqack scenario NAME [flags]   run a built-in scenario and draw it
//	seqack scenario --list         list the scenarios
//	seqack bench [flags]           measure seqack against the kernel
//	seqack lab [--listen ADDR]     serve the lab: click an arrow to lose it
//	seqack trace FILE.pcap         draw a connection of a capture
//	seqack listen [flags] PORT     netcat on seqack over a TUN device: accept one connection
//	seqack dial [flags] HOST:PORT  netcat on seqack over a TUN device: connect
//	seqack http [flags] [:PORT]    serve files over HTTP on seqack over a TUN device
//	seqack forward [flags]         a transparent proxy: relay every flow on a TUN device to the host
//	seqack script FILE...          run packetdrill scripts against seqack's engine
//	seqack help                    this text
//
// Run "seqack scenario --help" for the flags, including the fault
// selector syntax.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line was wrong
)

const usage = `seqack — a userspace TCP/IP stack, and a lab that draws every connection.

Usage:
  seqack scenario NAME [flags]   run a built-in scenario in the simulator and draw it
  seqack scenario --list         list the scenarios, one line each
  seqack bench [flags]           measure seqack against the kernel's TCP, side by side
  seqack lab [--listen ADDR]     serve the lab page: build a scenario, click an arrow to lose it
  seqack trace FILE.pcap         draw a TCP connection of a capture as a sequence diagram
  seqack listen [flags] PORT     netcat on seqack over a TUN device: accept one connection
  seqack dial [flags] HOST:PORT  netcat on seqack over a TUN device: connect
  seqack http [flags] [:PORT]    serve files over HTTP on seqack over a TUN device
  seqack forward [flags]         a transparent proxy: relay every flow on a TUN device to the host
  seqack script FILE...          run packetdrill scripts against seqack's engine (exit 3: all skipped)
  seqack help                    show this text

Run "seqack scenario --help" for the scenario flags.
`

// run is main without the process: it takes the arguments after the
// program name and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "scenario":
		return runScenario(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "lab":
		return runLab(args[1:], stdout, stderr)
	case "trace":
		return runTrace(args[1:], stdout, stderr)
	case "listen":
		return runListen(args[1:], os.Stdin, stdout, stderr)
	case "dial":
		return runDial(args[1:], os.Stdin, stdout, stderr)
	case "http":
		return runHTTP(args[1:], stdout, stderr)
	case "forward":
		return runForward(args[1:], stdout, stderr)
	case "script":
		return runScript(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "seqack: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// flagError turns an error of package flag into one line for the user of
// command cmd ("seqack scenario"): it names the flag as it was written
// in args ("--drop", not flag's "-drop"), says what was wrong with it,
// and points to --help instead of printing the whole usage.
func flagError(cmd string, args []string, err error) string {
	msg := err.Error()
	var name, rest string
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: "):
		name = strings.TrimPrefix(msg, "flag provided but not defined: -")
		rest = "is not a flag of " + cmd
	case strings.HasPrefix(msg, "flag needs an argument: "):
		name = strings.TrimPrefix(msg, "flag needs an argument: -")
		rest = "needs a value"
	case strings.HasPrefix(msg, "invalid value ") || strings.HasPrefix(msg, "invalid boolean value "):
		// invalid value "x" for flag -name: why
		head, why, _ := strings.Cut(msg, ": ")
		i := strings.LastIndex(head, " for flag -")
		if i < 0 {
			break
		}
		name = head[i+len(" for flag -"):]
		value := strings.TrimPrefix(strings.TrimPrefix(head[:i], "invalid boolean value "), "invalid value ")
		var ne interface{ Unwrap() error }
		if errors.As(err, &ne) {
			why = ne.Unwrap().Error()
		}
		if why == "parse error" || why == "value out of range" {
			why = "not a valid value" // flag's own words say nothing of this flag
		}
		rest = value + ": " + strings.TrimPrefix(why, "sim: ")
	}
	if name == "" {
		return fmt.Sprintf("%s: %s (%s --help lists the flags)", cmd, msg, cmd)
	}
	return fmt.Sprintf("%s: %s %s (%s --help lists the flags)", cmd, spelled(args, name), rest, cmd)
}

// spelled returns flag name as the user wrote it in args: "--name" or
// "-name" (package flag takes both), "--name" if it is not there.
func spelled(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		for _, dashes := range []string{"--", "-"} {
			if a == dashes+name || strings.HasPrefix(a, dashes+name+"=") {
				return dashes + name
			}
		}
	}
	return "--" + name
}
