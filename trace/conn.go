package trace

// ConnTrace is the part of a trace that concerns one connection.
type ConnTrace struct {
	// Conn is the connection, its first event's Host's end first: the
	// end that opened it, when its first segment was recorded. Zero for
	// a trace whose events name no connection (the simulator's).
	Conn Tuple
	// Events are the connection's events, and the events that name no
	// connection (notes about the run), in order.
	Events []Event
}

// SplitByConn splits a trace into one trace per connection, in the order
// of their first events, so that each can be drawn as a two-column
// diagram: a real stack's trace (Recorder) mixes every connection of the
// host, over IPv4 and IPv6 alike. Events with no connection (Conn zero:
// notes, or a whole trace from the simulator) go into every connection's
// trace; a trace in which no event names a connection is returned whole,
// as the only one.
func SplitByConn(events []Event) []ConnTrace {
	var out []ConnTrace
	index := map[Tuple]int{} // by the tuple as Host saw it, both ways round
	for _, e := range events {
		if !e.Conn.IsValid() {
			continue
		}
		if _, ok := index[e.Conn]; !ok {
			index[e.Conn] = len(out)
			index[e.Conn.Reverse()] = len(out)
			out = append(out, ConnTrace{Conn: e.Conn})
		}
	}
	if len(out) == 0 {
		return []ConnTrace{{Events: events}}
	}
	for _, e := range events {
		if !e.Conn.IsValid() {
			for i := range out {
				out[i].Events = append(out[i].Events, e)
			}
			continue
		}
		i := index[e.Conn]
		out[i].Events = append(out[i].Events, e)
	}
	return out
}
