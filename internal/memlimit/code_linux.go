package memlimit

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseCode hands back the pages of the executable's code and read-only
// data that are resident now, and returns how many bytes left the process's
// resident set. Starting a large static binary leaves most of it resident
// (28 MB of spoor's 34): every package initialiser touches a page, and the
// kernel maps the file's cached pages 64 KB around each page touched
// ("fault-around"), though a running spoor executes a fraction of that.
// MADV_PAGEOUT drops the pages (they are clean: nothing is written, and a
// page another process maps is left alone); MADV_RANDOM then keeps a later
// fault from reading ahead around the page it needs, so what comes back is
// the code that runs. Call it once, after start-up.
func ReleaseCode() (uint64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("finding the executable: %w", err)
	}
	before, err := residentFile()
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("reading the process's mappings: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-0142d000 r-xp 00000000 fe:00 9994561   /path/to/spoor
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || (fields[1] != "r-xp" && fields[1] != "r--p") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			continue
		}
		if err := madvise(start, end-start, unix.MADV_PAGEOUT); err != nil {
			return 0, fmt.Errorf("paging out %s: %w", fields[0], err)
		}
		if err := madvise(start, end-start, unix.MADV_RANDOM); err != nil {
			return 0, fmt.Errorf("marking %s random-access: %w", fields[0], err)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading the process's mappings: %w", err)
	}
	after, err := residentFile()
	if err != nil {
		return 0, err
	}
	return before - min(before, after), nil
}

// madvise advises on a range given by address: the executable's mappings,
// which are not Go memory and are never unmapped while it runs.
func madvise(addr, length uint64, advice int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(addr), uintptr(length), uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}

// residentFile is the process's resident file-backed memory (RssFile).
func residentFile() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading the process's status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading RssFile %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no RssFile in /proc/self/status")
}
