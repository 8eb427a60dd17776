package tcp

import (
	"slices"
	"testing"
)

// fifo on its own: each case pushes and takes from the front, and the
// queue must hold what is left, oldest first.
func TestFifo(t *testing.T) {
	tests := []struct {
		name string
		ops  []int // n > 0: push n; n < 0: drop -n; 0: pop one
		want []int
	}{
		{name: "empty"},
		{name: "push", ops: []int{1, 2, 3}, want: []int{1, 2, 3}},
		{name: "pop", ops: []int{1, 2, 0}, want: []int{2}},
		{name: "drop", ops: []int{1, 2, 3, -2}, want: []int{3}},
		{name: "drop all", ops: []int{1, 2, -2}},
		{name: "pop then push", ops: []int{1, 0, 2}, want: []int{2}},
		{name: "reuse after drop", ops: []int{1, 2, 3, 4, -3, 5, 6}, want: []int{4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fifo[int]
			for _, op := range tt.ops {
				switch {
				case op > 0:
					f.push(op)
				case op < 0:
					f.drop(-op)
				default:
					f.pop()
				}
			}
			if got := f.all(); !slices.Equal(got, tt.want) || f.len() != len(tt.want) {
				t.Errorf("got %v (len %d), want %v", got, f.len(), tt.want)
			}
			if len(tt.want) > 0 && (*f.front() != tt.want[0] || *f.back() != tt.want[len(tt.want)-1]) {
				t.Errorf("front %d back %d, want %d %d", *f.front(), *f.back(), tt.want[0], tt.want[len(tt.want)-1])
			}
		})
	}
}

// A fifo whose items keep moving reuses its array: pushing after
// dropping allocates nothing once the array is large enough.
func TestFifoSteadyStateAllocates(t *testing.T) {
	var f fifo[sentSeg]
	for range 64 {
		f.push(sentSeg{})
	}
	f.drop(64)
	if n := testing.AllocsPerRun(100, func() {
		for range 32 {
			f.push(sentSeg{})
		}
		f.drop(16)
		f.drop(16)
	}); n != 0 {
		t.Errorf("%.1f allocations per run, want 0", n)
	}
}
