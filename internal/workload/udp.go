package workload

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// datagramWindow and datagramCredit: in Datagrams the sender may be
// datagramWindow datagrams ahead of the reader, which hands back credit
// every datagramCredit datagrams, so that no receive queue overflows
// and what is measured is the path, not drops.
const datagramWindow, datagramCredit = 64, 16

// Datagrams sends UDP datagrams of size bytes for d on a connected
// socket to a socket at n.Addr's host, and returns the datagrams
// received per second. UDP may drop, but with the sender held to a
// window of unread datagrams neither a pipe nor loopback does: a
// datagram missing for Timeout is an error, as a stack that loses them
// is broken.
func Datagrams(n Net, size int, d time.Duration) (perSec float64, err error) {
	if n.ListenPacket == nil {
		return 0, errors.New("datagrams: the net has no UDP")
	}
	host, _, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return 0, fmt.Errorf("datagrams: %w", err)
	}
	pc, err := n.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("datagrams: %w", err)
	}
	defer pc.Close()
	c, err := n.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		return 0, fmt.Errorf("datagrams: %w", err)
	}
	defer c.Close()

	credits := make(chan struct{}, datagramWindow/datagramCredit)
	for range cap(credits) {
		credits <- struct{}{}
	}
	var got atomic.Int64
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, size+1)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				readErr <- err
				return
			}
			if got.Add(1)%datagramCredit == 0 {
				select {
				case credits <- struct{}{}:
				default:
				}
			}
		}
	}()
	stopReader := func() error {
		pc.SetReadDeadline(time.Unix(1, 0))
		return <-readErr
	}
	data := make([]byte, size)
	stall := time.NewTimer(Timeout)
	defer stall.Stop()
	start := time.Now()
	end := start.Add(d)
	var count int64
	for count%datagramCredit != 0 || time.Now().Before(end) {
		if count%datagramCredit == 0 {
			stall.Reset(Timeout)
			select {
			case <-credits:
			case <-stall.C:
				stopReader()
				return 0, fmt.Errorf("datagrams: %d of %d received after %v", got.Load(), count, Timeout)
			}
		}
		if _, err := c.Write(data); err != nil {
			stopReader()
			return 0, fmt.Errorf("datagrams: write: %w", err)
		}
		count++
	}
	// The last datagrams are still on their way: wait for them.
	for deadline := time.Now().Add(Timeout); got.Load() < count; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			stopReader()
			return 0, fmt.Errorf("datagrams: %d of %d received after %v", got.Load(), count, Timeout)
		}
	}
	elapsed := time.Since(start)
	if err := stopReader(); !errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, fmt.Errorf("datagrams: read: %w", err)
	}
	return float64(count) / elapsed.Seconds(), nil
}
