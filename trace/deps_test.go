package trace_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// importsOf returns every package the package in dir imports, directly
// or through other packages of this module (whose directories are found
// from root, the module's root, and module, its path); packages outside
// the module are listed, not followed. Test files are left out.
func importsOf(t *testing.T, root, module, dir string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
				walk(filepath.Join(root, filepath.FromSlash(rest)))
			}
		}
	}
	walk(dir)
	return seen
}

// The packages that feed the record, stack and sim, import it and not
// the renderers: a program on the stack links no drawing or narration
// code.
func TestFeedersImportOnlyTheRecord(t *testing.T) {
	const module = "github.com/seqack/seqack"
	for _, pkg := range []string{"stack", "sim"} {
		deps := importsOf(t, "..", module, filepath.Join("..", pkg))
		if !deps[module+"/trace"] {
			t.Errorf("%s does not import trace: is this test still needed?", pkg)
		}
		if deps[module+"/trace/render"] {
			t.Errorf("%s imports trace/render", pkg)
		}
	}
}
