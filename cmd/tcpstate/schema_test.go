package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tcpstate/tcpstate/report/schema"
)

var (
	schemaOnce            sync.Once
	reportSchema, rowSchm *jsonschema.Schema
	schemaErr             error
)

// schemas compiles the JSON report's schema (report/schema/v1.json), and its
// connection sub-schema for --all-connections rows, with formats asserted.
func schemas(t *testing.T) (*jsonschema.Schema, *jsonschema.Schema) {
	t.Helper()
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.V1))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const id = "https://github.com/tcpstate/tcpstate/report/schema/v1.json"
		if schemaErr = c.AddResource(id, doc); schemaErr != nil {
			return
		}
		if reportSchema, schemaErr = c.Compile(id); schemaErr != nil {
			return
		}
		rowSchm, schemaErr = c.Compile(id + "#/$defs/connection")
	})
	if schemaErr != nil {
		t.Fatalf("report/schema/v1.json: %v", schemaErr)
	}
	return reportSchema, rowSchm
}

// validateReport fails the test unless data is a JSON report that the
// schema accepts.
func validateReport(t *testing.T, name string, data []byte) {
	t.Helper()
	sch, _ := schemas(t)
	if err := validate(sch, data); err != nil {
		t.Errorf("%s does not match report/schema/v1.json: %v", name, err)
	}
}

func validate(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// TestGoldenJSONMatchesSchema: every golden JSON report validates against
// the published schema (the JSON contract); a change to the JSON that the
// schema does not describe fails here.
func TestGoldenJSONMatchesSchema(t *testing.T) {
	var files []string
	filepath.WalkDir("testdata/golden", func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no golden JSON reports in testdata/golden")
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, "testdata/golden/"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			validateReport(t, f, data)
		})
	}
}

// TestSchemaRejects: the schema is not vacuous: it rejects what the
// contract does not allow.
func TestSchemaRejects(t *testing.T) {
	sch, _ := schemas(t)
	good, err := os.ReadFile("testdata/golden/kernel/port-reuse.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, good); err != nil {
		t.Fatalf("the golden report itself fails: %v", err)
	}
	tests := []struct{ name, old, new string }{
		{"unknown top-level member", `"format_version": 1,`, `"format_version": 1, "extra": 1,`},
		{"format version 2", `"format_version": 1,`, `"format_version": 2,`},
		{"state name in RFC spelling", `"client_state": "CLOSED"`, `"client_state": "CLOSED-WAIT"`},
		{"unknown kind", `"kind": "close-wait"`, `"kind": "close_wait"`},
		{"endpoint without port", `"client": "192.0.2.1:41000"`, `"client": "192.0.2.1"`},
		{"negative count", `"connections": 2,`, `"connections": -2,`},
		{"time not RFC 3339", `"start": "2026-11-21T14:55:19.551861Z"`, `"start": "2026-11-21 14:55:19"`},
		{"missing summary kind", `"capture-gap": 0,`, ``},
		{"ignored false", `"connection": 3,`, `"connection": 3, "ignored": false,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tt.old, tt.new, 1)
			if bad == string(good) {
				t.Fatalf("%q not in the golden report", tt.old)
			}
			if validate(sch, []byte(bad)) == nil {
				t.Errorf("the schema accepts a report with %s", tt.name)
			}
		})
	}
}

// TestAllConnectionsRowsMatchSchema: each --all-connections line is the
// schema's connection object.
func TestAllConnectionsRowsMatchSchema(t *testing.T) {
	_, row := schemas(t)
	for _, c := range []string{"../../testdata/kernel/port-reuse.pcap", "../../testdata/kernel/syn-recv.pcap", "../../testdata/kernel/ipv6-close-wait.pcap"} {
		out := filepath.Join(t.TempDir(), "all.jsonl")
		if _, errs, code := tcpstate(t, nil, "-q", "-f", "json", "--all-connections", out, c); code != 0 {
			t.Fatalf("%s: exit %d %s", c, code, errs)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		n := 0
		for sc.Scan() {
			n++
			if err := validate(row, sc.Bytes()); err != nil {
				t.Errorf("%s line %d: %v", out, n, err)
			}
		}
		f.Close()
		if n == 0 {
			t.Errorf("%s: no rows", c)
		}
	}
}
