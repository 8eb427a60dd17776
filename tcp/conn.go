package tcp

import (
	"io"
	"time"

	"github.com/seqack/seqack/wire"
)

// Conn is the control block of one TCP connection (RFC 9293 §3.3.1): the
// state, the send and receive sequence variables, the queues and the
// timers. It is a pure state machine: it is driven only by Input
// (a segment arrived), the application calls, and HandleTimer, each given
// the current time, and it never reads a clock, sleeps, locks or starts a
// goroutine. After each call the driver collects Outgoing segments, Events
// and the next Deadline.
//
// A Conn is not safe for concurrent use; its driver serializes calls.
type Conn struct {
	cfg      *Config
	observer Observer
	err      error

	// Send sequence space (RFC 9293 §3.3.1, figure 4).
	iss       Seq
	sndUna    Seq    // oldest unacknowledged
	sndNxt    Seq    // next to send
	sndMax    Seq    // highest sndNxt so far (sndNxt goes back on retransmission)
	sndWnd    uint32 // peer's window
	sndWl1    Seq    // seq of the segment that last updated sndWnd
	sndWl2    Seq    // ack of the segment that last updated sndWnd
	maxSndWnd uint32 // largest window the peer offered (RFC 5961 §5)
	peerMSS   uint16
	pathMSS   uint16 // from ICMP packet too big (RFC 1191, RFC 8201); 0 if none
	// Window scaling (RFC 7323 §2.2): Snd.Wind.Shift applies to the
	// windows the peer sends, Rcv.Wind.Shift to ours. Both are 0 unless
	// both SYNs carried the option.
	sndShift, rcvShift uint8
	// rcvMSS is the largest payload received in order, at most the MSS
	// we offered (rcvmss.go): Linux's estimate of the peer's MSS.
	rcvMSS uint16
	// Path MTU probing upwards (RFC 4821 §7, plpmtud.go).
	pmtu pmtuSearch
	// Timestamps (RFC 7323 §3).
	epoch       time.Time // the origin of instants and of our TSval clock
	tsVal       uint32    // our clock as of the latest call
	tsRecent    uint32    // TS.Recent: the peer's TSval to echo
	lastAckSent Seq       // Last.ACK.sent
	rtoTSval    uint32    // TSval of the first retransmission after a timeout, while it may prove spurious (RFC 3522)

	// Settings of this connection that override the Config; zero means
	// the Config's.
	rcvBuf, sndBuf int32
	opts           *options   // rarely set options (cork.go); nil: none
	ka             *keepalive // nil: keepalive off
	softErr        error      // the last ICMP soft error (RFC 1122 §4.2.3.9)

	// Send queue: bytes from sendSeq on, written but not yet acknowledged.
	send    ring
	blocks  *blockQueue // the send queue as framed blocks, when it is in that form (see queue)
	sendSeq Seq
	finSeq  Seq // the FIN's sequence number, once closed

	// Receive sequence space.
	irs      Seq
	rcvNxt   Seq
	rcvRight Seq // right edge of the window last advertised; never moves left
	// replies limits the answers to unacceptable segments (challenge.go);
	// 4 bytes where the queue below would leave padding.
	replies replyLimit
	recv    receiveQueue

	// Timers and the RFC 6298 estimator.
	rtx      timer // SYN, SYN+ACK, data and FIN retransmission
	timeWait timer // 2×MSL
	persist  timer // zero-window probes
	kaTimer  timer // keepalive
	delack   timer // delayed ACK (RFC 1122 §4.2.3.2)
	rtt      rttEstimator

	// Congestion control and loss recovery (RFC 5681, RFC 6582,
	// RFC 6675).
	cc         *congestion  // the controller and the delivery-rate sampler (rate.go): made with the first data
	sb         scoreboard   // what the peer SACKed above SND.UNA
	dupAcks    int          // duplicate ACKs in a row (RFC 5681 §2)
	recoverSeq Seq          // RecoveryPoint: SND.MAX when recovery began
	rtxNext    Seq          // in recovery, where to look for the next hole to resend
	lastSend   instant      // for restart after idle
	loss       lossRecovery // NewReno, RFC 6675 or RACK-TLP (loss.go): chosen when the peer's SYN settles SACK
	prr        *prrState    // PRR (RFC 9937, prr.go): made at the first fast recovery, else nil

	// Receive buffer auto-tuning: what the application had read at the
	// start of the current round trip, and when that was.
	tuneSeq      Seq
	lastAcked    Seq // RCV.NXT as of the last ACK sent or counted (beside tuneSeq: they pack)
	tuneTime     instant
	unackedBytes int32     // in-order bytes received since our last ACK (within the window: under 2^30)
	retries      int32     // consecutive expiries of rtx or persist
	push         pushMarks // where writes end in the send queue, for PSH (beside the two above: they pack)
	out          []Segment
	stats        counters // what Stats reports beyond the live state

	// Small fields, kept together so that they pack.
	state      State
	ccAlgo     uint8  // the congestion control SetCongestionControl chose: 1 + its index in the registry (ccname.go); 0: the Config's
	events     Events // reported by Events and cleared
	quickAcks  uint8  // in-order segments still to be ACKed at once (quick-ACK mode)
	orphan     bool   // the application let go (Orphan): FIN_WAIT_2 is bounded
	passive    bool   // opened by Listen: a reset SYN_RCVD returns to LISTEN
	tsOK       bool   // timestamps (RFC 7323 §3): both SYNs carried the option
	scaling    bool   // window scaling: the peer's SYN carried the option and we answer with ours
	closed     bool   // Close was called: a FIN follows the queued data
	sackOK     bool   // both SYNs carried SACK-permitted (RFC 2018)
	inRecovery bool   // in fast recovery
	mustResend bool   // the next hole goes at once, whatever the pipe (fast retransmit, RFC 6582 partial ACK)
	rcvLocked  bool   // the application set the receive buffer size: no auto-tuning
	pendingAck bool   // an ACK is owed now
	noDelay    bool   // Nagle's algorithm off (RFC 1122 §4.2.3.4)
	// probes counts the zero-window probes sent since the peer was last
	// heard from, or, once orphaned, since the window last opened
	// (timers.go): what gives up on a peer that never opens it.
	probes uint16
	// prrDD is the DeliveredData of the ACKs not yet counted by PRR
	// (RFC 9937 §6, prr.go): 4 bytes in what was padding.
	prrDD int32
}

// instant is a moment as nanoseconds since the connection's epoch (its
// first call), plus one so that zero can mean "none": eight bytes where
// a time.Time takes twenty-four, for the timers and timestamps every
// connection keeps.
type instant int64

// at converts now to an instant, fixing the epoch on first use.
func (c *Conn) at(now time.Time) instant {
	if c.epoch.IsZero() {
		c.epoch = now
	}
	return instant(now.Sub(c.epoch)) + 1
}

// time converts an instant back; zero stays the zero time.
func (c *Conn) time(i instant) time.Time {
	if i == 0 {
		return time.Time{}
	}
	return c.epoch.Add(time.Duration(i - 1))
}

// since is the time from i to now.
func (c *Conn) since(i instant, now time.Time) time.Duration { return time.Duration(c.at(now) - i) }

// timer is one deadline; zero means stopped.
type timer struct{ at instant }

func (t *timer) set(at instant)       { t.at = at }
func (t *timer) stop()                { t.at = 0 }
func (t *timer) running() bool        { return t.at != 0 }
func (t *timer) due(now instant) bool { return t.running() && now >= t.at }

// Stats is a snapshot of a connection's counters and estimator state, in
// the spirit of `ss -ti`.
type Stats struct {
	SegmentsSent, SegmentsReceived uint64
	BytesSent, BytesReceived       uint64 // payload bytes, first transmissions and in-order arrivals
	Retransmissions                uint64 // segments sent again
	BytesRetransmitted             uint64 // payload bytes sent again
	SRTT, RTTVar, RTO              time.Duration
	SendWindow, ReceiveWindow      uint32 // in bytes, after scaling
	MSS                            int    // the largest payload sent now: our MSS, the peer's and the path's, whichever is least
	// SendScale and ReceiveScale are the window shifts (RFC 7323 §2) for
	// the peer's windows and ours; -1 when scaling is off.
	SendScale, ReceiveScale int
	// SendQueue is the bytes written and not yet acknowledged (ss's
	// Send-Q); ReceiveQueue the bytes received and not yet read (Recv-Q).
	SendQueue, ReceiveQueue int
	// CongestionWindow and SlowStartThreshold are in bytes; 0 before the
	// handshake completes.
	CongestionWindow, SlowStartThreshold int
	InRecovery                           bool // in fast recovery
	// CongestionControl names the congestion control (ccname.go), as
	// ss -ti prints it: "cubic", "reno"; "" for one of the caller's own.
	CongestionControl string
	// DeliveryRate is the latest delivery-rate sample, in bytes per
	// second (draft-cheng-iccrg-delivery-rate-estimation, rate.go), 0
	// before the first or if the congestion control takes no samples
	// (RateSampleConsumer); DeliveryRateAppLimited says the application
	// limited it. MinRTT is the least round trip measured.
	DeliveryRate           uint64
	DeliveryRateAppLimited bool
	MinRTT                 time.Duration
	// PacingRate is the rate data is paced at (pacing.go), in bytes per
	// second; 0 if the connection is not paced.
	PacingRate uint64
	// DataSegmentsSent and DataSegmentsReceived count the segments that
	// carried data, retransmissions and duplicates included (Linux's
	// tcpi_data_segs_out and tcpi_data_segs_in); 32 bits, they wrap as
	// Linux's do.
	DataSegmentsSent, DataSegmentsReceived uint32
}

// counters are a connection's own counts, kept small: Stats adds the
// rest from the live state.
type counters struct {
	segmentsSent, segmentsReceived uint64
	retransmissions                uint64
	bytesSent, bytesReceived       uint64
	bytesRetransmitted             uint64
	// dataSegmentsSent and dataSegmentsReceived count the segments that
	// carried data, retransmissions and duplicates included: Linux's
	// tcpi_data_segs_out and tcpi_data_segs_in, which are 32 bits and
	// wrap as these do.
	dataSegmentsSent, dataSegmentsReceived uint32
}

// NewConn returns a control block in CLOSED that will use iss as its
// initial send sequence number when it opens (see ISNGenerator). cfg is
// shared, not copied; nil means all defaults.
func NewConn(cfg *Config, iss Seq) *Conn {
	if cfg == nil {
		cfg = &defaultConfig
	}
	return &Conn{cfg: cfg, iss: iss, noDelay: !cfg.Nagle, loss: new(renoRecovery)}
}

// defaultConfig is what a nil *Config means: every field zero, so every
// default applies. It is never written.
var defaultConfig Config

// SetObserver sets the observer told of this Conn's state changes and
// timer expiries; nil removes it.
func (c *Conn) SetObserver(o Observer) { c.observer = o }

// State returns the current state.
func (c *Conn) State() State { return c.state }

// Err returns why the connection ended (ErrConnectionRefused,
// ErrConnectionReset, ErrTimedOut, ErrConnectionAborted), or nil.
func (c *Conn) Err() error { return c.err }

// ISS returns the initial send sequence number.
func (c *Conn) ISS() Seq { return c.iss }

// IRS returns the initial receive sequence number (the peer's ISN), once
// known.
func (c *Conn) IRS() Seq { return c.irs }

// Buffered returns how many bytes Read can return now.
func (c *Conn) Buffered() int { return c.recv.readable() }

// Available returns how many bytes Write can accept now.
func (c *Conn) Available() int {
	if n := c.sndBufSize() - c.queued(); n > 0 {
		return n
	}
	return 0
}

// SetBufferSizes sets this connection's receive and send buffer sizes,
// as SO_RCVBUF and SO_SNDBUF do; a zero leaves that size as it is. A
// receive size set this way ends auto-tuning. The receive
// size decides the window scale only if set before the SYN is sent or
// answered (RFC 7323 §2.2: the scale is fixed by the handshake). Data
// already queued is kept.
func (c *Conn) SetBufferSizes(receive, send int) {
	if receive > 0 {
		c.rcvBuf = int32(min(receive, maxBufferSize))
		c.rcvLocked = true // as SO_RCVBUF: no auto-tuning after
	}
	if send > 0 {
		c.sndBuf = int32(min(send, maxBufferSize))
	}
}

// maxBufferSize bounds a buffer size set on one connection: 1 GiB, as
// the window scale can express (RFC 7323 §2.3).
const maxBufferSize = 1 << 30

func (c *Conn) rcvBufSize() int { return orDefault(int(c.rcvBuf), c.cfg.receiveBufferSize()) }

// rcvBufCeiling is the largest the receive buffer may become: what the
// window scale must be able to express. Auto-tuning's ceiling, unless
// the application sized the buffer (SetBufferSizes), which then does not
// grow: Linux clamps the window to a buffer SO_RCVBUF locked, and the
// scale with it (tcp_connect_init, tcp_openreq_init_rwin).
func (c *Conn) rcvBufCeiling() int {
	if c.rcvLocked {
		return c.rcvBufSize()
	}
	return max(c.rcvBufSize(), c.cfg.maxReceiveBufferSize())
}
func (c *Conn) sndBufSize() int { return orDefault(int(c.sndBuf), c.cfg.sendBufferSize()) }

// SetNoDelay turns Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4) off
// (true) or on (false) for this connection, whatever Config.Nagle says:
// with it on, a segment shorter than the MSS waits while earlier data is
// unacknowledged.
func (c *Conn) SetNoDelay(noDelay bool, now time.Time) {
	c.tick(now)
	c.noDelay = noDelay
	c.output(now)
}

// Stats returns the connection's counters and estimator state.
func (c *Conn) Stats() Stats {
	s := Stats{
		SegmentsSent: c.stats.segmentsSent, SegmentsReceived: c.stats.segmentsReceived,
		BytesSent: c.stats.bytesSent, BytesReceived: c.stats.bytesReceived,
		Retransmissions: c.stats.retransmissions, BytesRetransmitted: c.stats.bytesRetransmitted,
		DataSegmentsSent: c.stats.dataSegmentsSent, DataSegmentsReceived: c.stats.dataSegmentsReceived,
	}
	s.SRTT, s.RTTVar, s.RTO = c.rtt.srtt, c.rtt.rttvar, c.rtt.rto
	s.SendWindow = c.sndWnd
	s.ReceiveWindow = c.rcvRight.Sub(c.rcvNxt)
	s.MSS = c.payloadMSS()
	s.SendScale, s.ReceiveScale = -1, -1
	if c.scaling {
		s.SendScale, s.ReceiveScale = int(c.sndShift), int(c.rcvShift)
	}
	s.SendQueue, s.ReceiveQueue = c.queued(), c.recv.readable()
	if c.cc != nil {
		s.CongestionWindow, s.SlowStartThreshold = c.cc.Window(), c.cc.SlowStartThreshold()
	} else if c.state.Synchronized() {
		s.CongestionWindow = initialWindow(c.effectiveMSS()) // what the first data will have
	}
	s.InRecovery = c.inRecovery
	s.CongestionControl = c.CongestionControlName()
	c.rateStats(&s)
	return s
}

// Outgoing returns the segments queued for sending since the last call
// and clears the queue. The slice and the payloads it points to are valid
// until the next call into the Conn.
func (c *Conn) Outgoing() []Segment {
	out := c.out
	c.out = c.out[:0]
	return out
}

// Orphan tells the connection that its application has let go of it
// (closed it fully, not just its sending side): no one will read what
// arrives, so its wait in FIN_WAIT_2 for the peer's FIN is bounded by
// FinWait2Timeout, and its retransmissions and zero-window probes by
// OrphanRetries.
func (c *Conn) Orphan(now time.Time) {
	c.orphan = true
	if c.finWait2Reset(true) { // TCP_LINGER2 < 0 (cork.go)
		return
	}
	c.startFinWait2Timer(now)
}

// startFinWait2Timer bounds an orphaned connection's FIN_WAIT_2. It
// uses the TIME_WAIT timer, which FIN_WAIT_2 cannot be using.
func (c *Conn) startFinWait2Timer(now time.Time) {
	if c.finWait2Reset(false) { // TCP_LINGER2 < 0 (cork.go)
		return
	}
	if c.orphan && c.state == FinWait2 && !c.timeWait.running() {
		c.timeWait.set(c.at(now.Add(c.finWait2Timeout())))
	}
}

// Quiet reports whether the connection has nothing in flight, nothing
// queued either way and no ACK owed: between exchanges, not in the
// middle of one.
func (c *Conn) Quiet() bool {
	return c.sndUna == c.sndMax && c.queued() == 0 && c.recv.readable() == 0 && len(c.recv.ooo) == 0 && !c.pendingAck
}

// Compact releases memory the connection keeps only for speed (the
// buffer Outgoing's segments are gathered in, the receive queue's list
// of chunks). A driver calls it when the connection goes idle: no
// deadline, nothing to send.
func (c *Conn) Compact() {
	if len(c.out) == 0 {
		c.out = nil
	}
	c.recv.data.compact()
	if c.queued() == 0 {
		c.send.forget()
		c.blocks = nil
	}
	if r := c.rack(); r != nil && len(r.outstanding()) == 0 {
		r.release()
		c.idleRACK()
	}
	c.rateCompact()
}

// Events returns the application events since the last call and clears
// them.
func (c *Conn) Events() Events {
	e := c.events
	c.events = 0
	return e
}

// Deadline returns when HandleTimer next needs to be called; the zero
// time means no timer is running.
func (c *Conn) Deadline() time.Time {
	var first instant
	var rackAt instant
	if r := c.rack(); r != nil {
		rackAt = r.timer.at
	}
	for _, t := range [...]instant{c.rtx.at, c.timeWait.at, c.persist.at, c.kaTimer.at, c.delack.at, rackAt, c.pacingDeadline()} {
		if t != 0 && (first == 0 || t < first) {
			first = t
		}
	}
	return c.time(first)
}

func (c *Conn) setState(s State) {
	if s == c.state {
		return
	}
	from := c.state
	c.state = s
	if c.observer != nil {
		c.observer.StateChanged(c, from, s)
	}
}

// enterClosed ends the connection: timers stop, queues are released.
func (c *Conn) enterClosed(err error, ev Events) {
	if c.err == nil {
		c.err = err
	}
	c.rtx.stop()
	c.timeWait.stop()
	c.persist.stop()
	c.kaTimer.stop()
	c.delack.stop()
	c.rackStop()
	c.releaseQueue()
	c.recv.dropOutOfOrder(c.cfg.ReleaseBuffer)
	c.setState(Closed)
	c.events |= ev | EventClosed
}

// Listen is the passive OPEN: CLOSED to LISTEN.
func (c *Conn) Listen() error {
	if c.state != Closed {
		return ErrInvalidState
	}
	c.passive = true
	c.setState(Listen)
	return nil
}

// Connect is the active OPEN: CLOSED (or LISTEN) to SYN_SENT, queuing a
// SYN carrying our MSS (RFC 9293 §3.10.1).
func (c *Conn) Connect(now time.Time) error {
	c.tick(now)
	if c.state != Closed && c.state != Listen {
		return ErrInvalidState
	}
	c.passive = false
	c.openSend(c.iss)
	c.setState(SynSent)
	c.count(activeOpens)
	c.output(now)
	return nil
}

// openSend initialises the send sequence space for a new connection.
func (c *Conn) openSend(iss Seq) {
	c.iss = iss
	c.sndUna, c.sndNxt, c.sndMax = iss, iss, iss
	c.recoverSeq = iss // no recovery yet (see recovering)
	c.sendSeq = iss + 1
	c.push.reset(c.sendSeq)
	c.rtt.rto = c.cfg.initialRTO()
	c.retries = 0
}

// Write queues p for sending and returns how much of it fit in the send
// buffer. It may be called before the handshake completes; the data
// follows it.
func (c *Conn) Write(p []byte, now time.Time) (int, error) {
	c.tick(now)
	switch {
	case c.closed:
		return 0, ErrClosing
	case c.state == Closed && c.err != nil:
		return 0, c.err
	case c.state == Closed || c.state == Listen:
		return 0, ErrNotConnected
	case c.state > CloseWait: // FIN_WAIT_*, CLOSING, LAST_ACK, TIME_WAIT
		return 0, ErrClosing
	}
	n := min(len(p), c.Available())
	if n > 0 {
		// Before the data joins the queue: was the application the limit? (rate.go)
		c.checkAppLimited()
		c.push.wrote(c.sendSeq.Add(uint32(c.queued())), c.sendSeq, c.sndMax) // PSH on the last byte of the write before
		c.wroteMore()                                                        // WriteMore's data has no PSH (cork.go)
		c.queue(p[:n])
	}
	c.output(now)
	return n, nil
}

// Read copies received in-order data into p. It returns io.EOF once the
// peer's FIN has been reached and all data before it read.
func (c *Conn) Read(p []byte, now time.Time) (int, error) {
	c.tick(now)
	n := c.recv.data.read(p, c.cfg.ReleaseBuffer)
	if n > 0 {
		c.autoTune(now)
		c.maybeWindowUpdate(now)
		return n, nil
	}
	switch {
	case c.recv.finished():
		return 0, io.EOF
	case c.state == Closed && c.err != nil:
		return 0, c.err
	case c.state == Closed || c.state == Listen:
		return 0, ErrNotConnected
	}
	return 0, nil
}

// Close is the RFC's CLOSE (RFC 9293 §3.10.4): no more data will be sent;
// a FIN follows the queued data.
func (c *Conn) Close(now time.Time) error {
	c.tick(now)
	switch c.state {
	case Listen, SynSent:
		c.enterClosed(nil, 0)
		return nil
	case SynReceived, Established:
		c.queueFIN()
		c.setState(FinWait1)
	case CloseWait:
		c.queueFIN()
		c.setState(LastAck)
	case Closed:
		if c.err != nil {
			return c.err
		}
		return ErrNotConnected
	default:
		return ErrClosing
	}
	c.output(now)
	return nil
}

func (c *Conn) queueFIN() {
	c.closed = true
	c.finSeq = c.sendSeq.Add(uint32(c.queued()))
}

// Abort is the RFC's ABORT (RFC 9293 §3.10.5): in SYN_RCVD and the
// synchronized states that still have a peer to tell, queue
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>; go to CLOSED.
func (c *Conn) Abort(now time.Time) {
	switch c.state {
	case SynReceived, Established, FinWait1, FinWait2, CloseWait:
		// <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5), with an ACK of
		// RCV.NXT as Linux and gVisor send it: the ACK costs nothing,
		// for a RST is checked by its sequence number alone
		// (§3.10.7.4, RFC 5961 §3), and a script written against Linux
		// expects it.
		c.emit(Segment{Seq: c.sndMax, Flags: wire.FlagRST | wire.FlagACK})
	case Closed:
		return
	}
	c.enterClosed(ErrConnectionAborted, 0)
}
