package gate

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpstate/tcpstate/fsm"
)

// Pattern is one ignore rule: KIND@ENDPOINT, where KIND is a finding kind
// or * (any kind), and ENDPOINT is ADDR:PORT with * for either part. ADDR
// may be a CIDR prefix (10.0.0.0/8); an IPv6 address or prefix with a port
// is bracketed ([2001:db8::2]:8080, [2001:db8::/32]:*). Shorter forms:
// KIND alone (every endpoint), KIND@ADDR (any port), KIND@*:PORT.
type Pattern struct {
	text    string
	anyKind bool
	kind    fsm.Kind
	anyAddr bool
	prefix  netip.Prefix
	anyPort bool
	port    uint16
}

// String returns the pattern as given.
func (p *Pattern) String() string { return p.text }

// ParsePattern parses an ignore rule.
func ParsePattern(s string) (Pattern, error) {
	s = strings.TrimSpace(s)
	p := Pattern{text: s, anyAddr: true, anyPort: true}
	kind, ep, hasEP := strings.Cut(s, "@")
	kind = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(kind)), "_", "-")
	switch {
	case kind == "*" || kind == "any":
		p.anyKind = true
	case kind == "":
		return p, fmt.Errorf("ignore rule %q: no kind before @ (use * for any kind)", s)
	default:
		k, ok := fsm.ParseKind(kind)
		if !ok {
			return p, fmt.Errorf("ignore rule %q: unknown finding kind %q", s, kind)
		}
		p.kind = k
	}
	if !hasEP {
		return p, nil
	}
	if err := p.parseEndpoint(strings.TrimSpace(ep)); err != nil {
		return p, fmt.Errorf("ignore rule %q: %v", s, err)
	}
	return p, nil
}

const endpointForms = "want ADDR:PORT, with * for either (10.0.0.5:*, *:443, [2001:db8::2]:80, 10.0.0.0/8:*)"

func (p *Pattern) parseEndpoint(ep string) error {
	if ep == "" {
		return fmt.Errorf("nothing after @: %s", endpointForms)
	}
	// A bare address or prefix, IPv6 included: any port.
	if p.setAddr(ep) == nil {
		return nil
	}
	var host, port string
	if strings.HasPrefix(ep, "[") {
		end := strings.Index(ep, "]")
		if end < 0 || !strings.HasPrefix(ep[end+1:], ":") {
			return fmt.Errorf("%q: %s", ep, endpointForms)
		}
		host, port = ep[1:end], ep[end+2:]
	} else {
		i := strings.LastIndex(ep, ":")
		if i < 0 {
			return fmt.Errorf("%q: %s", ep, endpointForms)
		}
		host, port = ep[:i], ep[i+1:]
		if strings.Contains(host, ":") {
			return fmt.Errorf("%q: an IPv6 address with a port goes in brackets, [addr]:port", ep)
		}
	}
	if err := p.setAddr(host); err != nil {
		return err
	}
	if port != "*" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return fmt.Errorf("port %q: want a number from 0 to 65535, or *", port)
		}
		p.anyPort, p.port = false, uint16(n)
	}
	return nil
}

func (p *Pattern) setAddr(s string) error {
	if s == "*" {
		p.anyAddr = true
		return nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		p.anyAddr, p.prefix = false, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		return nil
	}
	if pf, err := netip.ParsePrefix(s); err == nil {
		p.anyAddr, p.prefix = false, pf.Masked()
		return nil
	}
	return fmt.Errorf("address %q: want an IP address, a CIDR prefix, or *", s)
}

// matches reports whether endpoint a matches the pattern's address and port.
func (p *Pattern) matches(a netip.AddrPort) bool {
	return (p.anyAddr || p.prefix.Contains(a.Addr().Unmap())) && (p.anyPort || p.port == a.Port())
}

// Ignore is a list of ignore rules.
type Ignore []Pattern

// Match reports whether finding f matches an ignore rule: its kind, and its
// endpoint (the endpoint at fault that the report names), or for
// syn-timeout, which the report groups by the server that never answered,
// that server as well. Safe for concurrent use; it allocates nothing.
func (ig Ignore) Match(f *fsm.Finding) bool {
	for i := range ig {
		p := &ig[i]
		if !p.anyKind && p.kind != f.Kind {
			continue
		}
		if p.matches(f.Endpoint) || f.Kind == fsm.KindSynTimeout && p.matches(f.Peer) {
			return true
		}
	}
	return false
}

// Strings returns the rules as given.
func (ig Ignore) Strings() []string {
	out := make([]string, 0, len(ig))
	for i := range ig {
		out = append(out, ig[i].text)
	}
	return out
}

// ParseIgnoreFile reads ignore rules, one per line; # starts a comment
// (to the end of the line) and blank lines are skipped. Several rules on a
// line may be separated by commas, as on the command line. name is used in
// messages ("known.txt:3: …").
func ParseIgnoreFile(r io.Reader, name string) (Ignore, error) {
	var ig Ignore
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		ps, err := ParseIgnore(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		ig = append(ig, ps...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return ig, nil
}

// ParseIgnore parses one --ignore value: rules separated by commas.
func ParseIgnore(v string) (Ignore, error) {
	var ig Ignore
	for _, part := range strings.Split(v, ",") {
		p, err := ParsePattern(part)
		if err != nil {
			return nil, err
		}
		ig = append(ig, p)
	}
	return ig, nil
}
