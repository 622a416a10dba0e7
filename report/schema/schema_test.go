package schema

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// TestSchemaCompiles: v1.json is a valid draft 2020-12 schema.
func TestSchemaCompiles(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(V1))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("v1.json", doc); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("v1.json"); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaEnumsAreTheCode: the names the schema allows are exactly the
// names the code writes, so a new kind, state or event cannot reach the
// JSON without the schema (and the contract) knowing.
func TestSchemaEnumsAreTheCode(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
		Properties struct {
			Capture struct {
				Properties struct {
					Skipped struct {
						PropertyNames struct {
							Enum []string `json:"enum"`
						} `json:"propertyNames"`
					} `json:"skipped"`
					Tunneled struct {
						PropertyNames struct {
							Enum []string `json:"enum"`
						} `json:"propertyNames"`
					} `json:"tunneled"`
				} `json:"properties"`
			} `json:"capture"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(V1, &s); err != nil {
		t.Fatal(err)
	}
	var kinds, states, events, skips, endings []string
	for k := range fsm.NumKinds {
		kinds = append(kinds, fsm.Kind(k).String())
	}
	for st := range fsm.NumStates {
		states = append(states, fsm.State(st).String())
	}
	for e := range fsm.NumEvents {
		events = append(events, fsm.Event(e).String())
	}
	for r := 1; r < reassembly.NumSkipReasons; r++ { // 0 is "none", never written
		skips = append(skips, reassembly.SkipReason(r).String())
	}
	var tunnels []string
	for i := range reassembly.NumTunnels {
		tunnels = append(tunnels, reassembly.TunnelName(i))
	}
	for e := fsm.StillOpen; e.String() != "invalid"; e++ {
		endings = append(endings, e.String())
	}
	var finding struct {
		Properties struct {
			Ending struct {
				Enum []string `json:"enum"`
			} `json:"ending"`
		} `json:"properties"`
	}
	var raw struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	json.Unmarshal(V1, &raw)
	json.Unmarshal(raw.Defs["finding"], &finding)
	tests := []struct {
		name      string
		got, want []string
	}{
		{"kind", s.Defs["kind"].Enum, kinds},
		{"state", s.Defs["state"].Enum, states},
		{"event", s.Defs["event"].Enum, events},
		{"severity", s.Defs["severity"].Enum, []string{fsm.Info.String(), fsm.Warning.String(), fsm.Error.String()}},
		{"skipped", s.Properties.Capture.Properties.Skipped.PropertyNames.Enum, skips},
		{"ending", finding.Properties.Ending.Enum, endings},
		{"tunneled", s.Properties.Capture.Properties.Tunneled.PropertyNames.Enum, tunnels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("schema enum %v; the code writes %v", tt.got, tt.want)
			}
		})
	}
}
