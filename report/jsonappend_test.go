package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// awkward are strings that encoding/json escapes: quotes, backslashes,
// control characters, HTML's <, > and &, invalid UTF-8, U+2028 and
// U+2029, and plain multi-byte text.
var awkward = []string{
	"", "plain", `q"uote`, `back\slash`, "tab\tnew\nline\r\b\f\x00\x1f\x7f",
	"<script>&amp;</script>", "bad \xff utf-8 \xc3", "line\u2028para\u2029", "héllo wörld ✓ 🙂",
	"192.0.2.1:80", "[2001:db8::1]:443",
}

// fill sets every exported field of the value v points to, recursively,
// from rng: slices get 0-3 elements or stay nil, so that null, [] and
// omitempty are all exercised.
func fill(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("", -7*3600), time.Local}
			t := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)*int64(rng.IntN(2))).In(zones[rng.IntN(len(zones))])
			v.Set(reflect.ValueOf(t))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i))
			}
		}
	case reflect.Slice:
		n := rng.IntN(5) - 1 // -1: nil
		if n < 0 {
			v.SetZero()
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(rng, v.Index(i))
		}
	case reflect.String:
		v.SetString(awkward[rng.IntN(len(awkward))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 1)
	case reflect.Int, reflect.Int64:
		v.SetInt([]int64{0, 1, -1, 42, math.MaxInt32, math.MinInt64}[rng.IntN(6)])
	case reflect.Uint8: // the fsm enums, a few beyond their names
		v.SetUint(uint64(rng.IntN(20)))
	case reflect.Uint64, reflect.Uint:
		v.SetUint([]uint64{0, 1, 7, 1 << 40, math.MaxUint64}[rng.IntN(5)])
	case reflect.Float64:
		v.SetFloat([]float64{0, 1, -2.5, 0.1, 1e-7, 3e-12, 123456.789, 1e20, 1e21, 5e300, 60.000001}[rng.IntN(11)])
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// TestAppendersMatchEncodingJSON fills every field of the list elements
// with values encoding/json treats specially, and checks that the
// hand-written appenders write json.MarshalIndent's bytes. A field
// added to Connection, Finding or Group but not to its appender fails it.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v jsonAppender) {
		t.Helper()
		want, err := json.MarshalIndent(v, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := v.appendJSON([]byte("x"), "    ")
		if !ok {
			t.Fatalf("%T: appender refused %+v", v, v)
		}
		if !bytes.Equal(got[1:], want) {
			t.Fatalf("%T: not encoding/json's bytes: %s", v, firstLineDiff(string(got[1:]), string(want)))
		}
	}
	for range 2000 {
		var c Connection
		fill(rng, reflect.ValueOf(&c).Elem())
		check(&c)
		var f Finding
		fill(rng, reflect.ValueOf(&f).Elem())
		check(&f)
		var g Group
		fill(rng, reflect.ValueOf(&g).Elem())
		check(&g)
	}
	// The fill must reach every member: a Connection whose every slice
	// is non-empty writes every JSON key encoding/json writes.
	var c Connection
	for !allSet(reflect.ValueOf(c)) {
		c = Connection{}
		fill(rng, reflect.ValueOf(&c).Elem())
	}
	check(&c)
}

// allSet reports whether every exported field of struct v, and of the
// structs in its slices, is non-zero.
func allSet(v reflect.Value) bool {
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0 {
			return false
		}
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct && !allSet(f.Index(0)) {
			return false
		}
	}
	return true
}

// TestAppendersFallBack gives the appenders what time.Time's MarshalJSON
// and encoding/json refuse: they decline, and JSONOn returns encoding/json's
// own error instead of writing something else.
func TestAppendersFallBack(t *testing.T) {
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, r := range map[string]*Report{
		"year 10000":   {Connections: []Connection{{FirstTime: far}}},
		"zone +24:00":  {Findings: []Finding{{Since: time.Unix(0, 0).In(time.FixedZone("", 24*3600))}}},
		"NaN duration": {Findings: []Finding{{DurationSeconds: math.NaN()}}},
		"+Inf longest": {Groups: []Group{{LongestSeconds: math.Inf(1)}}},
	} {
		var els []jsonAppender
		for i := range r.Connections {
			els = append(els, &r.Connections[i])
		}
		for i := range r.Findings {
			els = append(els, &r.Findings[i])
		}
		for i := range r.Groups {
			els = append(els, &r.Groups[i])
		}
		if _, ok := els[0].appendJSON(nil, ""); ok {
			t.Errorf("%s: appender wrote it", name)
		}
		_, want := json.Marshal(r)
		err := JSON(&bytes.Buffer{}, r)
		if want == nil || err == nil || err.Error() != want.Error() {
			t.Errorf("%s: error %v, want encoding/json's %v", name, err, want)
		}
	}
}

// TestAppendersOnAReport writes every connection of a built report (the
// kinds of connections the fsm tests replay) both ways.
func TestAppendersOnAReport(t *testing.T) {
	r := Build("t", reassembly.Stats{}, mixed(300), fsm.DefaultConfig())
	if len(r.Connections) == 0 || len(r.Findings) == 0 || len(r.Groups) == 0 {
		t.Fatalf("report too small: %d %d %d", len(r.Connections), len(r.Findings), len(r.Groups))
	}
	var enc encoder
	for i := range r.Connections {
		want, _ := enc.appendValue(nil, &r.Connections[i], "    ")
		got, ok := r.Connections[i].appendJSON(nil, "    ")
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("connection %d: %s", i, firstLineDiff(string(got), string(want)))
		}
	}
}

// FuzzJSONString compares appendJSONString with encoding/json on any string.
func FuzzJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Add(strings.Repeat("\u2029<", 3))
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// FuzzJSONFloat compares appendJSONFloat with encoding/json on any float.
func FuzzJSONFloat(f *testing.F) {
	for _, x := range []float64{0, 1e-7, 1e21, -3.25e-300, 0.000001, 999999999999999999999} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, err := json.Marshal(x)
		got, ok := appendJSONFloat(nil, x)
		if ok != (err == nil) || ok && !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s %v, want %s %v", x, got, ok, want, err)
		}
	})
}
