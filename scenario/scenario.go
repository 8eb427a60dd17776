// Package scenario holds seqack's built-in scenarios: small, deterministic
// runs of two hosts in the simulator, each showing one thing every TCP
// course teaches — the three-way handshake, the four-segment close,
// TIME_WAIT — or one "what if this segment is lost?".
//
// Every scenario runs a client (10.0.0.1) and a server (10.0.0.2, port
// 80) joined by a link with a 10 ms one-way delay. Extra faults can be
// added with Options.Faults, so any scenario can be asked its own "what
// if".
package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// The addresses and port every scenario uses.
var (
	ClientAddr = netip.MustParseAddr("10.0.0.1")
	ServerAddr = netip.MustParseAddr("10.0.0.2")
)

// ServerPort is the port the server listens on.
const ServerPort = 80

// clientPort is the client's port where a scenario needs to know it.
const clientPort = 40000

// oneWayDelay is the link's one-way propagation delay.
const oneWayDelay = 10 * time.Millisecond

// runLimit bounds a scenario's virtual time.
const runLimit = time.Hour

// Scenario is one built-in scenario.
type Scenario struct {
	// Name is how the command line names it ("lost-final-ack").
	Name string
	// Summary says in one line what it shows.
	Summary string
	// Absolute is true where the diagram reads best with absolute
	// sequence numbers (two connections' numbers side by side).
	Absolute bool
	// config adjusts the hosts' TCP settings.
	config func(*tcp.Config)
	// setup schedules the applications' actions and the scenario's own
	// faults.
	setup func(w *world)
	// faults are the scenario's own faults, as (action, selector).
	faults [][2]string
}

// Options adjust a run.
type Options struct {
	// Seed drives the run's random choices (the ISN key, and any random
	// link behaviour).
	Seed int64
	// MSL is the maximum segment lifetime; TIME_WAIT lasts 2×MSL.
	// 0 means 30 s.
	MSL time.Duration
	// Faults are added after the scenario's own.
	Faults []sim.Fault
	// KeepPackets records the packets' bytes (for pcap output).
	KeepPackets bool
}

// Result is what a run recorded.
type Result struct {
	Events         []trace.Event
	Client, Server string
	// ClientStates and ServerStates are the states each side went
	// through, in order, starting from its initial state.
	ClientStates, ServerStates []tcp.State
	// Err is set when the run did not fall quiet within its time limit.
	Err error
}

// world is what a scenario's setup works with.
type world struct {
	net            *sim.Network
	client, server *sim.Host
	// conn is the client's connection, once dialled.
	conn *sim.Conn
}

// dial makes the client connect to the server from port (0: any). A
// dial the client refuses (its port still in use, after faults changed
// the run) leaves the previous connection in place.
func (w *world) dial(port uint16) {
	if c, err := w.client.Dial(port, netip.AddrPortFrom(ServerAddr, ServerPort)); err == nil {
		w.conn = c
	}
}

// withConn returns a scheduled action on the client's connection that
// does nothing if there is none, so that faults which stop the client
// from ever dialling cannot crash a run.
func (w *world) withConn(f func(*sim.Conn)) func() {
	return func() {
		if w.conn != nil {
			f(w.conn)
		}
	}
}

// All returns every scenario, in teaching order.
func All() []Scenario { return append([]Scenario(nil), scenarios...) }

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names returns the scenarios' names in order.
func Names() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	return names
}

// Run runs the scenario in a fresh simulated network.
func (s Scenario) Run(opts Options) (Result, error) {
	// RFC 9293's plain connection, as the textbook figures draw it: SYNs
	// with the MSS option alone and windows of 65535, rather than the
	// zero Config's SACK, timestamps and window scale.
	cfg := tcp.PlainConfig()
	cfg.MSL = cmp.Or(opts.MSL, tcp.DefaultMSL)
	if s.config != nil {
		s.config(cfg)
	}
	n := sim.New(sim.Config{Seed: opts.Seed, KeepPackets: opts.KeepPackets})
	w := &world{
		net:    n,
		client: n.AddHost("client", ClientAddr, cfg),
		server: n.AddHost("server", ServerAddr, cfg),
	}
	n.Link(w.client, w.server, sim.LinkConfig{Delay: oneWayDelay})
	for _, f := range s.faults {
		fault, err := sim.ParseFault(f[0], f[1])
		if err != nil {
			return Result{}, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		n.AddFault(fault)
	}
	for _, f := range opts.Faults {
		n.AddFault(f)
	}
	s.setup(w)
	res := Result{Client: "client", Server: "server"}
	res.Err = n.Run(runLimit)
	res.Events = n.Events()
	res.ClientStates = states(res.Events, res.Client)
	res.ServerStates = states(res.Events, res.Server)
	return res, nil
}

// states lists the states host went through, starting with its first.
func states(events []trace.Event, host string) []tcp.State {
	var s []tcp.State
	for _, e := range events {
		if e.Kind == trace.StateChanged && e.Host == host {
			if len(s) == 0 {
				s = append(s, e.From)
			}
			s = append(s, e.To)
		}
	}
	return s
}
