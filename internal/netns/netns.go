// Package netns gives tests a Linux network namespace of their own, so
// that they can put a TUN device, addresses and kernel tools (curl, socat,
// ping, ss) together without touching the machine's own network: every
// packet stays inside the namespace, and the namespace and all it holds
// are deleted when the test ends, even when it fails.
//
// A test binary killed by its timeout runs no cleanup; New deletes the
// namespaces left by such processes (their pid is in the name) before it
// makes a new one.
//
// Creating a namespace needs root and ip(8). A test calls Require first:
// it skips without them, unless the environment variable
// SEQACK_REQUIRE_NETNS is 1 (as in CI), where a skip would hide a test
// that must run, and so fails instead.
package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// RequireEnv is the environment variable that, set to 1, turns a skip
// for want of root or a tool into a failure.
const RequireEnv = "SEQACK_REQUIRE_NETNS"

// Required reports whether tests must not skip for want of root, a
// network namespace or a tool (RequireEnv is 1).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Skip skips the test with the message, or fails it when Required.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (%s=1: not skipping)", msg, RequireEnv)
	}
	t.Skip(msg)
}

// Require skips the test (see Skip) unless it runs as root with ip(8)
// and every tool named in tools on the PATH.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Skip(t, "network namespaces need Linux")
		return
	}
	if os.Geteuid() != 0 {
		Skip(t, "needs root for network namespaces and TUN devices (run the tests as root; with %s=1, as CI sets it, this skip is a failure)", RequireEnv)
		return
	}
	RequireTools(t, append([]string{"ip"}, tools...)...)
}

// RequireTools skips the test (see Skip) unless every tool is on the
// PATH.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			Skip(t, "needs %s on the PATH (see .ci/packages): %v", tool, err)
			return
		}
	}
}

// NS is a network namespace made for one test.
type NS struct {
	// Name is the namespace's name, as `ip netns` knows it.
	Name string
}

// New creates a namespace with a name unique to this process and test,
// brings its loopback up, and deletes it when the test ends. Call Require
// first.
func New(t testing.TB) *NS {
	t.Helper()
	var r [4]byte
	rand.Read(r[:])
	// Namespace names are file names under /run/netns; the test's own
	// name helps to find a leftover, the pid and random bits keep
	// parallel tests and processes apart.
	base := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '-'
	}, t.Name())
	if len(base) > 40 {
		base = base[:40]
	}
	removeStale()
	ns := &NS{Name: fmt.Sprintf("%s%s-%d-%s", prefix, base, os.Getpid(), hex.EncodeToString(r[:]))}
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", ns.Name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns.Name, err, out)
		}
	})
	ns.Run(t, "ip", "link", "set", "lo", "up")
	return ns
}

// prefix starts the name of every namespace New makes.
const prefix = "seqack-"

// removeStale deletes the namespaces that New made in processes that are
// gone: a test binary killed by its timeout runs no cleanup. The pid is
// the second-to-last part of the name.
func removeStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		parts := strings.Split(name, "-")
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil || pid <= 0 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
}

// Command returns a command that runs name with args inside the
// namespace (with `ip netns exec`).
func (ns *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Run runs a command inside the namespace, fails the test if it fails,
// and returns its standard output. It gives up after a minute.
func (ns *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := ns.Output(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Output runs a command inside the namespace and returns its standard
// output; the error, if any, includes its standard error. It gives up
// after a minute.
func (ns *NS) Output(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := ns.Command(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("in %s: %s %s: %w\n%s", ns.Name, name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.String(), nil
}

// Do runs f on an OS thread that has entered the namespace, and returns
// its error. What f creates there stays in the namespace: a TUN device,
// and the sockets of package net (a socket belongs to the namespace it
// was created in, whichever thread uses it later).
func (ns *NS) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The goroutine keeps its thread to itself while the thread is
		// in the namespace. If the thread cannot be switched back it is
		// left locked, so that the runtime ends it with the goroutine
		// rather than reusing it.
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns.Name))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: enter %s: %w", ns.Name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("netns: leave %s: %w", ns.Name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
