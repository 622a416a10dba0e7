package reassembly

// Tunnel is a set of encapsulations a TCP segment was found inside. Its
// four-tuple is the inner one; the outer headers are only counted
// (Stats.Tunneled).
type Tunnel uint16

// Encapsulations the decoder opens.
const (
	TunnelVXLAN  Tunnel = 1 << iota // VXLAN and VXLAN-GPE (UDP 4789, 8472, 4790)
	TunnelGeneve                    // Geneve (UDP 6081)
	TunnelGRE                       // GRE, including PPTP's, Aruba's and GRE over UDP (4754)
	TunnelERSPAN                    // ERSPAN type I, II or III, over GRE
	TunnelGTP                       // GTP-U (UDP 2152)
	TunnelTeredo                    // Teredo (UDP 3544)
	TunnelIPinIP                    // IPv4 or IPv6 in IPv4 or IPv6 (protocols 4 and 41)
	TunnelMPLS                      // an MPLS label stack
	TunnelPPPoE                     // a PPPoE session
	TunnelAYIYA                     // AYIYA, "anything in anything" (UDP 5072)
	numTunnels   = iota
)

// NumTunnels is the number of Tunnel kinds, for sizing counter arrays.
const NumTunnels = numTunnels

var tunnelNames = [numTunnels]string{"vxlan", "geneve", "gre", "erspan", "gtp-u", "teredo", "ip-in-ip", "mpls", "pppoe", "ayiya"}

// TunnelName returns the name of the i-th kind (Tunnel 1<<i), as the
// report shows it.
func TunnelName(i int) string { return tunnelNames[i] }

// TunnelCounts counts TCP segments by the encapsulations they were in
// (index i counts Tunnel 1<<i); a segment in nested tunnels counts once
// in each.
type TunnelCounts [numTunnels]uint64

// Add counts one segment found inside t.
func (c *TunnelCounts) Add(t Tunnel) {
	for i := range c {
		if t&(1<<i) != 0 {
			c[i]++
		}
	}
}
