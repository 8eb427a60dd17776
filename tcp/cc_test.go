package tcp

import (
	"testing"
	"time"
)

// Undo takes back a timeout's response (RFC 4015 §4) in the congestion
// controls that have it; one without it is given an Undo that does
// nothing, once, when the connection makes it.
func TestUndo(t *testing.T) {
	now := time.Unix(0, 0)
	for _, tt := range []struct {
		name    string
		cc      CongestionControl
		wrapped bool
		undone  bool // Undo restores the window
	}{
		{name: "NewReno", cc: NewNewReno(1000), undone: true},
		{name: "Cubic", cc: NewCubic(1000), undone: true},
		{name: "without Undo", cc: fixedWindow{NewNewReno(1000)}, wrapped: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := undoable(tt.cc)
			if _, ok := u.(noUndo); ok != tt.wrapped {
				t.Errorf("wrapped %v, want %v", ok, tt.wrapped)
			}
			before := u.Window()
			u.Timeout(20000, now)
			if u.Window() != 1000 {
				t.Fatalf("window after a timeout %d, want one segment", u.Window())
			}
			u.Undo()
			if got := u.Window() == before; got != tt.undone {
				t.Errorf("window after Undo %d (before the timeout %d): restored %v, want %v", u.Window(), before, got, tt.undone)
			}
		})
	}
}

// fixedWindow hides its CongestionControl's Undo.
type fixedWindow struct{ cc CongestionControl }

func (f fixedWindow) Window() int                                  { return f.cc.Window() }
func (f fixedWindow) SlowStartThreshold() int                      { return f.cc.SlowStartThreshold() }
func (f fixedWindow) Acked(n int, srtt time.Duration, t time.Time) { f.cc.Acked(n, srtt, t) }
func (f fixedWindow) Congestion(n int, t time.Time)                { f.cc.Congestion(n, t) }
func (f fixedWindow) Timeout(n int, t time.Time)                   { f.cc.Timeout(n, t) }
func (f fixedWindow) Restart(t time.Time)                          { f.cc.Restart(t) }
