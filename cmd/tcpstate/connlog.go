package main

import (
	"io"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/report"
)

// connLog is -f zeek or -f csv: one line per connection, written while the
// analysis runs (memory stays bounded however many connections there are),
// to stdout or, atomically, to -o.
type connLog struct {
	format string
	name   string
	w      io.Writer
	file   *atomicFile // nil for stdout
}

func openLog(format, output string, stdout io.Writer) (*connLog, error) {
	l := &connLog{format: format, name: "stdout", w: stdout}
	if output != "" && output != "-" {
		f, err := createAtomic(output)
		if err != nil {
			return nil, err
		}
		l.name, l.w, l.file = output, f.f, f
	}
	return l, nil
}

// stream is the pipeline's connection stream for this log.
// Its header waits for the first line, so that a capture without packets
// (an error) writes nothing to stdout before the error.
func (l *connLog) stream(p *pipeline, workers int) *connStream {
	var s *connStream
	if l.format == "csv" {
		s = newConnStream(l.w, workers, report.AppendCSV, report.CSVHeader, nil)
	} else {
		s = newConnStream(l.w, workers, func(b []byte, c *fsm.Conn) []byte { return report.AppendZeek(b, c) },
			func() []byte { return report.ZeekHeader(p.first) },
			func() []byte { return report.ZeekFooter(p.last) })
	}
	s.empty = func() bool { return p.packets == 0 }
	return s
}

func (l *connLog) commit() error {
	if l.file == nil {
		return nil
	}
	return l.file.commit()
}

func (l *connLog) abort() {
	if l.file != nil {
		l.file.abort()
	}
}
