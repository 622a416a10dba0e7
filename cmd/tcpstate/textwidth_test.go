package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// TestTextFitsEightyColumns: the text report of a busy capture, with
// half its connections over IPv6, groups of hundreds of connections and
// their frames, the ladders, --at and --timeline, keeps every line within
// 80 columns, as report.Text promises, and ends in no blank: all but the rows of the --at table
// (IPv6 endpoints make it wider, as they make ss's) and of the --timeline
// table (a column per state and role seen).
func TestTextFitsEightyColumns(t *testing.T) {
	var capture bytes.Buffer
	if _, err := synth.Write(&capture, synth.Config{Conns: 3000, Rate: 300, Seed: 21, IPv6Fraction: 0.5, Mix: synth.Mix{synth.Normal: 4, synth.CloseWait: 2, synth.FinWait2: 1, synth.Refused: 1, synth.SynTimeout: 1, synth.Reset: 1}}); err != nil {
		t.Fatal(err)
	}
	out, errs, code := tcpstate(t, capture.Bytes(), "--at", "+5s", "--timeline", "2s", "--conn", "1", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "frames ") || !strings.Contains(out, "close-wait: ") {
		t.Fatalf("no findings to wrap:\n%s", out)
	}
	table := ""
	for i, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Role    State"):
			table = "--at"
		case strings.HasPrefix(line, "Endpoints per state every"):
			table = "--timeline"
		case table == "--at" && (strings.HasPrefix(line, "client  ") || strings.HasPrefix(line, "server  ")),
			table == "--timeline" && strings.HasPrefix(line, "  "):
			continue
		default:
			table = ""
		}
		if n := utf8.RuneCountInString(line); n > 80 && table == "" {
			t.Errorf("line %d has %d columns: %q", i+1, n, line)
		}
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d ends in blanks: %q", i+1, line)
		}
	}
	// Where a ladder's title would not fit, its finding kinds go below.
	if !strings.Contains(out, "\n#41 [2001:db8:c::a66]:47906 -> [2001:db8::20]:8080\n   [close-wait, fin-wait-2, reset]\n   client ") {
		t.Errorf("no ladder title of #41 with its kinds on the next line")
	}
}

// TestGoldenTextFitsEightyColumns: the same (and no line ends in blanks) for the text reports of every
// bundled capture, kernel and Zeek corpus alike (testdata/golden): only
// the first line (the files' names) and the rows of the tables may be
// wider.
func TestGoldenTextFitsEightyColumns(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*/*.txt")
	if len(files) < 20 {
		t.Fatalf("%d golden text reports", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n")[1:] {
			row := strings.HasPrefix(line, "   +") || strings.HasPrefix(line, "client  ") || strings.HasPrefix(line, "server  ") || strings.HasPrefix(line, "Role    ")
			if n := utf8.RuneCountInString(line); n > 80 && !row {
				t.Errorf("%s:%d has %d columns: %q", f, i+2, n, line)
			}
			if strings.TrimRight(line, " ") != line {
				t.Errorf("%s:%d ends in blanks: %q", f, i+2, line)
			}
		}
	}
}
