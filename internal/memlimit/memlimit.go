// Package memlimit finds the memory a process may use: the limit of the
// cgroup it runs in (a container's memory limit), v2 or v1, so that the Go
// runtime's soft limit can be set below it and the garbage collector works
// harder before the kernel's OOM killer does.
package memlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Unlimited cgroup v1 limits are a huge page-aligned number, not "max":
// anything above this is no limit.
const noLimitAbove = 1 << 60

// Cgroup returns the memory limit in bytes of the cgroup this process runs
// in, or 0 when there is none. root is where cgroups are mounted
// (/sys/fs/cgroup), proc the process's cgroup file (/proc/self/cgroup):
// both are arguments so that tests can build a tree of their own. The
// limit is looked up in the process's own cgroup and at the mount's root
// (which is the process's cgroup inside a container), on cgroup v2
// (memory.max) and v1 (memory/memory.limit_in_bytes); the smallest found
// wins.
func Cgroup(root, proc string) (int64, error) {
	paths, err := ownPaths(proc)
	if err != nil {
		return 0, err
	}
	var candidates []string
	for _, p := range append([]string{paths.v2}, "/") {
		if p != "" {
			candidates = append(candidates, filepath.Join(root, p, "memory.max"))
		}
	}
	for _, p := range append([]string{paths.v1}, "/") {
		if p != "" {
			candidates = append(candidates, filepath.Join(root, "memory", p, "memory.limit_in_bytes"))
		}
	}
	limit := int64(0)
	for _, f := range candidates {
		n, err := readLimit(f)
		if err != nil {
			return 0, err
		}
		if n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit, nil
}

type cgroupPaths struct{ v1, v2 string }

// ownPaths reads /proc/self/cgroup: "0::/path" (v2) and
// "N:...memory...:/path" (v1). A missing file means no cgroups.
func ownPaths(proc string) (cgroupPaths, error) {
	var p cgroupPaths
	b, err := os.ReadFile(proc)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading %s: %w", proc, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			p.v2 = parts[2]
		case containsField(parts[1], "memory"):
			p.v1 = parts[2]
		}
	}
	return p, nil
}

func containsField(list, name string) bool {
	for _, f := range strings.Split(list, ",") {
		if f == name {
			return true
		}
	}
	return false
}

// readLimit reads one limit file: 0 when it is absent, "max" or no limit.
func readLimit(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" || s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %q is no limit: %w", path, s, err)
	}
	if n >= noLimitAbove || n > math.MaxInt64 {
		return 0, nil
	}
	return int64(n), nil
}
