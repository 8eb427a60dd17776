package script

import (
	"path/filepath"
	"testing"
)

// TestScripts runs every script of testdata/scripts against the seqack
// target; a failure fails the test, a skip is listed.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/scripts/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := RunFile(f, Engine)
			for _, n := range r.Notes {
				t.Log(n)
			}
			switch r.Status {
			case Failed:
				t.Error(r.Err)
			case Skipped:
				t.Skip(r.Unsupported)
			}
		})
	}
}
