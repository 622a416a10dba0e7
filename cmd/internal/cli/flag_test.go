package cli

import (
	"errors"
	"io"
	"testing"

	"github.com/spf13/pflag"
)

// bad is a flag value that refuses everything in its own words.
type bad struct{}

func (bad) String() string   { return "" }
func (bad) Set(string) error { return errors.New("use a, b or c") }
func (bad) Type() string     { return "abc" }

func TestFlagError(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-j", "x"}, `--jobs "x": not a whole number`},
		{[]string{"--jobs=99999999999999999999"}, `--jobs "99999999999999999999": out of range`},
		{[]string{"--jobs", "1.5"}, `--jobs "1.5": not a whole number`},
		{[]string{"--count", "-1"}, `--count "-1": not a whole number`},
		{[]string{"--msl", "30"}, `--msl "30": not a duration: give one such as 500ms, 30s, 5m or 1h30m`},
		{[]string{"--ipv6", "half"}, `--ipv6 "half": not a number`},
		{[]string{"--ipv6", "1e999"}, `--ipv6 "1e999": out of range`},
		{[]string{"--quiet=maybe"}, `--quiet "maybe": not true or false`},
		{[]string{"--mix", "z"}, `--mix "z": use a, b or c`},
		// Not a bad value: pflag's own words.
		{[]string{"--bogus"}, `unknown flag: --bogus`},
		{[]string{"--msl"}, `flag needs an argument: --msl`},
	} {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.IntP("jobs", "j", 0, "")
		fs.Uint("count", 0, "")
		fs.Duration("msl", 0, "")
		fs.Float64("ipv6", 0, "")
		fs.Bool("quiet", false, "")
		fs.Var(bad{}, "mix", "")
		err := fs.Parse(tt.args)
		if err == nil {
			t.Fatalf("%q: no error", tt.args)
		}
		if got := FlagError(err); got != tt.want {
			t.Errorf("%q: %q\n  want %q", tt.args, got, tt.want)
		}
	}
}
