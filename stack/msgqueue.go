package stack

// msgQueue is a socket's receive queue of whole messages (UDP
// datagrams, echo replies), bounded in bytes charged: each message is
// charged a cost (its buffer and an overhead for the bookkeeping that
// goes with it, as Linux charges an skb's truesize), and one that would
// take the total past the limit is refused, except that an empty queue
// always takes one, whatever its size (Linux's
// __udp_enqueue_schedule_skb). The owning socket's mutex guards it.
type msgQueue[T any] struct {
	items  []charged[T] // received, not yet read; from head on
	head   int
	queued int // bytes charged for the messages queued
	limit  int // bound on queued (SetReadBuffer)
}

// charged is a queued message with what it was charged.
type charged[T any] struct {
	msg  T
	cost int
}

// admits reports whether a message costing cost fits.
func (q *msgQueue[T]) admits(cost int) bool {
	return q.queued == 0 || q.queued+cost <= q.limit
}

// push queues msg, charged cost; admits said it fits.
func (q *msgQueue[T]) push(msg T, cost int) {
	q.items = append(q.items, charged[T]{msg, cost})
	q.queued += cost
}

// pop takes the oldest message, if any.
func (q *msgQueue[T]) pop() (T, bool) {
	if q.head == len(q.items) {
		var zero T
		return zero, false
	}
	m := q.items[q.head]
	q.items[q.head] = charged[T]{}
	q.head++
	q.queued -= m.cost
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 64 && 2*q.head >= len(q.items):
		// Move the rest down, so that a queue never empty does not
		// grow its slice without bound.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return m.msg, true
}

// len returns the number of messages queued.
func (q *msgQueue[T]) len() int { return len(q.items) - q.head }
