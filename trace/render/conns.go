package render

import (
	"errors"
	"fmt"

	"github.com/seqack/seqack/trace"
)

// ErrManyConnections is returned when the events are those of more than
// one connection, as a real stack's trace is (each event names its
// connection, trace.Event.Conn): a two-column diagram draws one, and
// merging several would mix their states and number each one's segments
// from another's initial sequence number. trace.SplitByConn gives each
// connection its own events.
var ErrManyConnections = errors.New("render: events of more than one connection")

// oneConnection returns ErrManyConnections, naming two of them, if the
// events name more than one connection.
func oneConnection(events []trace.Event) error {
	var first trace.Tuple
	for _, e := range events {
		switch {
		case !e.Conn.IsValid() || e.Conn.Same(first):
		case !first.IsValid():
			first = e.Conn
		default:
			return fmt.Errorf("%w: %v and %v (draw each on its own: trace.SplitByConn)", ErrManyConnections, first, e.Conn)
		}
	}
	return nil
}
