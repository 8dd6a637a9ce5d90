package app

import (
	"os"
	"runtime"
)

// Procs is the GOMAXPROCS a process with these roles should run with under
// the `procs` setting (0: automatic), or 0 to leave Go's value alone.
//
// Automatic doubles Go's default when one process runs both the collector
// and the sink: the sink's CPU bursts (a batch's validation, gzip, fsync)
// otherwise hold one of as many Go processors as there are cores until Go
// preempts them, while HTTP requests wait behind them; with twice the
// processors the kernel shares the cores in shorter slices. Measured on 2
// cores: p99 at half load 5.4 -> 4.3 ms, same peak (docs/benchmarks.md).
// A GOMAXPROCS environment variable is the operator's choice and is kept.
func Procs(procs int, roles Roles) int {
	switch {
	case procs > 0:
		return procs
	case os.Getenv("GOMAXPROCS") != "":
		return 0
	case roles.Collector && roles.Sink:
		return 2 * runtime.GOMAXPROCS(0)
	}
	return 0
}
