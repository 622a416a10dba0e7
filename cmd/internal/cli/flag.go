// Package cli holds what tcpstate's commands share in talking to their
// user: how a flag's bad value is worded, whether output goes to a
// terminal, what an operating-system error says.
package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// FlagError returns what to tell the user about err, an error of
// pflag.FlagSet.Parse: for a bad value, the flag's long name, the value
// and what is wrong with it; anything else as pflag words it. pflag says
// `invalid argument "x" for "-j, --jobs" flag: strconv.ParseInt: parsing
// "x": invalid syntax`, the Go function that failed and the value twice;
// FlagError says `--jobs "x": not a whole number`.
func FlagError(err error) string {
	var iv *pflag.InvalidValueError
	if !errors.As(err, &iv) || iv.GetFlag() == nil {
		return err.Error()
	}
	why := "not valid"
	var ne *strconv.NumError
	switch cause := iv.Unwrap(); {
	case errors.As(cause, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		why = "out of range"
	case errors.As(cause, &ne) && ne.Func == "ParseBool":
		why = "not true or false"
	case errors.As(cause, &ne) && ne.Func == "ParseFloat":
		why = "not a number"
	case errors.As(cause, &ne):
		why = "not a whole number"
	case cause != nil && strings.HasPrefix(cause.Error(), "time: "):
		why = "not a duration: give one such as 500ms, 30s, 5m or 1h30m"
	case cause != nil:
		why = cause.Error()
	}
	return fmt.Sprintf("--%s %q: %s", iv.GetFlag().Name, iv.GetValue(), why)
}
