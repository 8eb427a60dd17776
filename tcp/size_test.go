package tcp

import (
	"testing"
	"unsafe"
)

// The control block is the bulk of an idle connection's memory (under
// 1 KiB per connection end with the stack's share): it must stay within
// the 640-byte allocation class. Go puts an 8-byte header before objects
// of more than 512 bytes that hold pointers, so 632 bytes is the most it
// may take; one field more moves every connection to the 704-byte class.
func TestConnSizeClass(t *testing.T) {
	const class, header = 640, 8
	if size := unsafe.Sizeof(Conn{}); size+header > class {
		t.Errorf("Conn is %d bytes, %d with the allocation header: over the %d-byte class", size, size+header, class)
	}
}
