package cassandratest

import "testing"

// The server make test starts is a real Cassandra 5.0 that takes writes.
func TestServerAnswers(t *testing.T) {
	s := Session(t)
	var version string
	if err := s.Query(`SELECT release_version FROM system.local`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version[:2] != "5." {
		t.Fatalf("release_version = %s, want 5.x", version)
	}
	ks := Keyspace(t, s)
	if err := s.Query(`CREATE TABLE ` + ks + `.t (k text PRIMARY KEY, v int)`).Exec(); err != nil {
		t.Fatal(err)
	}
	if err := s.Query(`INSERT INTO `+ks+`.t (k, v) VALUES (?, ?)`, "a", 1).Exec(); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.Query(`SELECT v FROM `+ks+`.t WHERE k = ?`, "a").Scan(&v); err != nil || v != 1 {
		t.Fatalf("read back %d, %v", v, err)
	}
	t.Logf("Cassandra %s at %v", version, Hosts())
}
