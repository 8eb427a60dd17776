package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
)

// seqack forward as a transparent proxy between two namespaces the test
// makes: curl and a UDP client in "client" send to 203.0.113.5 and
// 2001:db8:1::5, which the client namespace routes into the TUN device;
// seqack forward, running in "server" with the device moved into
// "client", relays each flow with its own sockets to the servers the test
// runs in "server" on those addresses.
func TestForwardCommand(t *testing.T) {
	netns.Require(t, "curl")
	client, server := netns.New(t), netns.New(t)
	server.Run(t, "ip", "addr", "add", "203.0.113.5/32", "dev", "lo")
	server.Run(t, "ip", "addr", "add", "2001:db8:1::5/128", "dev", "lo", "nodad")

	var ln net.Listener
	kernelDo(t, server, func() (err error) { ln, err = net.Listen("tcp", ":8080"); return err })
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.Host)
	}))
	var pc net.PacketConn
	kernelDo(t, server, func() (err error) { pc, err = net.ListenPacket("udp", ":5353"); return err })
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()

	p := startSeqack(t, server, nil, "forward", "-v", "--tun", "sq0")
	p.waitFor(t, "forwarding every TCP connection")
	server.Run(t, "ip", "link", "set", "sq0", "netns", client.Name)
	client.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "sq0")
	client.Run(t, "ip", "addr", "add", "2001:db8::1/64", "dev", "sq0", "nodad")
	client.Run(t, "ip", "link", "set", "sq0", "up")
	client.Run(t, "ip", "route", "add", "203.0.113.0/24", "dev", "sq0")
	client.Run(t, "ip", "route", "add", "2001:db8:1::/64", "dev", "sq0")

	for _, host := range []string{"203.0.113.5:8080", "[2001:db8:1::5]:8080"} {
		out, err := client.Output("curl", "-sS", "-g", "--max-time", "10", "http://"+host+"/")
		if err != nil || out != "hello from "+host {
			t.Errorf("curl %s: %q, %v\n%s", host, out, err, p.errText())
		}
	}
	// Nobody listens on 8081: the kernel refuses seqack's dial, and seqack
	// refuses curl's connection: curl's "couldn't connect" (exit 7), not
	// its timeout (28).
	if _, err := client.Output("curl", "-sS", "--max-time", "10", "http://203.0.113.5:8081/"); err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Errorf("curl to a closed port: %v, want connection refused", err)
	}
	for _, addr := range []string{"203.0.113.5:5353", "[2001:db8:1::5]:5353"} {
		kernelDo(t, client, func() error {
			c, err := net.Dial("udp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			for _, msg := range []string{"one", "two"} {
				c.Write([]byte(msg))
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 100)
				n, err := c.Read(buf)
				if err != nil {
					return fmt.Errorf("UDP to %s: %w\n%s", addr, err, p.errText())
				}
				if got := string(buf[:n]); got != "echo "+msg {
					return errors.New("UDP to " + addr + ": got " + got)
				}
			}
			return nil
		})
	}
	for _, want := range []string{"tcp 192.0.2.1:", "-> 203.0.113.5:8080", "-> [2001:db8:1::5]:8080", "udp [2001:db8::1]:"} {
		if !strings.Contains(p.errText(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.errText())
		}
	}
}

// seqack forward --mark in one namespace with the programs it relays for:
// the namespace routes 203.0.113.5 into the TUN device, and packets
// marked 7 (seqack's upstream sockets) by a table of their own over a
// veth pair to the server's namespace. Without the mark, seqack's dial
// would go back into its own device.
func TestForwardCommandMark(t *testing.T) {
	netns.Require(t, "curl", "sysctl")
	client, server := netns.New(t), netns.New(t)
	client.Run(t, "ip", "link", "add", "vc", "type", "veth", "peer", "name", "vs")
	client.Run(t, "ip", "link", "set", "vs", "netns", server.Name)
	client.Run(t, "ip", "addr", "add", "203.0.113.1/24", "dev", "vc")
	client.Run(t, "ip", "link", "set", "vc", "up")
	server.Run(t, "ip", "addr", "add", "203.0.113.5/24", "dev", "vs")
	server.Run(t, "ip", "link", "set", "vs", "up")
	// Replies to seqack's sockets come in over vc, though the main table
	// routes their source into the TUN device: strict reverse-path
	// filtering would drop them.
	client.Run(t, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.vc.rp_filter=0")

	var ln net.Listener
	kernelDo(t, server, func() (err error) { ln, err = net.Listen("tcp", "203.0.113.5:8080"); return err })
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s to %s", r.Host, r.RemoteAddr[:strings.LastIndex(r.RemoteAddr, ":")])
	}))

	p := startSeqack(t, client, nil, "forward", "-v", "--mark", "7", "--tun", "sq0", "--kernel-addr", "192.0.2.1/24")
	p.waitFor(t, "forwarding every TCP connection")
	client.Run(t, "ip", "route", "add", "203.0.113.5/32", "dev", "sq0")
	client.Run(t, "ip", "route", "add", "203.0.113.0/24", "dev", "vc", "table", "100")
	client.Run(t, "ip", "rule", "add", "fwmark", "7", "lookup", "100", "priority", "100")

	out, err := client.Output("curl", "-sS", "--max-time", "10", "http://203.0.113.5:8080/")
	// The server sees seqack's socket, from the veth's address, not curl's.
	if want := "hello from 203.0.113.5:8080 to 203.0.113.1"; err != nil || out != want {
		t.Errorf("curl: %q, %v; want %q\n%s", out, err, want, p.errText())
	}
	if !strings.Contains(p.errText(), "tcp 192.0.2.1:") {
		t.Errorf("seqack did not relay curl's connection:\n%s", p.errText())
	}
}
