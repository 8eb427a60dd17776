package twtable

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	cases, err := Read("../../tcp/testdata/timewait.table")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 || cases[0].Name == "" || len(cases[0].Steps) == 0 {
		t.Fatalf("read %d cases, the first %+v", len(cases), cases)
	}
	first := cases[0].Steps[0]
	if first.At != 0 || first.In == "" || first.Reply == "" {
		t.Errorf("first step %+v", first)
	}

	dir := t.TempDir()
	for name, text := range map[string]string{
		"step before case": "0 | R 1:1(0) | -\n",
		"too few fields":   "case x\n0 | R 1:1(0)\n",
		"bad time":         "case x\nsoon | R 1:1(0) | -\n",
		"bad fourth":       "case x\n0 | R 1:1(0) | - | again\n",
	} {
		path := filepath.Join(dir, "t")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	path := filepath.Join(dir, "ok")
	os.WriteFile(path, []byte("# c\ncase x\n1500 | F. 1:1(0) | . 1:1(0) | restart\n"), 0o644)
	got, err := Read(path)
	if err != nil || len(got) != 1 || got[0].Steps[0] != (Step{1500 * time.Millisecond, "F. 1:1(0)", ". 1:1(0)", true}) {
		t.Errorf("Read: %+v, %v", got, err)
	}
	if _, err := Read(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file gave no error")
	}
}
