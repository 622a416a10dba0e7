package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpstate/tcpstate/reassembly"
)

// summed builds an Ethernet frame of ip (IPv4 or IPv6) and a TCP segment
// with n bytes of data, its checksums computed.
func summed(t *testing.T, ip gopacket.NetworkLayer, n int) []byte {
	t.Helper()
	tcp := synTCP() // options too: the checksum covers them
	tcp.ACK, tcp.PSH, tcp.SYN = true, true, false
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	et := layers.EthernetTypeIPv4
	if _, ok := ip.(*layers.IPv6); ok {
		et = layers.EthernetTypeIPv6
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + 1)
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		testEth(et), ip.(gopacket.SerializableLayer), tcp, gopacket.Payload(data))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// flip returns a copy of frame with one bit of byte i changed.
func flip(frame []byte, i int) []byte {
	f := append([]byte(nil), frame...)
	f[i] ^= 0x10
	return f
}

// TestVerifyChecksums: with VerifyChecksums, a segment whose IPv4 header
// or TCP checksum fails is skipped as bad-checksum; one the capture does
// not hold whole cannot be checked and counts; without it, nothing is
// checked. Odd data lengths pad the last word.
func TestVerifyChecksums(t *testing.T) {
	v4 := summed(t, testIPv4(layers.IPProtocolTCP), 33)
	v6 := summed(t, testIPv6(layers.IPProtocolTCP), 33)
	const ip4, tcp4, tcp6 = ethernetHeaderLen, ethernetHeaderLen + ipv4MinHeaderLen, ethernetHeaderLen + ipv6HeaderLen
	// A padded frame: Ethernet padding after the IP packet is not summed.
	padded := append(append([]byte(nil), summed(t, testIPv4(layers.IPProtocolTCP), 0)...), 0xee, 0xee, 0xee, 0xee, 0xee, 0xee)
	tests := []struct {
		name   string
		frame  []byte
		whole  bool
		verify bool
		want   reassembly.SkipReason
	}{
		{"ipv4, both good", v4, true, true, reassembly.NotSkipped},
		{"ipv6, good", v6, true, true, reassembly.NotSkipped},
		{"ethernet padding", padded, true, true, reassembly.NotSkipped},
		{"ipv4 header checksum bad", flip(v4, ip4+10), true, true, reassembly.SkipBadChecksum},
		{"tcp checksum bad", flip(v4, tcp4+16), true, true, reassembly.SkipBadChecksum},
		{"a data byte changed", flip(v4, len(v4)-1), true, true, reassembly.SkipBadChecksum},
		{"a tcp option changed", flip(v4, tcp4+22), true, true, reassembly.SkipBadChecksum},
		{"ipv6, tcp checksum bad", flip(v6, tcp6+17), true, true, reassembly.SkipBadChecksum},
		{"ipv6, source address changed", flip(v6, ethernetHeaderLen+8), true, true, reassembly.SkipBadChecksum},
		{"cut by a snaplen: not checkable", flip(v4, len(v4)-1)[:len(v4)-10], false, true, reassembly.NotSkipped},
		{"not verifying", flip(v4, tcp4+16), true, false, reassembly.NotSkipped},
	}
	d := NewDecoder()
	for _, tt := range tests {
		d.Whole, d.VerifyChecksums = tt.whole, tt.verify
		var seg reassembly.Segment
		if r := d.Decode(tt.frame, reassembly.LinkTypeEthernet, &seg); r != tt.want {
			t.Errorf("%s: %v; want %v", tt.name, r, tt.want)
		}
	}
}

// TestVerifyChecksumsOnZeekTraces: the bad checksums --verify-checksums
// finds in Zeek's traces are those tshark finds (tshark -o
// tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y
// 'tcp.checksum.status==0 || ip.checksum.status==0'), inside tunnels
// too. One exception, pppoe-over-qinq: tshark counts 6 whose PPPoE
// length cuts 6 bytes off the IP packet; over the IP length, as Zeek sums
// them (its history has no c), they verify.
func TestVerifyChecksumsOnZeekTraces(t *testing.T) {
	want := map[string]uint64{
		"chksums-localhost-bad-chksum": 6, "http-connect-with-header": 58, "http-post-large": 38,
		"ldap-missing-ldap-logs": 22, "mpls-in-vlan": 3, "tcp-http-with-padding": 11,
		"tcp-retransmit-fast009": 39, "tls-irc-starttls": 10, "tunnels-geneve-47101": 4,
	}
	files, _ := filepath.Glob(filepath.Join(formatsDir, "..", "zeek", "*.pcap"))
	if len(files) < 40 {
		t.Fatalf("%d Zeek traces", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".pcap")
		src, err := NewSource([]Input{{Name: name, R: strings.NewReader(string(data))}})
		if err != nil {
			t.Fatal(err)
		}
		src.VerifyChecksums()
		var seg reassembly.Segment
		for src.Next(&seg) == nil {
		}
		src.Close()
		if got := src.Stats().Skipped[reassembly.SkipBadChecksum]; got != want[name] {
			t.Errorf("%s: %d bad checksums; want %d", name, got, want[name])
		}
	}
}
