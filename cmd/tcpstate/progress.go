package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcpstate/tcpstate/cmd/internal/cli"
)

// progress draws a one-line progress bar on stderr while captures are read:
// bytes read of the total, packets per second and the time left, or, when
// the total is unknown (stdin, gzip), bytes and rate only.
type progress struct {
	w       io.Writer
	total   int64 // bytes, or 0 when unknown
	bytes   atomic.Int64
	packets atomic.Uint64
	start   time.Time
	now     func() time.Time
	stop    chan struct{}
	done    sync.WaitGroup
	width   int // of the last line drawn, to blank it
	// read is how long reading the input took, set once the last packet
	// was read (packets then holds their number): the bar then says the
	// input is read and the analysis finishing, instead of a rate that
	// falls while the last connections are closed and the report built.
	read atomic.Int64
}

// progressInterval is how often the bar is redrawn.
const progressInterval = 250 * time.Millisecond

// wantProgress decides from --progress and whether stderr is a terminal.
func wantProgress(mode string, stderr io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return cli.IsTerminal(stderr)
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, now: time.Now, stop: make(chan struct{})}
}

// reader counts the bytes read through r.
func (p *progress) reader(r io.Reader) io.Reader { return &countingReader{r: r, n: &p.bytes} }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// setPackets records how many packets were read so far.
func (p *progress) setPackets(n uint64) { p.packets.Store(n) }

// readDone records that the input was read to its end, n packets.
func (p *progress) readDone(n uint64) {
	p.packets.Store(n)
	p.read.Store(int64(max(p.now().Sub(p.start), 1)))
}

// run redraws the bar until finish is called.
func (p *progress) run() {
	p.start = p.now()
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
}

// finish stops the bar and blanks its line.
func (p *progress) finish() {
	close(p.stop)
	p.done.Wait()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}

func (p *progress) draw() {
	line := p.line(p.now().Sub(p.start))
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.width = len(line)
}

// line renders the bar after elapsed time.
func (p *progress) line(elapsed time.Duration) string {
	b, n := p.bytes.Load(), p.packets.Load()
	if read := time.Duration(p.read.Load()); read > 0 {
		return fmt.Sprintf("tcpstate: read %s, %s packets in %s (%s pkts/s); finishing the analysis",
			size(b), si(float64(n)), seconds(read), si(float64(n)/max(read.Seconds(), 1e-3)))
	}
	secs := max(elapsed.Seconds(), 1e-3)
	rate := fmt.Sprintf("%s pkts/s", si(float64(n)/secs))
	if p.total <= 0 {
		return fmt.Sprintf("tcpstate: %s read, %s, %s", size(b), rate, si(float64(b)/secs)+"B/s")
	}
	frac := min(float64(b)/float64(p.total), 1)
	const barWidth = 24
	full := int(frac * barWidth)
	bar := strings.Repeat("#", full) + strings.Repeat(".", barWidth-full)
	eta := "--:--"
	if frac > 0 {
		left := time.Duration(float64(elapsed) * (1 - frac) / frac)
		eta = clock(left)
	}
	return fmt.Sprintf("tcpstate: [%s] %3.0f%% %s/%s, %s, ETA %s", bar, frac*100, size(b), size(p.total), rate, eta)
}

// si formats x with a k/M/G suffix: "3.1M".
func si(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.1fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.1fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// size formats a byte count: "1.2 GB".
func size(b int64) string {
	x := float64(b)
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.1f GB", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.1f MB", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1f kB", x/1e3)
	}
	return fmt.Sprintf("%d B", b)
}

// seconds formats a duration the bar shows: "0.84s", "12.3s", "1:05:00".
func seconds(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return clock(d)
}

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// plainSize returns the size of f when its bytes are the capture itself (a
// regular file that is not gzip-compressed), else 0: progress then shows
// bytes and rate only.
func plainSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		return 0
	}
	return st.Size()
}
