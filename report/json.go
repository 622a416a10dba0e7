package report

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSON writes r as indented JSON, the versioned contract (FormatVersion).
// The bytes are those of encoding/json with two-space indentation, but the
// long lists are written one element at a time, so that memory does not
// hold the whole document (a 20,000-connection report is about 100 MB).
func JSON(w io.Writer, r *Report) error {
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 1<<16)}
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
	w   *bufio.Writer
	err error
	buf []byte // indented bytes of the value being written
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
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	j.buf = indent(j.buf[:0], b, prefix, "  ")
	_, j.err = j.w.Write(j.buf)
}

// indent appends src, compact JSON as json.Marshal writes it, to dst
// indented as json.Indent would (the same bytes), several times faster:
// it trusts src to be valid and only tracks strings and nesting.
func indent(dst, src []byte, prefix, ind string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, ind...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
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

// list writes a top-level array member element by element.
func list[T any](j *jsonWriter, name string, xs []T) {
	j.raw("  ")
	j.value(name, "")
	if len(xs) == 0 {
		j.raw(": [],\n")
		return
	}
	j.raw(": [\n")
	for i := range xs {
		j.raw("    ")
		j.value(&xs[i], "    ")
		if i < len(xs)-1 {
			j.raw(",")
		}
		j.raw("\n")
	}
	j.raw("  ],\n")
}
