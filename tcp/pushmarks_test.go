package tcp

import "testing"

// pushMarks marks the two oldest write ends already sent, none that is
// unsent (a write joins it), and frees what is acknowledged; a free mark
// never covers a segment, wherever sequence numbers have wrapped to.
func TestPushMarks(t *testing.T) {
	var p pushMarks
	una := Seq(1001)
	p.reset(una)
	// Four writes of 100 bytes, each sent before the next: the ends of
	// the first three are marked (the fourth's is the end of the queue)
	// as long as a mark is free.
	for i := 1; i <= 3; i++ {
		end := una.Add(uint32(100 * i))
		p.wrote(end, una, end)
	}
	for i, want := range []bool{true, true, false} {
		start := una.Add(uint32(100 * i))
		if got := p.covers(start, start+100, una); got != want {
			t.Errorf("write %d: marked %v, want %v", i+1, got, want)
		}
	}
	// A write after one not yet sent: no mark.
	var q pushMarks
	q.reset(una)
	q.wrote(una+100, una, una+50)
	if q.covers(una, una+100, una) {
		t.Error("the end of an unsent write was marked")
	}
	// The first write is acknowledged: its mark frees, the second's
	// stays, and the freed one takes the next write's end.
	p.acked(una + 100)
	if p.covers(una, una+100, una+100) || !p.covers(una+100, una+200, una+100) {
		t.Error("after the ACK of the first write: wrong marks")
	}
	p.wrote(una+400, una+100, una+400)
	if !p.covers(una+300, una+400, una+100) {
		t.Error("a freed mark did not take the next end")
	}
	// Everything acknowledged, then 2^31 bytes and more later: still free.
	p.acked(una + 400)
	far := una.Add(1<<31 + 1000)
	p.acked(far)
	if p.covers(far-1<<31, far, far) || p.covers(far, far+1<<30, far) {
		t.Error("a free mark covers a segment")
	}
}
