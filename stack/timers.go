package stack

import (
	"container/heap"
	"sync"
	"time"
)

// timers runs every connection's engine deadline, and every TIME_WAIT
// record's expiry, from one goroutine: a heap of deadlines and one
// time.Timer set to the earliest.
type timers struct {
	mu     sync.Mutex
	heap   timerHeap
	timer  *time.Timer
	armed  time.Time // when timer fires; zero: stopped
	closed bool
}

// timerEntry is one deadline in the heap; its owner keeps a pointer to
// it (slot) while it is scheduled.
type timerEntry struct {
	at    time.Time
	owner timerOwner
	slot  **timerEntry
	index int
}

// timerOwner is what a deadline belongs to: a connection or a TIME_WAIT
// record.
type timerOwner interface{ handleTimer(now time.Time) }

type timerHeap []*timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

func newTimers() *timers {
	t := &timers{}
	t.timer = time.AfterFunc(time.Hour, t.fire)
	t.timer.Stop()
	return t
}

// set schedules owner's deadline at (zero: none), replacing its
// previous one; slot is where the owner keeps its entry. An entry out of
// the heap stays in its slot, to be reused by the next deadline without
// allocating, until release.
func (t *timers) set(slot **timerEntry, owner timerOwner, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	e := *slot
	switch {
	case at.IsZero() && e == nil:
		return
	case at.IsZero():
		if e.index >= 0 {
			heap.Remove(&t.heap, e.index)
		}
	case e == nil:
		*slot = &timerEntry{at: at, owner: owner, slot: slot}
		heap.Push(&t.heap, *slot)
	case e.index < 0: // parked: back into the heap
		e.at = at
		heap.Push(&t.heap, e)
	default:
		if e.at.Equal(at) {
			return
		}
		e.at = at
		heap.Fix(&t.heap, e.index)
	}
	t.rearm()
}

// rearm makes sure the timer fires by the earliest deadline. It is
// lazy: a deadline that moved later (a retransmission timer pushed back
// by every ACK) leaves the timer where it is — it fires early, finds
// nothing due, and is set again — so that the common case costs no
// timer reset at all. t.mu is held.
func (t *timers) rearm() {
	if len(t.heap) == 0 {
		return // a timer that fires with nothing due is harmless
	}
	next := t.heap[0].at
	if !t.armed.IsZero() && !next.Before(t.armed) {
		return
	}
	t.armed = next
	t.timer.Reset(time.Until(next))
}

// fire runs the connections whose deadlines have passed.
func (t *timers) fire() {
	now := time.Now()
	var due []timerOwner
	t.mu.Lock()
	t.armed = time.Time{} // it has fired
	for len(t.heap) > 0 && !t.heap[0].at.After(now) {
		e := heap.Pop(&t.heap).(*timerEntry) // parked in its slot for reuse
		due = append(due, e.owner)
	}
	if !t.closed {
		t.rearm()
	}
	t.mu.Unlock()
	for _, o := range due {
		o.handleTimer(now)
	}
}

// release takes the owner's entry out of the heap and out of its slot,
// so that an idle owner holds no entry at all.
func (t *timers) release(slot **timerEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := *slot; e != nil {
		if e.index >= 0 {
			heap.Remove(&t.heap, e.index)
			if !t.closed {
				t.rearm()
			}
		}
		*slot = nil
	}
}

func (t *timers) close() {
	t.mu.Lock()
	t.closed = true
	t.timer.Stop()
	t.mu.Unlock()
}
