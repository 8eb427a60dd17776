package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLabCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() { done <- serveLab(ctx, ln, &stdout, &stderr) }()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/", "/api/scenarios"} {
		resp, err := client.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	resp, err := client.Post("http://"+ln.Addr().String()+"/api/run", "application/json", strings.NewReader(`{"scenario":"lost-fin"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "(retransmit)") {
		t.Errorf("run: %d %.200s", resp.StatusCode, body)
	}
	cancel()
	select {
	case status := <-done:
		if status != exitOK {
			t.Errorf("status %d, stderr %s", status, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lab did not stop")
	}
	if !strings.Contains(stdout.String(), "open http://127.0.0.1:") {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestLabCommandLine(t *testing.T) {
	for _, c := range []struct {
		args   []string
		status int
		out    string
	}{
		{[]string{"lab", "--help"}, exitOK, "Usage: seqack lab"},
		{[]string{"lab", "--colour"}, exitUsage, "--colour is not a flag of seqack lab"},
		{[]string{"lab", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"lab", "--listen", "256.0.0.1:0"}, exitError, "seqack lab:"},
	} {
		var stdout, stderr bytes.Buffer
		if status := run(c.args, &stdout, &stderr); status != c.status || !strings.Contains(stdout.String()+stderr.String(), c.out) {
			t.Errorf("%v: status %d, output %q %q", c.args, status, stdout.String(), stderr.String())
		}
	}
}
