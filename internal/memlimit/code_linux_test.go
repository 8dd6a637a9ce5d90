package memlimit

import (
	"crypto/sha256"
	"testing"
)

// The executable's resident pages leave the resident set, and the code
// still runs afterwards (its pages fault back in).
func TestReleaseCodeShrinksTheResidentExecutable(t *testing.T) {
	sha256.Sum256([]byte("touch some code first"))
	before, err := residentFile()
	if err != nil {
		t.Fatal(err)
	}
	released, err := ReleaseCode()
	if err != nil {
		t.Fatal(err)
	}
	if released == 0 || released > before {
		t.Fatalf("released %d bytes of %d resident file-backed bytes", released, before)
	}
	if sum := sha256.Sum256([]byte("abc")); sum[0] != 0xba || sum[31] != 0xad {
		t.Fatalf("sha256 after the release: %x", sum)
	}
	t.Logf("released %.1f MiB of %.1f MiB", float64(released)/(1<<20), float64(before)/(1<<20))
}
