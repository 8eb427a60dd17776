package stack_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/seqack/seqack/link"
)

// TestNetConn runs x/net's conformance suite for net.Conn
// implementations over a seqack client and server joined by a pipe.
func TestNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		client, server := twoStacks(t, 1500)
		ln, err := server.Listen("tcp", ":9")
		if err != nil {
			return nil, nil, nil, err
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		c1, err = client.Dial("tcp", "192.0.2.2:9")
		if err != nil {
			return nil, nil, nil, err
		}
		c2 = <-accepted
		stop = func() {
			c1.Close()
			c2.Close()
			ln.Close()
			client.Close()
			server.Close()
		}
		return c1, c2, stop, nil
	})
}

// selfSigned returns a TLS certificate for 192.0.2.2 and a pool trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "seqack test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("192.0.2.2")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestHTTPSOverTLS serves HTTPS from one stack and fetches it from the
// other with crypto/tls and net/http unchanged.
func TestHTTPSOverTLS(t *testing.T) {
	client, server := twoStacks(t, 1500)
	cert, pool := selfSigned(t)
	ln, err := server.Listen("tcp", "192.0.2.2:443")
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 300<<10)
	rand.Read(body)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })}
	go srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{
		DialContext:     client.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	defer hc.CloseIdleConnections()
	for range 3 { // the second and third reuse the connection
		resp, err := hc.Get("https://192.0.2.2/")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got) != sha256.Sum256(body) || resp.TLS == nil {
			t.Fatalf("got %d bytes (tls %v), want the %d sent", len(got), resp.TLS != nil, len(body))
		}
	}
}

// TestBothWaysAtOnce sends a large transfer in each direction at the same
// time over one connection and checks both with SHA-256. It is 256 MiB
// each way normally and 16 MiB with -short.
func TestBothWaysAtOnce(t *testing.T) {
	size := 256 << 20
	if testing.Short() {
		size = 16 << 20
	}
	// Checksums are offloaded here (memory cannot damage packets); the
	// other tests keep them.
	client, server := joinedStacks(t, 65535, true)
	sharedBefore := link.SharedBuffersInUse()
	a, b := dialPair(t, client, server, 5001)
	deadline := time.Now().Add(5 * time.Minute)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)

	var wg sync.WaitGroup
	sums := make([][32]byte, 4) // sent by a, received by b, sent by b, received by a
	errs := make([]error, 4)
	send := func(i int, c net.Conn, seed uint64) {
		defer wg.Done()
		h := sha256.New()
		buf := make([]byte, 64<<10)
		x := seed
		for sent := 0; sent < size; sent += len(buf) {
			for j := range buf { // cheap, reproducible bytes
				x = x*6364136223846793005 + 1442695040888963407
				buf[j] = byte(x >> 56)
			}
			h.Write(buf)
			if _, err := c.Write(buf); err != nil {
				errs[i] = err
				return
			}
		}
		copy(sums[i][:], h.Sum(nil))
		errs[i] = c.(interface{ CloseWrite() error }).CloseWrite()
	}
	recv := func(i int, c net.Conn) {
		defer wg.Done()
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err == nil && n != int64(size) {
			err = io.ErrUnexpectedEOF
		}
		errs[i] = err
		copy(sums[i][:], h.Sum(nil))
	}
	wg.Add(4)
	go send(0, a, 1)
	go recv(1, b)
	go send(2, b, 2)
	go recv(3, a)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}
	if sums[0] != sums[1] || sums[2] != sums[3] {
		t.Fatal("SHA-256 of the bytes received differs from the bytes sent")
	}
	// Every packet fitted the link (options counted against the MSS).
	if n := client.Stats().SendErrors.Load() + server.Stats().SendErrors.Load(); n != 0 {
		t.Errorf("%d packets could not be sent", n)
	}
	// Segments this large leave without a copy, from the send queue's
	// buffers (tcp.Segment.Frame); a full one is 64 KiB less headers.
	if framed, min := client.Stats().PacketsFramed.Load()+server.Stats().PacketsFramed.Load(), uint64(2*size/(64<<10)*9/10); framed < min {
		t.Errorf("%d packets framed in place, want at least %d (90%% of the data packets)", framed, min)
	}
	a.Close()
	b.Close()
	// Every shared buffer goes back once both ends are done with it.
	for deadline := time.Now().Add(10 * time.Second); link.SharedBuffersInUse() > sharedBefore; {
		if time.Now().After(deadline) {
			t.Fatalf("%d shared buffers still held after both ends closed, want %d", link.SharedBuffersInUse(), sharedBefore)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestManyConnections holds thousands of connections open at once, each
// echoing a message, then closes them all and checks no goroutine is left.
func TestManyConnections(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	before := runtime.NumGoroutine()
	func() {
		client, server := twoStacks(t, 1500)
		ln, err := server.ListenBacklog("tcp", ":7", 4096)
		if err != nil {
			t.Fatal(err)
		}
		echoServer(t, ln)
		conns := make([]net.Conn, 0, n)
		for i := range n {
			c, err := client.Dial("tcp", "192.0.2.2:7")
			if err != nil {
				t.Fatalf("dial %d: %v", i, err)
			}
			conns = append(conns, c)
		}
		if got := client.NumConns(); got != n {
			t.Errorf("client holds %d connections, want %d", got, n)
		}
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := []byte{byte(i), byte(i >> 8), 'x'}
				c.SetDeadline(time.Now().Add(time.Minute))
				c.Write(msg)
				got := make([]byte, 3)
				if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
					t.Errorf("conn %d: echo %q, %v", i, got, err)
				}
				c.Close()
			}()
		}
		wg.Wait()
		ln.Close()
		client.Close()
		server.Close()
	}()
	checkNoGoroutineLeak(t, before)
}

// checkNoGoroutineLeak waits briefly for goroutines to exit and fails if
// more remain than before.
func checkNoGoroutineLeak(t *testing.T, before int) {
	t.Helper()
	var now int
	for range 100 {
		if now = runtime.NumGoroutine(); now <= before {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Fatalf("%d goroutines after Close, %d before:\n%s", now, before, buf)
}
