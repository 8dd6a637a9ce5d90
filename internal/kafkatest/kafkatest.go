// Package kafkatest connects integration tests to the real Kafka broker
// that scripts/kafka.sh starts (make test starts it). Under CI=true a test
// that cannot reach it fails; elsewhere it is skipped with the command that
// would start it. Pause and Resume stop the broker's process and let it go
// on (SIGSTOP, SIGCONT): a broker that stops answering, for real.
package kafkatest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Brokers is where the test broker is: SPOOR_KAFKA_BROKERS, else the port
// scripts/kafka.sh uses.
func Brokers() []string {
	if b := os.Getenv("SPOOR_KAFKA_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	port := os.Getenv("SPOOR_KAFKA_PORT")
	if port == "" {
		port = "19092"
	}
	return []string{"127.0.0.1:" + port}
}

// Need returns the brokers, or fails (CI) / skips (elsewhere) the test
// when the first does not answer.
func Need(t testing.TB) []string {
	t.Helper()
	b := Brokers()
	c, err := net.DialTimeout("tcp", b[0], 2*time.Second)
	if err != nil {
		msg := fmt.Sprintf("Kafka not reachable at %v (start it: scripts/kafka.sh start): %v", b, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c.Close()
	return b
}

// pid is the broker's process, from scripts/kafka.sh's pid file.
func pid(t testing.TB) int {
	t.Helper()
	dir := os.Getenv("KAFKA_DIR")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".scratch", "kafka")
	}
	b, err := os.ReadFile(filepath.Join(dir, "kafka.pid"))
	if err != nil {
		t.Fatalf("the broker's pid file (started by scripts/kafka.sh?): %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test")
		}
		dir = parent
	}
}

// Pause stops the broker's process until Resume (or the test's end).
func Pause(t testing.TB) {
	t.Helper()
	p := pid(t)
	if err := syscall.Kill(p, syscall.SIGSTOP); err != nil {
		t.Fatalf("pausing the broker: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p, syscall.SIGCONT) })
}

// Resume lets a paused broker go on.
func Resume(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(pid(t), syscall.SIGCONT); err != nil {
		t.Fatalf("resuming the broker: %v", err)
	}
}
