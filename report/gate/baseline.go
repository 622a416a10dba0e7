package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tcpstate/tcpstate/report"
)

// groupKey names a group by kind and endpoint.
type groupKey struct{ kind, endpoint string }

// Baseline is the groups of findings (kind and endpoint) of an earlier
// report, with their counts.
type Baseline struct {
	File   string
	groups map[groupKey]int
	order  []groupKey // as the baseline listed them
}

// LoadBaseline reads an earlier tcpstate JSON report (format_version 1).
func LoadBaseline(name string) (*Baseline, error) {
	f, err := os.Open(name)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("--baseline %s: no such file", name)
		case errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("--baseline %s: permission denied", name)
		}
		return nil, fmt.Errorf("--baseline %s: %v", name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("--baseline %s: is a directory, not a JSON report", name)
	}
	return ReadBaseline(f, name)
}

// ReadBaseline reads an earlier tcpstate JSON report from r. Only its
// format_version, tool and groups are kept.
func ReadBaseline(r io.Reader, name string) (*Baseline, error) {
	var doc struct {
		FormatVersion *int    `json:"format_version"`
		Tool          *string `json:"tool"`
		Groups        *[]struct {
			Kind     *string `json:"kind"`
			Endpoint *string `json:"endpoint"`
			Count    int     `json:"count"`
		} `json:"groups"`
	}
	notReport := fmt.Errorf("--baseline %s: not a tcpstate JSON report (make one with tcpstate -f json -o FILE)", name)
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%v: invalid JSON at byte %d", notReport, se.Offset)
		}
		return nil, notReport
	}
	if doc.FormatVersion == nil || doc.Tool == nil || !strings.HasPrefix(*doc.Tool, "tcpstate") || doc.Groups == nil {
		return nil, notReport
	}
	if *doc.FormatVersion != report.FormatVersion {
		return nil, fmt.Errorf("--baseline %s: format_version %d; this tcpstate reads format_version %d", name, *doc.FormatVersion, report.FormatVersion)
	}
	b := &Baseline{File: name, groups: map[groupKey]int{}}
	for _, g := range *doc.Groups {
		if g.Kind == nil || g.Endpoint == nil {
			return nil, fmt.Errorf("%v: a group without kind or endpoint", notReport)
		}
		k := groupKey{*g.Kind, *g.Endpoint}
		if _, ok := b.groups[k]; !ok {
			b.order = append(b.order, k)
		}
		b.groups[k] += g.Count
	}
	return b, nil
}
