package script

import (
	"strings"
	"testing"
	"time"
)

// TestParsePoll checks poll's argument syntax.
func TestParsePoll(t *testing.T) {
	c, err := parseCall("poll([{fd=3, events=POLLIN|POLLOUT, revents=0}, {fd=4, events=POLLIN, revents=POLLIN|POLLHUP}], 2, 250) = 1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePoll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []PollFD{{3, PollIn | PollOut, 0}, {4, PollIn, PollIn | PollHup}}
	if len(p.FDs) != 2 || p.FDs[0] != want[0] || p.FDs[1] != want[1] || p.Timeout != 250*time.Millisecond {
		t.Fatalf("got %+v", p)
	}
	if err := p.Check([]int16{0, PollIn}); err == nil || !strings.Contains(err.Error(), "fd 4: expected revents POLLIN|POLLHUP but got POLLIN") {
		t.Errorf("Check: %v", err)
	}
	for _, bad := range []string{
		"poll([{fd=3, events=POLLIN}], 1, 0) = 0",                 // no revents
		"poll([{fd=3, events=POLLFOO, revents=0}], 1, 0) = 0",     // unknown bit
		"poll([{fd=3, events=POLLIN, revents=0}], 2, 0) = 0",      // nfds
		"poll([{fd=x, events=POLLIN, revents=0}], 1, 0) = 0",      // fd
		"poll({fd=3, events=POLLIN, revents=0}, 1, 0) = 0",        // not a list
		"poll([{fd=3, events=POLLIN, revents=0}], 1, soon) = 0",   // timeout
		"poll([{fd=3, events=POLLIN, revents=0, x=1}], 1, 0) = 0", // field
	} {
		c, err := parseCall(bad)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePoll(c); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}
