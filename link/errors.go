package link

import "errors"

// Errors an Endpoint returns.
var (
	ErrClosed    = errors.New("link: endpoint closed")
	ErrTooBig    = errors.New("link: packet larger than the MTU")
	ErrQueueFull = errors.New("link: transmit queue full")
)
