package stack_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every line of the README's Go snippets is a line of an example, so
// that the snippets compile and run (go test ./stack ./sim): a snippet
// changed without its example, or an example without its snippet, fails
// here. Spacing is compared loosely, as gofmt aligns comments, and a
// comma ending a line (the example's list) is left out.
func TestREADMESnippetsAreExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples strings.Builder
	for _, f := range []string{"example_test.go", "../sim/example_test.go", "../adapter/wgnet/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples.Write(b)
	}
	space, comma := regexp.MustCompile(`\s+`), regexp.MustCompile(`,( //|$)`)
	normal := func(s string) string {
		return comma.ReplaceAllString(space.ReplaceAllString(strings.TrimSpace(s), " "), "$1")
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(examples.String(), "\n") {
		lines[normal(l)] = true
	}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(snippets) == 0 {
		t.Fatal("no Go snippets in the README")
	}
	for _, m := range snippets {
		for _, l := range strings.Split(m[1], "\n") {
			if l = normal(l); l != "" && !lines[l] {
				t.Errorf("README line %q is in no example", l)
			}
		}
	}
}
