package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// tuneGC: the collector allocates short-lived garbage per event on a
// small heap; the default GOGC=100 spends ~13% of CPU collecting it. Unless
// the operator set GOGC, collect less often (the heap stays in the tens of
// MB), bounded by GOMEMLIMIT if that is set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
