package cli

import (
	"errors"
	"io"
	"os"
)

// IsTerminal reports whether w is a terminal: a character device other
// than /dev/null (where nothing is shown, and a capture may be thrown
// away).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// PathCause returns what went wrong in err without the operation and the
// path, which the caller's message already names: "no such file or
// directory" from "open x.pcap: no such file or directory".
func PathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
