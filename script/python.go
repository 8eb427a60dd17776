package script

// Python is an inline Python block %{ ... }% of assertions.
type Python struct {
	Text string
}

func (x *executor) python(ev *Event) {}
