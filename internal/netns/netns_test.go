package netns_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/seqack/seqack/internal/netns"
)

// netnsID returns the identity of the calling thread's network
// namespace ("net:[4026531840]").
func netnsID(t *testing.T) string {
	t.Helper()
	id, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Do runs its function in the namespace, and what it creates there stays
// there; the namespace is gone after the test.
func TestNamespace(t *testing.T) {
	netns.Require(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		ns := netns.New(t)
		name = ns.Name
		if !strings.HasPrefix(name, "seqack-TestNamespace-inner-") {
			t.Errorf("name %q", name)
		}
		outside := netnsID(t)
		var inside string
		var ln net.Listener
		err := ns.Do(func() (err error) {
			inside = netnsID(t)
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if inside == outside {
			t.Errorf("Do ran in the test's own namespace %s", inside)
		}
		if netnsID(t) != outside {
			t.Error("the namespace leaked to the calling thread")
		}
		// The listener is in the namespace: ss there shows it.
		port := ln.Addr().(*net.TCPAddr).Port
		if out := ns.Run(t, "ss", "-Htln"); !strings.Contains(out, "127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("ss in the namespace does not show port %d:\n%s", port, out)
		}
		if _, err := ns.Output("false"); err == nil || !strings.Contains(err.Error(), ns.Name) {
			t.Errorf("Output of a failing command: %v", err)
		}
	})
	if _, err := os.Stat("/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("namespace %s still exists after its test: %v", name, err)
	}
}
