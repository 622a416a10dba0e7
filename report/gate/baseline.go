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
// format_version, tool and groups are kept; the rest (the connections list
// may be large) is streamed past, not held in memory.
func ReadBaseline(r io.Reader, name string) (*Baseline, error) {
	notReport := fmt.Errorf("--baseline %s: not a tcpstate JSON report (make one with tcpstate -f json -o FILE)", name)
	bad := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%v: invalid JSON at byte %d", notReport, se.Offset)
		}
		return notReport
	}
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil {
		return nil, bad(err)
	} else if t != json.Delim('{') {
		return nil, notReport
	}
	b := &Baseline{File: name, groups: map[groupKey]int{}}
	var version *int
	var tool *string
	groups := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		var err2 error
		switch t {
		case "format_version":
			err2 = dec.Decode(&version)
			if err2 == nil && version != nil && *version != report.FormatVersion {
				return nil, fmt.Errorf("--baseline %s: format_version %d; this tcpstate reads format_version %d", name, *version, report.FormatVersion)
			}
		case "tool":
			err2 = dec.Decode(&tool)
		case "groups":
			groups = true
			err2 = b.readGroups(dec)
		default:
			err2 = skip(dec)
		}
		if err2 != nil {
			return nil, bad(err2)
		}
	}
	if version == nil || tool == nil || !strings.HasPrefix(*tool, "tcpstate") || !groups {
		return nil, notReport
	}
	return b, nil
}

// errNoKind is a group without kind or endpoint.
var errNoKind = errors.New("gate: a group without kind or endpoint")

// readGroups reads the groups array one group at a time.
func (b *Baseline) readGroups(dec *json.Decoder) error {
	if t, err := dec.Token(); err != nil {
		return err
	} else if t != json.Delim('[') {
		return errNoKind
	}
	for dec.More() {
		var g struct {
			Kind     *string `json:"kind"`
			Endpoint *string `json:"endpoint"`
			Count    int     `json:"count"`
		}
		if err := dec.Decode(&g); err != nil {
			return err
		}
		if g.Kind == nil || g.Endpoint == nil {
			return errNoKind
		}
		k := groupKey{*g.Kind, *g.Endpoint}
		if _, ok := b.groups[k]; !ok {
			b.order = append(b.order, k)
		}
		b.groups[k] += g.Count
	}
	_, err := dec.Token()
	return err
}

// skip reads past one JSON value, token by token.
func skip(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
