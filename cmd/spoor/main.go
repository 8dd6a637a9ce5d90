// Command spoor runs the tracking pipeline. main only wires: it finds the
// subcommand (commands.go; each in its own file), loads the configuration
// and runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("spoor", flag.ContinueOnError)
	cfgPath := fs.String("config", "config.json", "configuration file (missing file: built-in defaults)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until exit (benchmarks)")
	fs.Usage = func() { printUsage(os.Stderr); fs.PrintDefaults() }
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if fs.NArg() < 1 || fs.Arg(0) == "help" {
		fs.Usage()
		return 2
	}
	cmd, rest, ok := lookup(fs.Args())
	if !ok {
		fmt.Fprintf(os.Stderr, "spoor: unknown command %q\n\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	cfs := flag.NewFlagSet("spoor "+cmd.name, flag.ContinueOnError)
	if cmd.flags != nil {
		cmd.flags(cfs)
	}
	if err := cfs.Parse(rest); err != nil {
		return 2
	}
	inv := &invocation{args: cfs.Args(), cpuProfile: *cpuProfile, fs: cfs}
	if !cmd.noConfig {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "spoor: %v\n", err)
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
