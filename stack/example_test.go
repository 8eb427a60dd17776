package stack_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// Two stacks joined in memory: one listens, the other dials, and the
// connection is an ordinary net.Conn.
func ExampleStack_Dial() {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	defer client.Close()
	defer server.Close()
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))

	ln, _ := server.Listen("tcp", ":80")
	go func() {
		c, _ := ln.Accept()
		c.Write([]byte("hello from seqack\n"))
		c.Close()
	}()

	conn, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := io.ReadAll(conn)
	fmt.Print(string(msg))
	conn.Close()
	// Output: hello from seqack
}

// HTTPS between two stacks joined in memory, as the README shows it:
// net/http and crypto/tls run over seqack unchanged.
func ExampleStack_DialContext() {
	serverTLS, clientTLS := tlsConfigs("192.0.2.2")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s\n", r.Proto)
	})

	a, b := pipe.New(65535)
	server := stack.New(stack.Options{})
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
	client := stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	defer client.Close()
	defer server.Close()

	ln, _ := server.Listen("tcp", ":443") // "tcp" with no host: IPv4 and IPv6
	go http.Serve(tls.NewListener(ln, serverTLS), handler)
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext, TLSClientConfig: clientTLS}}
	resp, err := hc.Get("https://192.0.2.2/")

	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, ": ", string(body))
	// Output: 200 OK: hello over HTTP/1.1
}

// tlsConfigs returns a server configuration with a certificate for the
// IP address host, made on the spot, and a client configuration that
// trusts it.
func tlsConfigs(host string) (server, client *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP(host)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return server, &tls.Config{RootCAs: roots}
}

// Options.TCP is the tcp.Config every connection runs, as it is: its
// zero value is the modern default, and each field set changes that one
// thing. What the SYN offers shows it (sequence number and timestamp
// value zeroed here, being random).
func ExampleOptions() {
	for _, s := range []*stack.Stack{
		stack.New(stack.Options{}),                                           // the defaults
		stack.New(stack.Options{TCP: &tcp.Config{NoRACK: true}}),             // RACK-TLP off; everything else as by default
		stack.New(stack.Options{TCP: &tcp.Config{NoSACK: true}}),             // no SACK
		stack.New(stack.Options{TCP: &tcp.Config{NoTimestamps: true}}),       // no timestamps
		stack.New(stack.Options{TCP: &tcp.Config{MaxReceiveBufferSize: -1}}), // no auto-tuning: 256 KiB needs a smaller scale
		stack.New(stack.Options{TCP: &tcp.Config{Nagle: true}}),              // Nagle's algorithm on: the SYN is the default one
		stack.New(stack.Options{TCP: tcp.PlainConfig()}),                     // RFC 9293's plain connection
	} {
		fmt.Println(firstSYN(s))
		s.Close()
	}
	// Output:
	// S 0:0(0) win 65535 <mss 1460,sackOK,TS val 0 ecr 0,wscale 7>
	// S 0:0(0) win 65535 <mss 1460,sackOK,TS val 0 ecr 0,wscale 7>
	// S 0:0(0) win 65535 <mss 1460,TS val 0 ecr 0,wscale 7>
	// S 0:0(0) win 65535 <mss 1460,sackOK,wscale 7>
	// S 0:0(0) win 65535 <mss 1460,sackOK,TS val 0 ecr 0,wscale 3>
	// S 0:0(0) win 65535 <mss 1460,sackOK,TS val 0 ecr 0,wscale 7>
	// S 0:0(0) win 65535 <mss 1460>
}

// firstSYN connects client to a server over a pipe of MTU 1500 and
// returns the SYN it sent, as the server saw it arrive (Options.Trace).
func firstSYN(client *stack.Stack) string {
	syns := make(chan tcp.Segment, 1)
	server := stack.New(stack.Options{Trace: func(e trace.Event) {
		if e.Kind == trace.SegmentDelivered && e.Segment.Flags == wire.FlagSYN {
			select {
			case syns <- e.Segment:
			default:
			}
		}
	}})
	defer server.Close()
	a, b := pipe.New(1500)
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	ln, _ := server.Listen("tcp", ":80")
	defer ln.Close()
	if c, err := client.Dial("tcp", "192.0.2.2:80"); err == nil {
		c.Close()
	}
	syn := <-syns
	syn.Seq, syn.Options.TSVal = 0, 0
	return syn.String()
}
