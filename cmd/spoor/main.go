// Command spoor runs the tracking pipeline. main only wires: it finds the
// subcommand (commands.go; each in its own file), loads the configuration
// and runs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/clock"
	"github.com/spoor-dev/spoor/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs one command line. Help asked for (help, -h, --help, also after
// a command) is printed on stdout with exit 0; a usage error on stderr
// with exit 2.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("spoor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.json", "configuration file (missing file: built-in defaults)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit (benchmarks)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiles (heap, goroutines, CPU) at http://ADDR/debug/pprof/, e.g. 127.0.0.1:6060; off by default")
	clockOffset := fs.Duration("clock-offset", 0, "shift this process's clock by this much, e.g. 10m (fault runs only: a collector with a wrong clock)")
	usage := func(w io.Writer) { printUsage(w); fs.SetOutput(w); fs.PrintDefaults() }
	fs.Usage = func() {}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	} else if err != nil {
		usage(stderr)
		return 2
	}
	if fs.NArg() == 1 && fs.Arg(0) == "help" {
		usage(stdout)
		return 0
	}
	if fs.NArg() < 1 {
		usage(stderr)
		return 2
	}
	cmd, rest, ok := lookup(fs.Args())
	if !ok {
		fmt.Fprintf(stderr, "spoor: unknown command %q\n\n", fs.Arg(0))
		usage(stderr)
		return 2
	}
	cfs := flag.NewFlagSet("spoor "+cmd.name, flag.ContinueOnError)
	cfs.SetOutput(stderr)
	if cmd.flags != nil {
		cmd.flags(cfs)
	}
	cfs.Usage = func() {}
	args, err := parseInterleaved(cfs, rest)
	if errors.Is(err, flag.ErrHelp) {
		cmd.printUsage(cfs, stdout)
		return 0
	} else if err != nil {
		cmd.printUsage(cfs, stderr)
		return 2
	}
	clock.SetOffset(*clockOffset)
	inv := &invocation{args: args, cpuProfile: *cpuProfile, pprofAddr: *pprofAddr, fs: cfs}
	if !cmd.noConfig {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(stderr, "spoor: %v\n", err)
			return 2
		}
		inv.cfg = cfg
	}
	return cmd.run(inv)
}

func newLogger(c config.Log) zerolog.Logger {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	lvl, _ := zerolog.ParseLevel(c.Level)
	var l zerolog.Logger
	if c.Format == "console" {
		l = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly})
	} else {
		l = zerolog.New(os.Stderr)
	}
	return l.Level(lvl).With().Timestamp().Str("svc", "spoor").Logger()
}
