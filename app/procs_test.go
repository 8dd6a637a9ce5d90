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
		cpus  int // Go's default
		want  int
	}{
		{"run doubles Go's default", 0, "", both, goDefault, 2 * goDefault},
		{"run on one CPU gets two", 0, "", both, 1, 2},
		{"collector keeps Go's default", 0, "", collector, 2, 0},
		{"collector on one CPU gets two", 0, "", collector, 1, 2},
		{"sink keeps Go's default", 0, "", sink, goDefault, 0},
		{"sink on one CPU keeps it", 0, "", sink, 1, 0},
		{"the GOMAXPROCS variable is kept", 0, "3", both, goDefault, 0},
		{"the GOMAXPROCS variable is kept on one CPU", 0, "1", collector, 1, 0},
		{"an explicit setting wins", 5, "", both, goDefault, 5},
		{"an explicit setting wins over the variable", 5, "3", collector, goDefault, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tt.env)
			if got := procsFor(tt.procs, tt.roles, tt.cpus); got != tt.want {
				t.Fatalf("procsFor(%d, %+v, %d) with GOMAXPROCS=%q = %d, want %d", tt.procs, tt.roles, tt.cpus, tt.env, got, tt.want)
			}
		})
	}
}
