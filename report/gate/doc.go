// Package gate is the CI gate of tcpstate: it parses the rules
// (--fail-on, --max), the ignore rules (--ignore, --ignore-file) and a
// baseline report (--baseline), and evaluates them on a finished
// report.Report into its Gate section.
//
// It does no analysis: it reads the report's exact counts (report.Counts),
// its groups and its listed findings. The only thing it hands the analysis
// is Ignore.Match, which the report's Builder calls on each finding so that
// ignored findings are counted apart exactly at any scale. Rendering the
// verdict (text, JUnit, GitHub annotations) is the report package's job.
package gate
