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
		want  int
	}{
		{"run doubles Go's default", 0, "", both, 2 * goDefault},
		{"collector keeps Go's default", 0, "", collector, 0},
		{"sink keeps Go's default", 0, "", sink, 0},
		{"the GOMAXPROCS variable is kept", 0, "3", both, 0},
		{"an explicit setting wins", 5, "", both, 5},
		{"an explicit setting wins over the variable", 5, "3", collector, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tt.env)
			if got := Procs(tt.procs, tt.roles); got != tt.want {
				t.Fatalf("Procs(%d, %+v) with GOMAXPROCS=%q = %d, want %d", tt.procs, tt.roles, tt.env, got, tt.want)
			}
		})
	}
}
