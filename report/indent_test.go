package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestIndentMatchesEncodingJSON: indent gives json.Indent's bytes, on the
// awkward cases (empty containers, escapes, brackets and quotes in strings)
// and on whole reports.
func TestIndentMatchesEncodingJSON(t *testing.T) {
	values := []any{
		map[string]any{}, []int{}, map[string]any{"a": []any{}, "b": map[string]int{}},
		[]string{`quote " inside`, `back\slash\`, `brackets [{}] , : in a string`, "\u2028<&>\x01"},
		map[string]any{"nested": []any{[]any{1, 2, []any{}}, map[string]any{"x": nil, "y": true}}, "n": -1.5e-7},
		"plain", 42, nil,
	}
	for _, v := range values {
		check(t, v)
	}
}

func check(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "    "} {
		var want bytes.Buffer
		if err := json.Indent(&want, b, prefix, "  "); err != nil {
			t.Fatal(err)
		}
		if got := indent(nil, b, prefix, "  "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("indent(%s, %q):\n%s\nwant\n%s", b, prefix, got, want.Bytes())
		}
	}
}

// FuzzIndent checks indent against json.Indent on any valid JSON.
func FuzzIndent(f *testing.F) {
	for _, s := range []string{`{}`, `[1,{"a":"b\"]"},[]]`, `{"k":[{},[],""]}`, `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		check(t, v)
	})
}
