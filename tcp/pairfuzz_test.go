package tcp

import (
	"bytes"
	"testing"
	"time"

	"github.com/seqack/seqack/wire"
)

// FuzzPair runs two connections against each other through a link the
// fuzzer controls: each input byte delivers, drops, duplicates or
// reorders a segment in flight, mutates its ACK, window or options,
// advances the clock to the next timer, or has an application write,
// read or close. Whatever happens, neither control block breaks an
// invariant, nothing panics, and what each side reads is exactly a
// prefix of what the other wrote: segments may be lost, repeated or
// reordered, but their bytes are never mixed up.
func FuzzPair(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 9, 0, 1, 10, 0, 1, 11, 0, 1})
	f.Add([]byte{9, 9, 0, 2, 1, 3, 0, 4, 1, 5, 6, 7, 8, 0, 1, 12, 0, 1, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		cfg := &Config{ReceiveBufferSize: 8192, SendBufferSize: 8192, MSS: 536, MSL: time.Second,
			SACK: len(data) > 0 && data[0]&1 != 0, Timestamps: len(data) > 0 && data[0]&2 != 0}
		a, b := NewConn(cfg, 0xfffff000), NewConn(cfg, 7)
		b.Listen()
		a.Connect(now)
		var toB, toA []Segment
		var wroteA, wroteB, readA, readB []byte
		collect := func() {
			for _, s := range a.Outgoing() {
				s.Payload = append([]byte(nil), s.Payload...)
				toB = append(toB, s)
			}
			for _, s := range b.Outgoing() {
				s.Payload = append([]byte(nil), s.Payload...)
				toA = append(toA, s)
			}
		}
		collect()
		buf := make([]byte, 3000)
		counter := byte(0)
		for i, op := range data {
			pick := func(q *[]Segment) *Segment {
				if len(*q) == 0 {
					return nil
				}
				return &(*q)[int(op>>4)%len(*q)]
			}
			switch op % 13 {
			case 0, 1: // deliver the oldest segment one way or the other
				q, to := &toB, b
				if op%13 == 1 {
					q, to = &toA, a
				}
				if len(*q) > 0 {
					s := (*q)[0]
					*q = (*q)[1:]
					to.Input(&s, now)
				}
			case 2: // drop
				if len(toB) > 0 {
					toB = toB[1:]
				}
			case 3: // duplicate
				if s := pick(&toA); s != nil {
					toA = append(toA, *s)
				}
			case 4: // reorder
				if len(toB) > 1 {
					toB[0], toB[len(toB)-1] = toB[len(toB)-1], toB[0]
				}
			case 5: // mutate an ACK, a window or the options: never the data
				if s := pick(&toB); s != nil {
					s.Ack += Seq(int8(op))
					s.Window ^= uint16(op) << 3
					if op&0x80 != 0 {
						s.Options.NumSACK = 1
						s.Options.SACK[0] = wire.SACKBlock{Left: uint32(s.Ack) + 100, Right: uint32(s.Ack) + 100 + uint32(op)}
					}
				}
			case 6: // a flag flipped: RST, SYN or FIN on a segment without data
				if s := pick(&toA); s != nil && len(s.Payload) == 0 {
					s.Flags ^= []wire.TCPFlags{wire.FlagRST, wire.FlagSYN, wire.FlagFIN}[int(op>>4)%3]
				}
			case 7: // time passes to the next deadline
				d := earliestDeadline(a, b)
				if d.IsZero() {
					d = now.Add(time.Duration(op) * time.Millisecond)
				}
				now = d
				a.HandleTimer(now)
				b.HandleTimer(now)
			case 8: // write
				w := bytes.Repeat([]byte{counter}, int(op)%700+1)
				counter++
				if n, _ := a.Write(w, now); n > 0 {
					wroteA = append(wroteA, w[:n]...)
				}
				if n, _ := b.Write(w, now); n > 0 {
					wroteB = append(wroteB, w[:n]...)
				}
			case 9, 10: // read
				n, _ := b.Read(buf, now)
				readB = append(readB, buf[:n]...)
				n, _ = a.Read(buf, now)
				readA = append(readA, buf[:n]...)
			case 11:
				a.Close(now)
			case 12:
				b.Close(now)
			}
			collect()
			for _, c := range []*Conn{a, b} {
				if err := c.checkInvariants(); err != nil {
					t.Fatalf("after op %d (%d) in %v: %v", i, op%13, c.state, err)
				}
			}
			if !bytes.HasPrefix(wroteA, readB) || !bytes.HasPrefix(wroteB, readA) {
				t.Fatalf("after op %d: data read is not what was written", i)
			}
		}
	})
}

func earliestDeadline(a, b *Conn) time.Time {
	da, db := a.Deadline(), b.Deadline()
	if da.IsZero() || (!db.IsZero() && db.Before(da)) {
		return db
	}
	return da
}
