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
//	seqack script FILE...          run packetdrill scripts against seqack's engine
//	seqack help                    this text
//
// Run "seqack scenario --help" for the flags, including the fault
// selector syntax.
package main

import (
	"fmt"
	"io"
	"os"
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
	case "script":
		return runScript(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "seqack: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
