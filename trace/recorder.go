package trace

import (
	"net/netip"
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
// at the moment it arrived. A connection made by a listener is recorded
// as starting in LISTEN. Record may be called from many goroutines.
//
// A recorder keeps every event it is given unless RecorderOptions say
// otherwise: a Filter keeps only some connections' events, and
// MaxEvents bounds its memory. SplitByConn cuts what it recorded into
// one trace per connection.
type Recorder struct {
	opts    RecorderOptions
	mu      sync.Mutex
	start   time.Time
	events  []Event
	payload int // payload bytes the events hold
	dropped int
	nextID  int
	pending map[segmentKey][]int // IDs of sent segments not yet delivered
}

// RecorderOptions configure a Recorder. The zero value keeps everything.
type RecorderOptions struct {
	// Filter, if set, is asked about every event given to Record, before
	// anything else is done with it; the events it refuses are not
	// recorded, nor counted as dropped. Between makes one that keeps a
	// single connection.
	Filter func(Event) bool
	// MaxEvents, if positive, is the most events the recorder keeps: it
	// keeps the first ones, so that every connection they show starts
	// at its beginning, and counts the others (Dropped).
	MaxEvents int
	// MaxPayloadBytes, if positive, bounds the segment payload bytes the
	// kept events hold (each holds a copy of its segment's, up to 64 KiB
	// with segmentation offload), as MaxEvents bounds their number. A
	// recorder with both uses at most about 200 bytes per event plus
	// MaxPayloadBytes.
	MaxPayloadBytes int
}

// segmentKey identifies a segment well enough to pair its send with its
// delivery: two stacks' initial sequence numbers are random, so distinct
// segments with equal keys are rare, and equal ones pair in order.
type segmentKey struct {
	from       string
	conn       Tuple // the sender's end first; zero from the simulator
	seq, ack   tcp.Seq
	flags      wire.TCPFlags
	window     uint16
	payloadLen int
}

// NewRecorder returns an empty recorder that keeps every event, whose
// clock starts now.
func NewRecorder() *Recorder {
	return NewRecorderOptions(RecorderOptions{})
}

// NewRecorderOptions returns an empty recorder configured by opts, whose
// clock starts now.
func NewRecorderOptions(opts RecorderOptions) *Recorder {
	return &Recorder{opts: opts, start: time.Now(), pending: make(map[segmentKey][]int)}
}

// Between returns a RecorderOptions.Filter that keeps the events of the
// connection between a and b (in either direction), and the events that
// name no connection.
func Between(a, b netip.AddrPort) func(Event) bool {
	t := Tuple{a, b}
	return func(e Event) bool { return !e.Conn.IsValid() || e.Conn.Same(t) }
}

// Record adds e, setting its At (and, for segments, its ID). It has the
// signature stack.Options.Trace expects.
func (r *Recorder) Record(e Event) {
	if r.opts.Filter != nil && !r.opts.Filter(e) {
		return
	}
	if e.Kind == StateChanged && e.From == tcp.Closed && e.To == tcp.Listen {
		// A real stack makes a connection for each SYN a listener
		// takes, and passes it from CLOSED to LISTEN as the SYN
		// arrives. The listener was in LISTEN all along: the
		// connection's first change, LISTEN → SYN_RCVD, says so (a
		// diagram starts it in LISTEN), where this one would draw
		// LISTEN anew after every SYN.
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full(1, len(e.Segment.Payload)) {
		return
	}
	e.At = time.Since(r.start)
	switch e.Kind {
	case SegmentSent:
		r.nextID++
		e.ID = r.nextID
		k := keyOf(e.Host, e.Conn, &e.Segment)
		r.pending[k] = append(r.pending[k], e.ID)
	case SegmentDelivered:
		k := keyOf(e.Peer, e.Conn.Reverse(), &e.Segment)
		if ids := r.pending[k]; len(ids) > 0 {
			e.ID = ids[0]
			if len(ids) == 1 {
				delete(r.pending, k)
			} else {
				r.pending[k] = ids[1:]
			}
		} else {
			// The send, drawn from the arrival, and the arrival are
			// kept or dropped together.
			if r.full(2, 2*len(e.Segment.Payload)) {
				return
			}
			r.payload += len(e.Segment.Payload)
			r.nextID++
			e.ID = r.nextID
			r.events = append(r.events, Event{At: e.At, Kind: SegmentSent, Host: e.Peer, Peer: e.Host, ID: e.ID, Segment: e.Segment, Conn: e.Conn.Reverse()})
		}
	}
	r.payload += len(e.Segment.Payload)
	r.events = append(r.events, e)
}

// full reports whether n more events holding bytes of payload would
// exceed MaxEvents or MaxPayloadBytes, and if so counts one event
// dropped. r.mu is held.
func (r *Recorder) full(n, bytes int) bool {
	if r.opts.MaxEvents > 0 && len(r.events)+n > r.opts.MaxEvents ||
		r.opts.MaxPayloadBytes > 0 && r.payload+bytes > r.opts.MaxPayloadBytes {
		r.dropped++
		return true
	}
	return false
}

func keyOf(from string, conn Tuple, s *tcp.Segment) segmentKey {
	return segmentKey{from, conn, s.Seq, s.Ack, s.Flags, s.Window, len(s.Payload)}
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Dropped returns how many events the recorder did not keep because it
// held MaxEvents or MaxPayloadBytes already (a segment's delivery drawn with its unseen
// send counts once).
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
