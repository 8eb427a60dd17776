package tcp

// Seq is a TCP sequence number. Arithmetic and comparison are modulo 2^32
// (RFC 9293 §3.4): a is "before" b when the signed distance from a to b is
// positive, which is meaningful while the two are less than 2^31 apart.
type Seq uint32

// Add returns s advanced by n bytes.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// Sub returns the number of bytes from t to s (s - t modulo 2^32).
func (s Seq) Sub(t Seq) uint32 { return uint32(s - t) }

// LessThan reports whether s comes before t.
func (s Seq) LessThan(t Seq) bool { return int32(s-t) < 0 }

// LessThanEq reports whether s comes before t or equals it.
func (s Seq) LessThanEq(t Seq) bool { return int32(s-t) <= 0 }

// GreaterThan reports whether s comes after t.
func (s Seq) GreaterThan(t Seq) bool { return int32(s-t) > 0 }

// GreaterThanEq reports whether s comes after t or equals it.
func (s Seq) GreaterThanEq(t Seq) bool { return int32(s-t) >= 0 }

// InRange reports whether lo <= s < hi, modulo 2^32.
func (s Seq) InRange(lo, hi Seq) bool { return s.Sub(lo) < hi.Sub(lo) }

// InWindow reports whether s lies in the window of size n starting at lo:
// lo <= s < lo+n.
func (s Seq) InWindow(lo Seq, n uint32) bool { return s.Sub(lo) < n }
