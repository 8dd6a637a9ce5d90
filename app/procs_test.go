package app

import (
	"runtime"
	"testing"
)

func TestProcs(t *testing.T) {
	goDefault := runtime.GOMAXPROCS(0)
	both, collector, sink := Roles{Collector: true, Sink: true}, Roles{Collector: true}, Roles{Sink: true}
	tests := []struct {
		name  string
		procs int
		env   string
		roles Roles
		local bool // collector.ack: local
		cpus  int  // Go's default
		want  int
	}{
		{"run doubles Go's default", 0, "", both, false, goDefault, 2 * goDefault},
		{"run on one CPU gets two", 0, "", both, false, 1, 2},
		{"collector keeps Go's default", 0, "", collector, true, 2, 0},
		{"collector on one CPU keeps one", 0, "", collector, false, 1, 0},
		{"collector with the local ack on one CPU gets two", 0, "", collector, true, 1, 2},
		{"sink keeps Go's default", 0, "", sink, false, goDefault, 0},
		{"sink on one CPU keeps it", 0, "", sink, true, 1, 0},
		{"the GOMAXPROCS variable is kept", 0, "3", both, false, goDefault, 0},
		{"the GOMAXPROCS variable is kept with the local ack on one CPU", 0, "1", collector, true, 1, 0},
		{"an explicit setting wins", 5, "", both, false, goDefault, 5},
		{"an explicit setting wins over the variable", 5, "3", collector, true, goDefault, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tt.env)
			if got := procsFor(tt.procs, tt.roles, tt.local, tt.cpus); got != tt.want {
				t.Fatalf("procsFor(%d, %+v, local %v, %d) with GOMAXPROCS=%q = %d, want %d", tt.procs, tt.roles, tt.local, tt.cpus, tt.env, got, tt.want)
			}
		})
	}
}
