package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, w := range map[string]io.Writer{"/dev/null": null, "a file": file, "a buffer": &bytes.Buffer{}} {
		if IsTerminal(w) {
			t.Errorf("%s: a terminal", name)
		}
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !IsTerminal(tty) {
			t.Error("/dev/tty: not a terminal")
		}
	}
}

func TestPathCause(t *testing.T) {
	dir := t.TempDir()
	_, err := os.Open(filepath.Join(dir, "nope.pcap"))
	if got := PathCause(err); got.Error() != "no such file or directory" {
		t.Errorf("open: %v", got)
	}
	err = os.Rename(filepath.Join(dir, "nope"), filepath.Join(dir, "other"))
	if got := PathCause(err); got.Error() != "no such file or directory" {
		t.Errorf("rename: %v", got)
	}
	plain := errors.New("disk full")
	if PathCause(plain) != plain {
		t.Error("an error without a path changed")
	}
}
