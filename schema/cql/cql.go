// Package cql holds spoor's Cassandra migrations: numbered CQL files,
// applied in order by `spoor schema apply` (sinks/cassandra.Apply), each
// recorded in the keyspace's schema_migrations table. Never edit an applied
// file: add the next number. {keyspace} is replaced by the configured name.
package cql

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.cql
var files embed.FS

// Migration is one numbered file.
type Migration struct {
	Version    int
	Name       string
	Checksum   string
	Statements []string
}

// Migrations returns every migration in version order, for keyspace.
func Migrations(keyspace string) ([]Migration, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: e.Name(), Checksum: hex.EncodeToString(sum[:8]),
			Statements: split(strings.ReplaceAll(string(b), "{keyspace}", keyspace))})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Version < out[b].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// split cuts a file into statements at ';' line ends, dropping comments.
func split(src string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}
