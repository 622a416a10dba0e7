package report

import (
	"bufio"
	"encoding/json"
	"io"
)

// JSON writes r as indented JSON, the versioned contract (FormatVersion).
func JSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	return bw.Flush()
}
