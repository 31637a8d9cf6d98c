package viewcap

import "testing"

func TestCheck(t *testing.T) {
	for n, ok := range map[int]bool{-1: false, 0: false, 1: true, Default: true, Max: true, Max + 1: false} {
		if err := Check(n); (err == nil) != ok {
			t.Errorf("Check(%d) = %v, want ok = %v", n, err, ok)
		}
	}
}
