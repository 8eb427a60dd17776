package tcp

import (
	"reflect"
	"sync/atomic"
	"testing"
)

// Each counter names its own field of Counters, in the order of the
// fields, and every field has its counter: a field added without one
// fails here.
func TestCounterFields(t *testing.T) {
	var k Counters
	v := reflect.ValueOf(&k).Elem()
	if v.NumField() != int(numCounters) {
		t.Fatalf("Counters has %d fields, %d counters name them", v.NumField(), numCounters)
	}
	for i := range numCounters {
		want := v.Field(int(i)).Addr().Interface().(*atomic.Uint64)
		if got := k.field(i); got != want {
			t.Errorf("counter %d is not field %s", i, v.Type().Field(int(i)).Name)
		}
	}
}
