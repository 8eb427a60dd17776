package tcp

import (
	"reflect"
	"sync/atomic"
	"testing"
)

// Snapshot copies every counter into the field of its name: a counter
// added to Counters and not to CounterValues fails here.
func TestCounterSnapshotCoversEveryCounter(t *testing.T) {
	var k Counters
	live, values := reflect.ValueOf(&k).Elem(), reflect.TypeOf(CounterValues{})
	if live.NumField() != values.NumField() {
		t.Fatalf("Counters has %d fields, CounterValues %d", live.NumField(), values.NumField())
	}
	for i := 0; i < live.NumField(); i++ {
		live.Field(i).Addr().Interface().(*atomic.Uint64).Store(uint64(i + 1))
	}
	snap := reflect.ValueOf(k.Snapshot())
	for i := 0; i < live.NumField(); i++ {
		name := live.Type().Field(i).Name
		if f := snap.FieldByName(name); !f.IsValid() || f.Uint() != uint64(i+1) {
			t.Errorf("CounterValues.%s does not hold Counters.%s", name, name)
		}
	}
	if got, want := (CounterValues{ActiveOpens: 2, TLPRecoveries: 1}).String(), "ActiveOpens 2\nTLPRecoveries 1\n"; got != want {
		t.Errorf("String: %q, want %q", got, want)
	}
}
