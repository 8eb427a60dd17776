// Package twtable reads tcp/testdata/timewait.table, the table of what
// a connection in TIME_WAIT answers, which the engine's tests (a
// tcp.Conn and its TimeWaitRecord) and the stack's (its TIME_WAIT
// entry) both run. The file's header describes the format.
package twtable

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Case is one case of the table: steps fed, in order, to a pair fresh
// in TIME_WAIT.
type Case struct {
	Name  string
	Steps []Step
}

// Step is one line of a case.
type Step struct {
	At      time.Duration // since the case began
	In      string        // the segment that arrives, in packetdrill notation
	Reply   string        // the answer: "-" none, "reuse" a new connection
	Restart bool          // the 2×MSL wait starts again
}

// Read parses the table at path.
func Read(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []Case
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "case "):
			cases = append(cases, Case{Name: strings.TrimPrefix(line, "case ")})
			continue
		}
		fields := strings.Split(line, "|")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		ms, err := strconv.Atoi(fields[0])
		if len(cases) == 0 || len(fields) < 3 || len(fields) > 4 || err != nil ||
			len(fields) == 4 && fields[3] != "restart" {
			return nil, fmt.Errorf("%s:%d: bad step %q", path, n, line)
		}
		c := &cases[len(cases)-1]
		c.Steps = append(c.Steps, Step{At: time.Duration(ms) * time.Millisecond,
			In: fields[1], Reply: fields[2], Restart: len(fields) == 4})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return cases, nil
}
