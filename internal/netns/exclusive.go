package netns

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// LockFile is the name, under os.TempDir(), of the file whose flock(2)
// Exclusive takes.
const LockFile = "seqack-realtime.lock"

// lockWait is how long Exclusive waits for another process's real-time
// tests before it fails the test: well under go test's default timeout
// of ten minutes per package.
const lockWait = 5 * time.Minute

// Exclusive keeps the rest of the test apart from every other test that
// calls it, in this process or another: it takes an exclusive flock(2)
// on LockFile under os.TempDir(), waiting for it if need be, and gives
// it back when the test ends.
//
// It is for the tests that run in real time against the kernel and
// check what it does to the millisecond (the Linux target's scripts,
// the interop tests). `go test ./...` runs several packages' test
// binaries at once; two of these tests at once on a small machine
// starve each other of CPU and miss their timing, whereas one at a time
// they pass. Taking the lock keeps their strength: they still run, one
// after the other.
//
// Call it once per test, in the test (or subtest) that makes the
// namespace, before anything it times. A subtest of a test that holds
// the lock must not call it: the lock is the process's already, so the
// call fails the test rather than wait for itself.
func Exclusive(t testing.TB) {
	t.Helper()
	lockFor(t, filepath.Join(os.TempDir(), LockFile), lockWait)
}

// lockFor is Exclusive on the lock file at path, failing the test after
// waiting for it longer than wait.
func lockFor(t testing.TB, path string, wait time.Duration) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if errors.Is(err, os.ErrPermission) {
		// Another user's lock file: flock(2) needs only a descriptor
		// open for reading; the pid is then not written.
		f, err = os.Open(path)
	}
	if err != nil {
		t.Fatalf("netns: real-time lock: %v", err)
	}
	pid := strconv.Itoa(os.Getpid())
	start := time.Now()
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			t.Fatalf("netns: real-time lock %s: %v", path, err)
		}
		holder := holderOf(f)
		if holder == pid {
			f.Close()
			t.Fatalf("netns: real-time lock %s is held by this process already (a test that holds it called Exclusive again)", path)
		}
		if time.Since(start) > wait {
			f.Close()
			t.Fatalf("netns: real-time lock %s still held by process %s after %v", path, holder, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if waited := time.Since(start); waited > 100*time.Millisecond {
		t.Logf("waited %v for other real-time tests (lock %s)", waited.Round(time.Millisecond), path)
	}
	// The holder's pid, for the message of a process that waits too
	// long, and for the check against a second call in this process.
	f.Truncate(0)
	f.WriteAt([]byte(pid), 0)
	t.Cleanup(func() {
		f.Truncate(0)
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	})
}

// holderOf returns the pid written in the lock file f by the process
// that holds it, or "" if it has not written it yet.
func holderOf(f *os.File) string {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}
