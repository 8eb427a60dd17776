package stack

import "testing"

// The receive queue's rules: the byte bound with its one exception (an
// empty queue takes any message), first in first out, and a queue that
// is never empty does not keep growing its slice.
func TestMsgQueue(t *testing.T) {
	q := msgQueue[int]{limit: 100}
	if !q.admits(1000) {
		t.Fatal("an empty queue refused a message larger than its limit")
	}
	q.push(1, 1000)
	if q.admits(1) {
		t.Fatal("a queue past its limit admitted another message")
	}
	if m, ok := q.pop(); !ok || m != 1 || q.queued != 0 || q.len() != 0 {
		t.Fatalf("pop: %d %v, queued %d, len %d; want 1 true 0 0", m, ok, q.queued, q.len())
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue succeeded")
	}
	for i := range 4 {
		if !q.admits(25) {
			t.Fatalf("message %d of 25 bytes refused with %d of 100 queued", i, q.queued)
		}
		q.push(i, 25)
	}
	if q.admits(1) {
		t.Fatal("a full queue admitted a message")
	}
	for want := range 4 {
		if m, _ := q.pop(); m != want {
			t.Fatalf("popped %d, want %d", m, want)
		}
	}

	// A queue read as fast as it is written, never empty: its slice
	// stays bounded.
	q = msgQueue[int]{limit: 1 << 30}
	q.push(-1, 1)
	for i := range 10000 {
		q.push(i, 1)
		if m, _ := q.pop(); m != i-1 {
			t.Fatalf("popped %d, want %d", m, i-1)
		}
	}
	if q.len() != 1 || cap(q.items) > 256 {
		t.Fatalf("len %d cap %d after 10000 pushes and pops; want 1 and a small slice", q.len(), cap(q.items))
	}
}
