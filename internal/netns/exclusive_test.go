package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and
// ends the goroutine, as a failing test's would.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// holdLock takes the lock at path through a file of its own, as another
// process would, and returns that file.
func holdLock(t *testing.T, path, pid string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	f.Truncate(0) // a shorter pid must not leave digits of a longer one
	f.WriteAt([]byte(pid), 0)
	return f
}

// The lock waits for its holder, gives up after its wait with the
// holder's pid, and refuses to wait for its own process.
func TestExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), LockFile)

	t.Run("waits for the holder", func(t *testing.T) {
		other := holdLock(t, path, "4242")
		go func() {
			time.Sleep(300 * time.Millisecond)
			other.Truncate(0)
			other.Close() // releases the lock
		}()
		start := time.Now()
		lockFor(t, path, time.Minute)
		if waited := time.Since(start); waited < 250*time.Millisecond {
			t.Errorf("took the lock after %v, while another held it for 300ms", waited)
		}
	})

	for _, c := range []struct {
		name, holder, want string
	}{
		{"another process too long", "4242", "still held by process 4242 after 100ms"},
		{"this process again", strconv.Itoa(os.Getpid()), "held by this process already"},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := holdLock(t, path, c.holder)
			defer other.Close()
			r := &fatalRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				lockFor(r, path, 100*time.Millisecond)
			}()
			<-done
			if !strings.Contains(r.msg, c.want) {
				t.Errorf("lockFor failed with %q, want %q", r.msg, c.want)
			}
		})
	}
}
