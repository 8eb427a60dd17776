package layers

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/seqack/seqack"

// importsOf returns every package the module's package pkg imports,
// directly or through other packages of the module; packages outside the
// module are listed, not followed. Test files are left out.
func importsOf(t *testing.T, pkg string) map[string]bool {
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
				walk(filepath.Join("..", "..", filepath.FromSlash(rest)))
			}
		}
	}
	walk(filepath.Join("..", "..", filepath.FromSlash(pkg)))
	return seen
}

// Each package imports none of what its layer must not link: the core a
// user imports pulls no renderer, CLI, browser or TUN code, and the
// script runner no kernel target.
func TestLayers(t *testing.T) {
	heavy := []string{
		module + "/trace/render", module + "/lab", module + "/cmd/seqack",
		"github.com/chromedp/chromedp", "golang.org/x/term",
		// Only the adapters link other programs' modules: wireguard-go,
		// and gVisor with it (a module's packages are all matched).
		module + "/adapter", "golang.zx2c4.com/wireguard", "gvisor.dev/gvisor",
	}
	for _, c := range []struct {
		pkg     string
		mustNot []string
		mustToo []string // imports that make the test meaningful
	}{
		{"wire", append([]string{module + "/tcp", module + "/stack"}, heavy...), nil},
		{"tcp", append([]string{module + "/stack", module + "/link"}, heavy...), nil},
		{"link", append([]string{module + "/stack"}, heavy...), nil},
		{"stack", append([]string{module + "/script", module + "/link/tun"}, heavy...), []string{module + "/trace"}},
		{"sim", heavy, []string{module + "/trace"}},
		{"script", []string{module + "/script/linux", module + "/link/tun", module + "/internal/netns", "golang.org/x/sys/unix"}, nil},
	} {
		deps := importsOf(t, c.pkg)
		for _, bad := range c.mustNot {
			for dep := range deps {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("package %s imports %s", c.pkg, dep)
				}
			}
		}
		for _, need := range c.mustToo {
			if !deps[need] {
				t.Errorf("package %s no longer imports %s: is this check still needed?", c.pkg, need)
			}
		}
	}
}
