package stack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's way of using seqack from another module, while it is not
// published, works: its commands, run in a new module beside a copy of
// this one, give a program that builds and runs over the stack. Both
// ways (a workspace; require and replace) are run, offline.
func TestUseFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```sh\n(go work init [^\n]*\n.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("the README shows no go work init")
	}
	var workspace, replace [][]string
	for _, line := range strings.Split(string(block[1]), "\n") {
		line, _, _ = strings.Cut(line, "#")
		args := strings.Fields(line)
		switch {
		case len(args) < 2 || args[0] != "go":
		case args[1] == "work":
			workspace = append(workspace, args[1:])
		default:
			replace = append(replace, args[1:])
		}
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, way := range []struct {
		name string
		cmds [][]string
	}{{"workspace", workspace}, {"replace", replace}} {
		t.Run(way.name, func(t *testing.T) {
			if len(way.cmds) == 0 {
				t.Fatal("no commands in the README")
			}
			// The clone is a link to this repository, at ../seqack as the
			// README has it.
			dir := t.TempDir()
			mod := filepath.Join(dir, "mine")
			if err := os.Symlink(repo, filepath.Join(dir, "seqack")); err != nil {
				t.Fatal(err)
			}
			os.Mkdir(mod, 0o755)
			os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/mine\n\ngo 1.26\n"), 0o644)
			os.WriteFile(filepath.Join(mod, "main.go"), []byte(userProgram), 0o644)
			run := func(args ...string) string {
				cmd := exec.Command(goTool, args...)
				cmd.Dir = mod
				// Offline: what seqack needs is in the module cache.
				cmd.Env = append(os.Environ(), "GOPROXY=off", "GOSUMDB=off", "GOWORK=", "GOFLAGS=")
				if way.name == "replace" {
					cmd.Env = append(cmd.Env, "GOWORK=off")
				}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			for _, c := range way.cmds {
				run(c...)
			}
			if out := run("run", "."); out != "hello\n" {
				t.Errorf("the program said %q", out)
			}
		})
	}
}

// userProgram is a program of another module using the stack.
const userProgram = `package main

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

func main() {
	a, b := pipe.New(1500)
	server, client := stack.New(stack.Options{}), stack.New(stack.Options{})
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	ln, _ := server.Listen("tcp", ":80")
	go func() { c, _ := ln.Accept(); c.Write([]byte("hello\n")); c.Close() }()
	c, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		panic(err)
	}
	b2, _ := io.ReadAll(c)
	fmt.Print(string(b2))
}
`
