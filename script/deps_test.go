package script

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

// The runner links no TUN device, namespace or system call code: the
// Linux target, which needs them, is package script/linux.
func TestRunnerImportsNoLinuxTarget(t *testing.T) {
	deps := importsOf(t, "..", "github.com/seqack/seqack", ".")
	for _, bad := range []string{
		"github.com/seqack/seqack/script/linux",
		"github.com/seqack/seqack/link/tun",
		"github.com/seqack/seqack/internal/netns",
		"golang.org/x/sys/unix",
	} {
		if deps[bad] {
			t.Errorf("package script imports %s", bad)
		}
	}
}
