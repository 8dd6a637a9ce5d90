package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spoor-dev/spoor/internal/config"
)

// command is one subcommand. Each lives in its own file and registers
// itself, so `spoor help` lists them and main stays a screen long.
type command struct {
	name  string // as typed: "run", "schema apply", "dlq replay"
	usage string // arguments after the name
	short string // one line for `spoor help`
	// flags, when set, declares the command's own flags on fs.
	flags func(fs *flag.FlagSet)
	// noConfig: the command runs without loading the configuration.
	noConfig bool
	run      func(c *invocation) int
}

// invocation is what a command's run gets.
type invocation struct {
	cfg        config.Config
	args       []string // after the command's name and flags
	cpuProfile string
	pprofAddr  string // -pprof: where to serve net/http/pprof ("": nowhere)
	fs         *flag.FlagSet
}

var commands []command

func register(c command) { commands = append(commands, c) }

// lookup finds the command args start with (the longest name that
// matches: "schema apply" before "schema") and returns the rest.
func lookup(args []string) (command, []string, bool) {
	best, n := command{}, 0
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(words) > len(args) || len(words) <= n {
			continue
		}
		match := true
		for i, w := range words {
			if args[i] != w {
				match = false
				break
			}
		}
		if match {
			best, n = c, len(words)
		}
	}
	return best, args[n:], n > 0
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, "usage: spoor [-config config.json] <command> [flags] [args]\n\ncommands:\n")
	cs := append([]command(nil), commands...)
	sort.Slice(cs, func(a, b int) bool { return cs[a].name < cs[b].name })
	for _, c := range cs {
		name := c.name
		if c.usage != "" {
			name += " " + c.usage
		}
		fmt.Fprintf(w, "  %-24s %s\n", name, c.short)
	}
	fmt.Fprint(w, "\nglobal flags:\n")
}

// printUsage prints the command's usage line, what it does and its flags.
func (c command) printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "usage: spoor %s %s\n  %s\n", c.name, c.usage, c.short)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseInterleaved parses a command's flags wherever they stand among its
// arguments (`spoor destinations replay NAME --since 72h`), not only before
// them as the flag package does; "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
