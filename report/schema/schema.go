// Package schema holds the JSON Schema (draft 2020-12) of tcpstate's JSON
// report, the contract of format_version 1; tests validate every JSON
// report they produce against it.
//
// Versioning: additive changes keep format_version 1 and are added to
// v1.json (a new member of an object, a new finding kind, a new value of a
// descriptive string such as an event); readers ignore what they do not
// know. Anything else (removing or renaming a member, changing its type,
// unit or meaning, making an always-present member optional) bumps
// format_version, with a new file beside this one.
package schema

import _ "embed"

// V1 is the JSON Schema of format_version 1.
//
//go:embed v1.json
var V1 []byte
