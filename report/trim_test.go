package report

import (
	"bytes"
	"testing"
)

// TestTrimRight: trimRight drops the blanks at the end of every line,
// however the writes split the lines, and keeps every other byte.
func TestTrimRight(t *testing.T) {
	in := "a  b   \n  \n\n   c d  \nlast  "
	want := "a  b\n\n\n   c d\nlast"
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		r := &trimRight{w: &out}
		for p := in; len(p) > 0; {
			k := min(size, len(p))
			if n, err := r.Write([]byte(p[:k])); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		if out.String() != want {
			t.Errorf("writes of %d bytes: %q, want %q", size, out.String(), want)
		}
	}
}
