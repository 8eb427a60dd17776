package tcp

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/wire"
)

// FuzzInput drives a Conn with arbitrary segments, application calls and
// time steps, after putting it in a state chosen by the first byte. After
// every step the control block's invariants must hold, the right edge of
// the receive window must not have moved left, no RST may answer a RST,
// and nothing may panic; and when the input ends and the peer falls
// silent, the connection closes, or comes to rest owing nothing, within
// its Config's LivenessBound.
func FuzzInput(f *testing.F) {
	f.Add([]byte{4, 0, 0x10, 0, 0, 0, 1, 0, 0, 3, 0xe9, 0xff, 0xff, 100})
	f.Add([]byte{1, 0, 0x02, 0, 0, 0x13, 0x88, 0, 0, 0, 0, 0xff, 0xff, 0})
	f.Add([]byte{5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 4, 0x11, 0, 0, 0, 0, 0, 0, 3, 0xea, 0, 0, 0})
	f.Add([]byte{10, 0, 0x04, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, data []byte) {
	{
		if len(data) == 0 {
			return
		}
		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		cfg := PlainConfig()
		cfg.ReceiveBufferSize, cfg.SendBufferSize, cfg.MSS, cfg.MSL = 4096, 4096, 536, time.Second
		if data[0] >= 128 { // a buffer that needs window scaling
			cfg.ReceiveBufferSize = 300000
		}
		if data[0]&0x40 != 0 {
			cfg.NoSACK = false
			cfg.CongestionControl = NewNewReno
			cfg.NoRACK = data[0]&0x10 == 0
		}
		if data[0]&0x20 != 0 {
			cfg.NoTimestamps, cfg.Nagle = false, false
		}
		given, released := 0, 0
		cfg.ReleaseBuffer = func(b []byte) {
			if released++; released > given || cap(b) < 40 {
				t.Fatalf("released %d buffers of %d given, this one of %d bytes", released, given, cap(b))
			}
		}
		c := NewConn(cfg, 1000)
		open(c, data[0]%11, now)
		c.Outgoing()
		data = data[1:]
		lastRight := c.rcvRight
		buf := make([]byte, 600)
	ops:
		for len(data) > 0 {
			op := data[0]
			data = data[1:]
			var rstIn bool
			switch op % 8 {
			case 0, 1, 2, 3: // a segment: flags, seq and ack as offsets, window, length
				if len(data) < 12 {
					break ops
				}
				seg := Segment{Flags: wire.TCPFlags(data[0])}
				seqOff := int32(binary.BigEndian.Uint32(data[1:]))
				ackOff := int32(binary.BigEndian.Uint32(data[5:]))
				if op%8 == 3 { // raw numbers anywhere in the space
					seg.Seq, seg.Ack = Seq(seqOff), Seq(ackOff)
				} else { // near the live window, where bugs hide
					seg.Seq = c.rcvNxt + Seq(seqOff%70000)
					seg.Ack = c.sndUna + Seq(ackOff%70000)
				}
				seg.Window = binary.BigEndian.Uint16(data[9:])
				seg.Payload = make([]byte, int(data[11])*8)
				if data[10]&0x80 != 0 { // in a packet buffer the engine may keep
					packet := make([]byte, 40+len(seg.Payload), 40+len(seg.Payload)+int(data[9])*8)
					seg.Payload, seg.Buffer = packet[40:], packet
					given++
				}
				if seg.Flags.Has(wire.FlagSYN) && data[11]%2 == 0 {
					seg.Options.MSS, seg.Options.HasMSS = uint16(data[11]), true
				}
				if seg.Flags.Has(wire.FlagSYN) && data[10]%3 == 0 {
					seg.Options.WindowScale, seg.Options.HasWindowScale = data[10]%16, true
				}
				if seg.Flags.Has(wire.FlagSYN) && data[10]%2 == 0 {
					seg.Options.SACKPermitted = true
				}
				if data[10]&0x40 != 0 { // timestamps near the ones in use
					seg.Options.HasTimestamps = true
					seg.Options.TSVal = c.tsRecent + uint32(int8(data[9]))
					seg.Options.TSEcr = c.tsVal - uint32(data[11])
				}
				if !seg.Flags.Has(wire.FlagSYN) && data[10]&0x30 != 0 { // SACK blocks near what we sent
					n := int(data[10]>>4) & 3
					for i := 0; i < n; i++ {
						left := c.sndUna + Seq(int(data[9+i%2])*37)
						seg.Options.SACK[i] = wire.SACKBlock{Left: uint32(left), Right: uint32(left + Seq(data[11])*11)}
					}
					seg.Options.NumSACK = n
				}
				data = data[12:]
				rstIn = seg.Flags.Has(wire.FlagRST)
				c.Input(&seg, now)
			case 4:
				c.Write(buf[:int(op)%len(buf)], now)
			case 5:
				switch op >> 5 {
				case 0, 1, 2, 3:
					c.Read(buf, now)
				case 4: // an ICMP error or packet too big quoting a nearby sequence number
					c.ICMPError(errFuzzICMP, op&1 != 0, c.sndUna+Seq(op&3), now)
				case 5:
					c.PacketTooBig(uint16(op)*4, c.sndUna+Seq(op&3), now)
				case 6:
					c.SetKeepalive(&Keepalive{Idle: time.Second, Interval: time.Second, Count: 2}, now)
				case 7:
					c.SetBufferSizes(int(op)*100, int(op)*100)
				}
			case 6:
				if op&0x80 != 0 {
					c.Abort(now)
				} else {
					c.Close(now)
				}
			case 7:
				if d := c.Deadline(); !d.IsZero() {
					now = d
				} else {
					now = now.Add(time.Duration(op) * time.Millisecond)
				}
				c.HandleTimer(now)
			}
			for _, out := range c.Outgoing() {
				if rstIn && out.Flags.Has(wire.FlagRST) {
					t.Fatalf("sent %v in reply to a RST", out)
				}
			}
			if err := c.checkInvariants(); err != nil {
				t.Fatalf("after op %d in %v: %v", op%8, c.state, err)
			}
			if c.state.Synchronized() && c.state != TimeWait && lastRight.GreaterThan(c.rcvRight) && c.irs != 0 {
				t.Fatalf("receive window's right edge moved left: %d → %d", lastRight, c.rcvRight)
			}
			lastRight = c.rcvRight
		}
		// Liveness: the peer falls silent; the connection closes, or
		// comes to rest owing nothing, within its bound.
		silence(t, now, c)
	}
}

var errFuzzICMP = errors.New("fuzz: ICMP error")

// open brings c into state s through the public API.
func open(c *Conn, s byte, now time.Time) {
	syn := func(seq Seq, flags wire.TCPFlags, ack Seq) *Segment {
		seg := &Segment{Seq: seq, Ack: ack, Flags: flags, Window: 4096}
		seg.Options.MSS, seg.Options.HasMSS = 536, true
		return seg
	}
	seg := func(flags wire.TCPFlags, seq, ack Seq) *Segment {
		return &Segment{Seq: seq, Ack: ack, Flags: flags, Window: 4096}
	}
	switch State(s) {
	case Closed:
		return
	case Listen:
		c.Listen()
		return
	case SynReceived:
		c.Listen()
		c.Input(syn(5000, wire.FlagSYN, 0), now)
		return
	}
	c.Connect(now)
	if State(s) == SynSent {
		return
	}
	c.Input(syn(5000, wire.FlagSYN|wire.FlagACK, 1001), now)
	A, F := wire.FlagACK, wire.FlagFIN|wire.FlagACK
	switch State(s) {
	case FinWait1:
		c.Close(now)
	case FinWait2:
		c.Close(now)
		c.Input(seg(A, 5001, 1002), now)
	case CloseWait:
		c.Input(seg(F, 5001, 1001), now)
	case LastAck:
		c.Input(seg(F, 5001, 1001), now)
		c.Close(now)
	case Closing:
		c.Close(now)
		c.Input(seg(F, 5001, 1001), now)
	case TimeWait:
		c.Close(now)
		c.Input(seg(F, 5001, 1002), now)
	}
}
