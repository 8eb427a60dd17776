package scenario_test

import (
	"testing"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
)

// Any fault on any scenario runs to an end: a fault that stops the
// client from ever connecting must not crash the script that drives it.
func TestEveryScenarioSurvivesFaults(t *testing.T) {
	selectors := []string{"client:syn#*", "server:syn-ack#*", "any#1-3", "client:any#2", "server:any#*", "client:fin#*"}
	for _, sc := range scenario.All() {
		for _, sel := range selectors {
			f, err := sim.ParseFault("drop", sel)
			if err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s with drop %s: panic %v", sc.Name, sel, r)
					}
				}()
				sc.Run(scenario.Options{Seed: 1, Faults: []sim.Fault{f}})
			}()
		}
	}
}
