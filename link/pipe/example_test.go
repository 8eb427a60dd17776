package pipe_test

import (
	"fmt"

	"github.com/seqack/seqack/link/pipe"
)

// What one end writes, the other end's receiver is given: the same
// buffer, not a copy. Stacks attach to the ends (stack.AddInterface);
// here the packet is a few bytes of text.
func ExampleNew() {
	a, b := pipe.New(1500)
	defer a.Close()
	defer b.Close()
	got := make(chan []byte)
	b.Attach(func(packet []byte) { got <- packet })
	a.WritePacket([]byte("an IP packet"))
	fmt.Printf("%s (MTU %d)\n", <-got, b.MTU())
	// Output: an IP packet (MTU 1500)
}
