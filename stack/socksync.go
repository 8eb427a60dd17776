package stack

import (
	"context"
	"os"
	"sync"
	"time"
)

// sockSync is what each of the stack's sockets (Conn, UDPConn, PingConn)
// blocks on: its mutex, the channel a waiting call sleeps on, and the
// read and write deadlines that bound the wait. The sockets embed it, so
// the SetDeadline family below is theirs, with package net's meaning.
type sockSync struct {
	mu       sync.Mutex
	changed  chan struct{} // made by a waiting call, closed (and dropped) by wake
	rdl, wdl deadline
}

// wake tells a waiting call that something changed. mu is held.
func (w *sockSync) wake() {
	if w.changed != nil { // only a waiting call made one
		close(w.changed)
		w.changed = nil
	}
}

// wait blocks until wake is called, the deadline passes or ctx is done.
// mu is held on entry and on return.
func (w *sockSync) wait(ctx context.Context, deadline time.Time) error {
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	ch := w.changed
	w.mu.Unlock()
	defer w.mu.Lock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-ch:
		return nil
	case <-timeout:
		return os.ErrDeadlineExceeded
	case <-done:
		return ctx.Err()
	}
}

// SetDeadline implements net.Conn: it sets both deadlines.
func (w *sockSync) SetDeadline(t time.Time) error {
	w.mu.Lock()
	w.rdl, w.wdl = deadlineAt(t), deadlineAt(t)
	w.wake()
	w.mu.Unlock()
	return nil
}

// SetReadDeadline implements net.Conn.
func (w *sockSync) SetReadDeadline(t time.Time) error {
	w.mu.Lock()
	w.rdl = deadlineAt(t)
	w.wake()
	w.mu.Unlock()
	return nil
}

// SetWriteDeadline implements net.Conn. Datagram writes never block, so
// for them the deadline only makes writes fail once it has passed.
func (w *sockSync) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	w.wdl = deadlineAt(t)
	w.wake()
	w.mu.Unlock()
	return nil
}
