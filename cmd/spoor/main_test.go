package main

import (
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
