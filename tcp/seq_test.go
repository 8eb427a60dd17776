package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

func TestSeqComparisonsAcrossTheWrap(t *testing.T) {
	const top = tcp.Seq(0xffffff00)
	for _, c := range []struct {
		a, b           tcp.Seq
		less, lessOrEq bool
	}{
		{1, 2, true, true},
		{2, 1, false, false},
		{5, 5, false, true},
		{top, 10, true, true}, // 10 is 266 bytes after top, past the wrap
		{10, top, false, false},
		{0xffffffff, 0, true, true},
		{0, 0xffffffff, false, false},
		{0, 0x7fffffff, true, true}, // just under half the space apart
		{0x7fffffff, 0, false, false},
	} {
		if got := c.a.LessThan(c.b); got != c.less {
			t.Errorf("%d.LessThan(%d) = %v", c.a, c.b, got)
		}
		if got := c.a.LessThanEq(c.b); got != c.lessOrEq {
			t.Errorf("%d.LessThanEq(%d) = %v", c.a, c.b, got)
		}
		if got := c.b.GreaterThan(c.a); got != c.less {
			t.Errorf("%d.GreaterThan(%d) = %v", c.b, c.a, got)
		}
		if got := c.b.GreaterThanEq(c.a); got != c.lessOrEq {
			t.Errorf("%d.GreaterThanEq(%d) = %v", c.b, c.a, got)
		}
	}
	if got := top.Add(0x200); got != 0x100 {
		t.Errorf("Add across the wrap = %#x", got)
	}
	if got := tcp.Seq(0x100).Sub(top); got != 0x200 {
		t.Errorf("Sub across the wrap = %#x", got)
	}
	if !tcp.Seq(5).InRange(top, 10) || tcp.Seq(10).InRange(top, 10) || !top.InRange(top, 10) {
		t.Error("InRange across the wrap")
	}
	if !tcp.Seq(5).InWindow(top, 0x200) || tcp.Seq(0x100).InWindow(top, 0x200) {
		t.Error("InWindow across the wrap")
	}
}
