package tcp

// fifo is a first-in, first-out list over a backing array it keeps for
// speed: items[head:] are queued, oldest first. push moves them to the
// front of the array before it would grow, so a queue that keeps moving
// allocates nothing once its array is large enough. The receive queue's
// chunks, the send queue's blocks and RACK's records of transmissions
// are kept in one.
type fifo[T any] struct {
	items []T
	head  int
}

// len returns how many items are queued.
func (f *fifo[T]) len() int { return len(f.items) - f.head }

// all returns the queued items, oldest first.
func (f *fifo[T]) all() []T { return f.items[f.head:] }

// front returns the oldest item; the fifo must not be empty.
func (f *fifo[T]) front() *T { return &f.items[f.head] }

// back returns the newest item, or nil if there is none.
func (f *fifo[T]) back() *T {
	if f.head == len(f.items) {
		return nil
	}
	return &f.items[len(f.items)-1]
}

// push appends x.
func (f *fifo[T]) push(x T) {
	if f.head > 0 && len(f.items) == cap(f.items) {
		k := copy(f.items, f.items[f.head:])
		clear(f.items[k:])
		f.items, f.head = f.items[:k], 0
	}
	f.items = append(f.items, x)
}

// pop drops the oldest item, clearing its slot; the fifo must not be
// empty.
func (f *fifo[T]) pop() {
	var zero T
	f.items[f.head] = zero
	f.head++
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	}
}

// drop drops the n oldest items, clearing their slots; the fifo must
// hold at least n.
func (f *fifo[T]) drop(n int) {
	clear(f.items[f.head : f.head+n])
	f.head += n
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	}
}
