package stack

import (
	"container/heap"
	"sync"
	"time"
)

// timers runs every connection's engine deadline from one goroutine: a
// heap of deadlines and one time.Timer set to the earliest.
type timers struct {
	mu     sync.Mutex
	heap   timerHeap
	timer  *time.Timer
	closed bool
}

type timerEntry struct {
	at    time.Time
	c     *Conn
	index int
}

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

// set schedules c's deadline at (zero: none), replacing its previous one.
func (t *timers) set(c *Conn, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	e := c.timer
	switch {
	case at.IsZero() && e == nil:
		return
	case at.IsZero():
		heap.Remove(&t.heap, e.index)
		c.timer = nil
	case e == nil:
		c.timer = &timerEntry{at: at, c: c}
		heap.Push(&t.heap, c.timer)
	default:
		e.at = at
		heap.Fix(&t.heap, e.index)
	}
	t.rearm()
}

// rearm points the timer at the earliest deadline. t.mu is held.
func (t *timers) rearm() {
	if len(t.heap) == 0 {
		t.timer.Stop()
		return
	}
	t.timer.Reset(time.Until(t.heap[0].at))
}

// fire runs the connections whose deadlines have passed.
func (t *timers) fire() {
	now := time.Now()
	var due []*Conn
	t.mu.Lock()
	for len(t.heap) > 0 && !t.heap[0].at.After(now) {
		e := heap.Pop(&t.heap).(*timerEntry)
		e.c.timer = nil
		due = append(due, e.c)
	}
	if !t.closed {
		t.rearm()
	}
	t.mu.Unlock()
	for _, c := range due {
		c.handleTimer(now)
	}
}

func (t *timers) close() {
	t.mu.Lock()
	t.closed = true
	t.timer.Stop()
	t.mu.Unlock()
}
