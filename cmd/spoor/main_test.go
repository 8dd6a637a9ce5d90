package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

// The older Tracker had a 900-line main (tracker-notes.md, flaw 11): main
// only wires; every subcommand lives in its own file.
func TestMainOnlyWires(t *testing.T) {
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > 100 {
		t.Errorf("main.go is %d lines; move the work out of main", n)
	}
}

// Help asked for is no error: usage on stdout, exit 0. A wrong command
// line is: usage on stderr, exit 2.
func TestHelpExitsZero(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string // on stdout when 0, on stderr when 2
	}{
		{[]string{"help"}, 0, "commands:"},
		{[]string{"--help"}, 0, "commands:"},
		{[]string{"-h"}, 0, "commands:"},
		{[]string{"person", "--help"}, 0, "usage: spoor person"},
		{[]string{"tail", "-h"}, 0, "usage: spoor tail"},
		{[]string{"schema", "apply", "--help"}, 0, "usage: spoor schema apply"},
		{nil, 2, "commands:"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"person", "--bogus"}, 2, "usage: spoor person"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		got, other := out.String(), errb.String()
		if c.code != 0 {
			got, other = other, got
		}
		if code != c.code || !strings.Contains(got, c.want) || other != "" {
			t.Errorf("spoor %q: exit %d, stdout %q, stderr %q; want exit %d with %q", c.args, code, out.String(), errb.String(), c.code, c.want)
		}
	}
}

// A command's flags may follow its arguments; "--" ends the flags.
func TestParseInterleaved(t *testing.T) {
	for _, c := range []struct {
		args  []string
		since string
		pos   []string
	}{
		{[]string{"late", "--since", "72h"}, "72h0m0s", []string{"late"}},
		{[]string{"--since", "1h", "late"}, "1h0m0s", []string{"late"}},
		{[]string{"a", "b", "-since=2h", "c"}, "2h0m0s", []string{"a", "b", "c"}},
		{[]string{"a", "--", "--since", "3h"}, "0s", []string{"a", "--since", "3h"}},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		since := fs.Duration("since", 0, "")
		pos, err := parseInterleaved(fs, c.args)
		if err != nil || since.String() != c.since || strings.Join(pos, " ") != strings.Join(c.pos, " ") {
			t.Errorf("%q: %v %v %v", c.args, pos, since, err)
		}
	}
}

// --since takes a Go duration, whole days, or a time; nothing else.
func TestSinceFlag(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"24h", now.Add(-24 * time.Hour), true},
		{"7d", now.Add(-7 * 24 * time.Hour), true},
		{"2026-12-01T00:00:00Z", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), true},
		{"0d", time.Time{}, false},
		{"-3h", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		var s sinceFlag
		err := s.Set(c.in)
		if (err == nil) != c.ok || c.ok && !s.from(now).Equal(c.want) {
			t.Errorf("--since %s: %v, %v", c.in, s.from(now), err)
		}
	}
}
