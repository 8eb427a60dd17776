package wgnet_test

import netstack "github.com/seqack/seqack/adapter/wgnet" // was "golang.zx2c4.com/wireguard/tun/netstack"

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
)

// A WireGuard tunnel to a peer in the same process, over UDP on
// 127.0.0.1, and a TCP connection through it. The program is what it
// would be with wireguard-go's netstack but for the import.
func Example() {
	ctx := context.Background()
	me, peer := exampleKey(), exampleKey()
	far, port := exampleFarEnd(peer, me)
	defer far.Close()
	config := fmt.Sprintf("private_key=%s\npublic_key=%s\nendpoint=127.0.0.1:%s\nallowed_ip=10.99.0.2/32\n",
		hex.EncodeToString(me.Bytes()), hex.EncodeToString(peer.PublicKey().Bytes()), port)

	tdev, tnet, err := netstack.CreateNetTUN(
		[]netip.Addr{netip.MustParseAddr("10.99.0.1")}, // addresses inside the tunnel
		[]netip.Addr{netip.MustParseAddr("10.99.0.2")}, // DNS servers inside the tunnel
		1420)
	if err != nil {
		log.Fatal(err)
	}
	dev := device.NewDevice(tdev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelError, ""))
	dev.IpcSet(config) // keys, peers, allowed IPs, as before
	dev.Up()
	defer dev.Close()
	c, err := tnet.DialContext(ctx, "tcp", "10.99.0.2:80")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	greeting, err := io.ReadAll(c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(greeting))
	// Output: hello through the tunnel
}

func exampleKey() *ecdh.PrivateKey {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// exampleFarEnd starts the peer at 10.99.0.2 with key priv, which
// greets each connection to port 80, and returns it and its UDP port.
func exampleFarEnd(priv, peer *ecdh.PrivateKey) (*device.Device, string) {
	tdev, tnet, err := netstack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("10.99.0.2")}, nil, 1420)
	if err != nil {
		log.Fatal(err)
	}
	dev := device.NewDevice(tdev, conn.NewDefaultBind(), device.NewLogger(device.LogLevelError, ""))
	dev.IpcSet(fmt.Sprintf("private_key=%s\nlisten_port=0\npublic_key=%s\nallowed_ip=10.99.0.1/32\n",
		hex.EncodeToString(priv.Bytes()), hex.EncodeToString(peer.PublicKey().Bytes())))
	dev.Up()
	ln, err := tnet.ListenTCPAddrPort(netip.MustParseAddrPort("10.99.0.2:80"))
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello through the tunnel\n")
			c.Close()
		}
	}()
	cfg, _ := dev.IpcGet()
	for line := range strings.SplitSeq(cfg, "\n") {
		if p, ok := strings.CutPrefix(line, "listen_port="); ok {
			return dev, p
		}
	}
	log.Fatal("no listen_port")
	return nil, ""
}
