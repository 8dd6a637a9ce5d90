package collector

import "testing"

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"81.2.69.142":            "81.2.69.0/24",
		"::ffff:81.2.69.142":     "81.2.69.0/24",
		"2001:db8:abcd:12::1":    "2001:db8:abcd::/48",
		"not an address":         "",
		"2001:db8:abcd:ffff::ff": "2001:db8:abcd::/48",
	} {
		if got := truncateIP(in); got != want {
			t.Errorf("truncateIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseIPHandling(t *testing.T) {
	def, by, err := ParseIPHandling("hash", []string{"eu=truncate", "news=drop"})
	if err != nil || def != "hash" || by["eu"] != "truncate" || by["news"] != "drop" || len(by) != 2 {
		t.Fatalf("%q %v %v", def, by, err)
	}
	for _, bad := range [][]string{{"eu"}, {"=drop"}, {"eu=forget"}} {
		if _, _, err := ParseIPHandling("hash", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, _, err := ParseIPHandling("keep", nil); err == nil {
		t.Error("an unknown default accepted")
	}
}
