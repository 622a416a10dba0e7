package reassembly

// SkipReason says why a captured packet did not become a Segment.
type SkipReason uint8

// Reasons a packet is skipped. Skipped packets are counted, never fatal.
const (
	NotSkipped          SkipReason = iota
	SkipNotIP                      // link payload is not IPv4/IPv6 (ARP, LLDP, …)
	SkipNotTCP                     // IP payload is not TCP (UDP, ICMP, …)
	SkipFragment                   // IP fragment after the first: carries no TCP header
	SkipTruncated                  // captured bytes end inside a link, IP or TCP header
	SkipBadHeader                  // malformed header (bad IHL, TCP data offset < 5, …)
	SkipUnsupportedLink            // link type tcpstate cannot decode
	SkipFiltered                   // rejected by the user's BPF filter (-F on files)
	SkipEncrypted                  // an encrypted 802.11 frame: what it carries cannot be read
	SkipBadChecksum                // an IPv4 or TCP checksum that does not verify (Decoder.VerifyChecksums)
	numSkipReasons
)

// NumSkipReasons is the number of SkipReason values, for sizing counter arrays.
const NumSkipReasons = int(numSkipReasons)

var skipNames = [numSkipReasons]string{
	NotSkipped:          "none",
	SkipNotIP:           "not-ip",
	SkipNotTCP:          "not-tcp",
	SkipFragment:        "ip-fragment",
	SkipTruncated:       "truncated",
	SkipBadHeader:       "bad-header",
	SkipUnsupportedLink: "unsupported-link",
	SkipFiltered:        "filtered",
	SkipEncrypted:       "encrypted",
	SkipBadChecksum:     "bad-checksum",
}

// String returns the reason's stable name, used as a JSON key.
func (r SkipReason) String() string {
	if r < numSkipReasons {
		return skipNames[r]
	}
	return "unknown"
}

// SkipCounts counts skipped packets by reason.
type SkipCounts [numSkipReasons]uint64
