package trace

import (
	"sync"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Recorder collects the events of real stacks — one, or several in one
// process — into a trace the renderers can draw. It stamps each event
// with the time since the recorder was made, gives each segment an ID,
// and pairs each delivery with the send it came from. A delivery whose
// send was not recorded (its sender is not observed, such as the kernel
// at the other end of a TUN device) is drawn as sent by the event's Peer
// at the moment it arrived. Record may be called from many goroutines.
type Recorder struct {
	mu      sync.Mutex
	start   time.Time
	events  []Event
	nextID  int
	pending map[segmentKey][]int // IDs of sent segments not yet delivered
}

// segmentKey identifies a segment well enough to pair its send with its
// delivery: two stacks' initial sequence numbers are random, so distinct
// segments with equal keys are rare, and equal ones pair in order.
type segmentKey struct {
	from       string
	seq, ack   tcp.Seq
	flags      wire.TCPFlags
	window     uint16
	payloadLen int
}

// NewRecorder returns an empty recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now(), pending: make(map[segmentKey][]int)}
}

// Record adds e, setting its At (and, for segments, its ID). It has the
// signature stack.Options.Trace expects.
func (r *Recorder) Record(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.At = time.Since(r.start)
	switch e.Kind {
	case SegmentSent:
		r.nextID++
		e.ID = r.nextID
		k := keyOf(e.Host, &e.Segment)
		r.pending[k] = append(r.pending[k], e.ID)
	case SegmentDelivered:
		k := keyOf(e.Peer, &e.Segment)
		if ids := r.pending[k]; len(ids) > 0 {
			e.ID = ids[0]
			if len(ids) == 1 {
				delete(r.pending, k)
			} else {
				r.pending[k] = ids[1:]
			}
		} else {
			r.nextID++
			e.ID = r.nextID
			r.events = append(r.events, Event{At: e.At, Kind: SegmentSent, Host: e.Peer, Peer: e.Host, ID: e.ID, Segment: e.Segment})
		}
	}
	r.events = append(r.events, e)
}

func keyOf(from string, s *tcp.Segment) segmentKey {
	return segmentKey{from, s.Seq, s.Ack, s.Flags, s.Window, len(s.Payload)}
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
