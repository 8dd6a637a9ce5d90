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
//
// A collector with collector.ack: local gets at least two processors: with
// one (one core, or a container limited to one CPU), the goroutine in the
// spool's fsync, which every answer waits for, holds the only processor
// until Go's monitor takes it back, and every request waits behind it. On
// one core that was 2,100-2,600 req/s against 16,000-20,000 with two
// (docs/benchmarks.md). With replicated, which fsyncs only while it
// spools, one processor is kept: a second one cost a collector on one core
// 26% more CPU per event at 3,000 events/s (Go's scheduler spinning).
// A GOMAXPROCS environment variable is the operator's choice and is kept.
func Procs(procs int, roles Roles, localAck bool) int {
	return procsFor(procs, roles, localAck, runtime.GOMAXPROCS(0))
}

// procsFor is Procs when Go's default is goDefault processors.
func procsFor(procs int, roles Roles, localAck bool, goDefault int) int {
	switch {
	case procs > 0:
		return procs
	case os.Getenv("GOMAXPROCS") != "":
		return 0
	case roles.Collector && roles.Sink:
		return 2 * goDefault
	case roles.Collector && localAck && goDefault < 2:
		return 2
	}
	return 0
}
