package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// tableHeader is the reconciliation table of docs/reliability.md.
const tableHeader = `| date (UTC) | fault | sent | answered 2xx | stored | duplicated | lost | dead-lettered | not 2xx (requests) | ingest ev/s | collector answer p50 / p99 | backlog peak: msgs / spooled msgs | drain after recovery | destinations: delivered / retried / never / visitors out of order | result |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`

func printTable(w io.Writer, rows []result) {
	fmt.Fprintln(w, tableHeader)
	for _, r := range rows {
		fmt.Fprintln(w, r.row())
	}
}

func (r result) row() string {
	verdict := "**pass**"
	if f := r.failures(); len(f) > 0 {
		verdict = "**FAIL**: " + strings.Join(f, "; ")
	}
	dests := "–"
	if len(r.Dest) > 0 {
		var ds []string
		for _, d := range r.Dest {
			ds = append(ds, fmt.Sprintf("%s %d / %d / %d / %d", d.Name, d.Delivered, d.Duplicates, d.Lost, d.OutOfOrder))
		}
		dests = strings.Join(ds, "; ")
	}
	p := "–"
	if r.P99ms > 0 {
		p = fmt.Sprintf("%.0f / %.0f ms", r.P50ms, r.P99ms)
		if r.P99Limit > 0 {
			p += fmt.Sprintf(" (≤ %.0f)", r.P99Limit)
		}
	}
	return fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %d | %d | %s | %.0f | %s | %d / %d | %s | %s | %s |",
		r.Date, r.Fault, r.Sent, r.Answered, r.Stored, r.Duplicated, r.Lost, r.DeadLettered, r.notOK(),
		r.IngestRate, p, r.BacklogPeak, r.SpoolPeak, r.drain(), dests, verdict)
}

// notOK lists the requests not answered 2xx by status, with the reasons.
func (r result) notOK() string {
	var parts []string
	for _, c := range sortedKeys(r.Codes) {
		if c/100 == 2 {
			continue
		}
		label := fmt.Sprint(c)
		if c == 0 {
			label = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", label, r.Codes[c]))
	}
	if len(parts) == 0 {
		return "0"
	}
	var reasons []string
	for k, v := range r.Reasons {
		reasons = append(reasons, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(reasons)
	if len(reasons) > 3 {
		reasons = append(reasons[:3], "…")
	}
	return strings.Join(parts, ", ") + " (" + strings.ReplaceAll(strings.Join(reasons, "; "), "|", "/") + ")"
}

// renderDoc replaces the results block of doc (between the FAULTS markers)
// with a table of the results in path.
func renderDoc(path, doc, block, command string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rows []result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	text, err := os.ReadFile(doc)
	if err != nil {
		return err
	}
	begin, end := "<!-- "+block+":begin -->", "<!-- "+block+":end -->"
	i, j := bytes.Index(text, []byte(begin)), bytes.Index(text, []byte(end))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s block", doc, begin, end)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nCommand: `%s`", begin, command)
	if len(rows) > 0 {
		fmt.Fprintf(&b, " (ingest offered: %.0f events/s; two collectors behind a round-robin balancer that follows /readyz)", rows[0].Rate)
	}
	b.WriteString(".\n\n")
	printTable(&b, rows)
	b.WriteString("\nWhat each fault did:\n\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "- **%s**: %s.", r.Fault, r.What)
		if r.Note != "" {
			fmt.Fprintf(&b, " %s.", r.Note)
		}
		if len(r.DeadReasons) > 0 {
			fmt.Fprintf(&b, " Dead letters: %v.", r.DeadReasons)
		}
		b.WriteString("\n")
	}
	out := append(append(append([]byte{}, text[:i]...), b.Bytes()...), text[j:]...)
	return os.WriteFile(doc, out, 0o644)
}
