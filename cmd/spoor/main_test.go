package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
