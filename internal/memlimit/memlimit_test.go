package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

// write makes the files of a fake /sys/fs/cgroup and /proc/self/cgroup.
func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCgroup(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 limited", map[string]string{"proc": "0::/kubepods/pod1\n", "sys/kubepods/pod1/memory.max": "536870912\n"}, 512 << 20},
		{"v2 no limit", map[string]string{"proc": "0::/user.slice\n", "sys/user.slice/memory.max": "max\n"}, 0},
		{"v2 in a container (namespaced: the root is the container's)", map[string]string{"proc": "0::/\n", "sys/memory.max": "268435456\n"}, 256 << 20},
		{"v2 path not mounted here, root limited", map[string]string{"proc": "0::/docker/abc\n", "sys/memory.max": "268435456\n"}, 256 << 20},
		{"v1 limited", map[string]string{"proc": "9:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n", "sys/memory/docker/abc/memory.limit_in_bytes": "1073741824\n"}, 1 << 30},
		{"v1 unlimited (a huge page-aligned number)", map[string]string{"proc": "4:memory:/process_api/x\n", "sys/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"v1 combined controllers", map[string]string{"proc": "5:cpuset,memory:/x\n", "sys/memory/x/memory.limit_in_bytes": "2147483648"}, 2 << 30},
		{"the smaller of own and root", map[string]string{"proc": "0::/a\n", "sys/a/memory.max": "900000000", "sys/memory.max": "800000000"}, 800000000},
		{"no cgroups at all", map[string]string{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, c.files)
			got, err := Cgroup(filepath.Join(dir, "sys"), filepath.Join(dir, "proc"))
			if err != nil || got != c.want {
				t.Fatalf("Cgroup = %d, %v; want %d", got, err, c.want)
			}
		})
	}
	dir := t.TempDir()
	write(t, dir, map[string]string{"proc": "0::/\n", "sys/memory.max": "lots\n"})
	if _, err := Cgroup(filepath.Join(dir, "sys"), filepath.Join(dir, "proc")); err == nil {
		t.Fatal("a limit that is no number was taken")
	}
}
