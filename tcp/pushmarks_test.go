package tcp

import "testing"

// pushMarks keeps the last pushMarkCap write ends, joins a write to one
// still unsent, and forgets what is acknowledged.
func TestPushMarks(t *testing.T) {
	var p pushMarks
	for i := range 10 { // ten writes of 100 bytes, each sent before the next
		end := Seq(1001 + 100*(i+1))
		p.wrote(end, end-100)
	}
	if p.covers(1001, 1101) || p.covers(1101, 1201) {
		t.Error("the two oldest of ten marks are kept")
	}
	for i := 2; i < 10; i++ {
		if start := Seq(1001 + 100*i); !p.covers(start, start+100) {
			t.Errorf("mark %d forgotten", i)
		}
	}
	p.wrote(2101, 2001) // unsent
	p.wrote(2201, 2001) // joins it
	if p.covers(2001, 2101) || !p.covers(2001, 2201) {
		t.Error("a write joining an unsent one did not take its mark")
	}
	p.acked(2101)
	if p.n != 1 || !p.covers(2101, 2201) {
		t.Errorf("after the ACK %d marks, want the one at 2201", p.n)
	}
}
