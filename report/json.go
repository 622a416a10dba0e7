package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"sync"
)

// JSON writes r as indented JSON, the versioned contract (FormatVersion).
// The bytes are those of encoding/json with two-space indentation, but the
// long lists are written one element at a time, so that memory does not
// hold the whole document (a 20,000-connection report is about 100 MB).
func JSON(w io.Writer, r *Report) error { return JSONOn(w, r, 1) }

// JSONOn is JSON with the elements of the long lists encoded on up to
// workers goroutines at once (no more than GOMAXPROCS): the same bytes, in
// the same order. A list of 20,000 connections takes encoding/json about
// 0.2 s on one core, a third of the time the analysis of the benchmark's
// capture takes on two.
func JSONOn(w io.Writer, r *Report, workers int) error {
	workers = max(1, min(workers, runtime.GOMAXPROCS(0)))
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 1<<16), workers: workers}
	jw.enc = make([]encoder, jw.workers)
	jw.raw("{\n")
	jw.field("format_version", r.FormatVersion, false)
	jw.field("tool", r.Tool, false)
	jw.field("capture", r.Capture, false)
	jw.field("settings", r.Settings, false)
	jw.field("summary", r.Summary, false)
	list(jw, "connections", r.Connections)
	list(jw, "findings", r.Findings)
	list(jw, "groups", r.Groups)
	last := r.Snapshots == nil && r.Timeline == nil && r.Gate == nil
	jw.field("omitted", r.Omitted, last)
	if r.Snapshots != nil {
		jw.field("snapshots", r.Snapshots, r.Timeline == nil && r.Gate == nil)
	}
	if r.Timeline != nil {
		jw.field("timeline", r.Timeline, r.Gate == nil)
	}
	if r.Gate != nil {
		jw.field("gate", r.Gate, true)
	}
	jw.raw("}\n")
	if jw.err != nil {
		return jw.err
	}
	return jw.w.Flush()
}

type jsonWriter struct {
	w       *bufio.Writer
	err     error
	buf     []byte // indented bytes of the value being written
	workers int    // goroutines that encode a list's elements (list)
	chunks  [][]byte
	enc     []encoder // one per worker
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) value(v any, prefix string) {
	if j.err != nil {
		return
	}
	j.buf, j.err = appendValue(j.buf[:0], v, prefix)
	if j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
}

// appendValue appends v as indented JSON, its lines after the first
// starting with prefix.
func appendValue(dst []byte, v any, prefix string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return indent(dst, b, prefix, "  "), nil
}

// encoder encodes values as json.Marshal does, into a buffer it reuses
// (Marshal returns a new slice for every value).
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// appendValue is appendValue without the allocation of Marshal's result.
func (e *encoder) appendValue(dst []byte, v any, prefix string) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return dst, err
	}
	b := e.buf.Bytes()
	return indent(dst, b[:len(b)-1], prefix, "  "), nil // Encode adds a newline
}

// appendElement appends a list element, indented one level: by its own
// appender (jsonappend.go) when it has one that can write it, else by
// encoding/json.
func appendElement(e *encoder, dst []byte, v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		n := len(dst)
		out, ok := a.appendJSON(dst, "    ")
		if ok {
			return out, nil
		}
		dst = out[:n]
	}
	return e.appendValue(dst, v, "    ")
}

// indent appends src, compact JSON as json.Marshal writes it, to dst
// indented as json.Indent would (the same bytes), several times faster:
// it trusts src to be valid, only tracks strings and nesting, and copies
// the runs between the places it breaks or spaces in one go.
func indent(dst, src []byte, prefix, ind string) []byte {
	depth, start := 0, 0 // start: the first byte not yet copied
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"':
			i = stringEnd(src, i)
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				i++ // empty: stays as it is
				continue
			}
			dst = append(dst, src[start:i+1]...)
			depth++
			dst = newline(dst, prefix, ind, depth)
			start = i + 1
		case '}', ']':
			dst = append(dst, src[start:i]...)
			depth--
			dst = newline(dst, prefix, ind, depth)
			start = i // the bracket goes with the next run
		case ',':
			dst = append(dst, src[start:i+1]...)
			dst = newline(dst, prefix, ind, depth)
			start = i + 1
		case ':':
			dst = append(dst, src[start:i+1]...)
			dst = append(dst, ' ')
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// stringEnd returns the index of the quote that closes the string opening
// at src[i]: the next quote not escaped by an odd number of backslashes.
func stringEnd(src []byte, i int) int {
	for j := i + 1; ; j++ {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return len(src) - 1
		}
		j += k
		n := 0
		for b := j - 1; b > i && src[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j
		}
	}
}

// newline appends a line break and the indentation of depth.
func newline(dst []byte, prefix, ind string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, ind...)
	}
	return dst
}

// field writes one member of the top-level object.
func (j *jsonWriter) field(name string, v any, last bool) {
	j.raw("  ")
	j.value(name, "")
	j.raw(": ")
	j.value(v, "  ")
	if !last {
		j.raw(",")
	}
	j.raw("\n")
}

// listChunk is how many elements of a list one goroutine encodes at a
// time: enough to make the hand-over cheap, few enough that the workers
// finish a round together.
const listChunk = 64

// list writes a top-level array member element by element: on one
// goroutine, or in rounds of j.workers chunks encoded at once and written
// in order.
func list[T any](j *jsonWriter, name string, xs []T) {
	j.raw("  ")
	j.value(name, "")
	if len(xs) == 0 {
		j.raw(": [],\n")
		return
	}
	j.raw(": [\n")
	// element appends the i-th element's line (or lines) to dst.
	element := func(e *encoder, dst []byte, i int) ([]byte, error) {
		dst = append(dst, "    "...)
		dst, err := appendElement(e, dst, &xs[i])
		if i < len(xs)-1 {
			dst = append(dst, ',')
		}
		return append(dst, '\n'), err
	}
	if j.workers == 1 || len(xs) <= listChunk {
		for i := range xs {
			if j.err != nil {
				return
			}
			j.buf, j.err = element(&j.enc[0], j.buf[:0], i)
			if j.err == nil {
				_, j.err = j.w.Write(j.buf)
			}
		}
	} else {
		j.chunks = append(j.chunks[:0], make([][]byte, j.workers)...)
		errs := make([]error, j.workers)
		for round := 0; round < len(xs) && j.err == nil; round += j.workers * listChunk {
			var wg sync.WaitGroup
			for k := range j.workers {
				from := round + k*listChunk
				if from >= len(xs) {
					j.chunks[k] = j.chunks[k][:0]
					continue
				}
				wg.Go(func() {
					b := j.chunks[k][:0]
					for i := from; i < min(from+listChunk, len(xs)) && errs[k] == nil; i++ {
						b, errs[k] = element(&j.enc[k], b, i)
					}
					j.chunks[k] = b
				})
			}
			wg.Wait()
			for k, b := range j.chunks {
				if j.err == nil {
					j.err = errs[k]
				}
				if j.err == nil {
					_, j.err = j.w.Write(b)
				}
			}
		}
	}
	j.raw("  ],\n")
}
