package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"testing"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// TestJSONOnSameBytesForAnyWorkers renders reports whose lists are empty,
// shorter than a chunk, a chunk give or take one, and many rounds long,
// with 1 to 8 workers: every rendering is encoding/json's own indented
// bytes (json.MarshalIndent of the whole report). GOMAXPROCS is raised so
// that JSONOn does not cap the workers at this machine's cores.
func TestJSONOnSameBytesForAnyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	for _, n := range []int{0, 1, 2, listChunk - 1, listChunk, listChunk + 1, 2*listChunk + 1, 1000} {
		r := Build("tcpstate test", reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0}, mixed(n), fsm.DefaultConfig())
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		for _, workers := range []int{1, 2, 3, 8} {
			var got bytes.Buffer
			if err := JSONOn(&got, r, workers); err != nil {
				t.Fatalf("%d connections, %d workers: %v", n, workers, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%d connections, %d workers: not encoding/json's bytes: %s", n, workers, firstLineDiff(got.String(), string(want)))
			}
		}
	}
}

// cutWriter takes n bytes, then fails.
type cutWriter struct{ n int }

func (w *cutWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errTest
	}
	w.n -= len(p)
	return len(p), nil
}

// TestJSONOnReturnsWriteErrors cuts the output in the middle of the
// connections list: every worker count returns the writer's error.
func TestJSONOnReturnsWriteErrors(t *testing.T) {
	r := Build("t", reassembly.Stats{}, mixed(500), fsm.DefaultConfig())
	var full bytes.Buffer
	if err := JSON(&full, r); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 4} {
		if err := JSONOn(&cutWriter{n: full.Len() / 2}, r, workers); !errors.Is(err, errTest) {
			t.Errorf("%d workers: error %v, want the writer's", workers, err)
		}
	}
}
