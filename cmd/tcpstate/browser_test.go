package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium binary, or "".
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// pageFacts is what the browser test reads from the rendered page.
type pageFacts struct {
	Verdict  string            `json:"verdict"`
	Groups   []string          `json:"groups"`
	Bands    map[string]int    `json:"bands"`
	CWBandUp bool              `json:"cwBandGrows"`
	Rows     map[string]string `json:"rows"`
	Ladders  int               `json:"ladders"`
}

// readPage is evaluated in the page: the verdict, the finding groups, the
// chart's bands per state, whether the servers' CLOSE_WAIT band is higher at
// the end than at the start, and the ladder rows of the first ladder.
const readPage = `(() => {
  const f = {verdict: document.getElementById("verdict").textContent, groups: [], bands: {}, rows: {},
    ladders: document.querySelectorAll("details.ladder").length, cwBandGrows: false};
  document.querySelectorAll("div.group").forEach(g => f.groups.push(g.dataset.kind + "@" + g.dataset.endpoint));
  document.querySelectorAll("svg.chart polygon").forEach(p => { f.bands[p.dataset.state] = (f.bands[p.dataset.state] || 0) + 1; });
  const charts = document.querySelectorAll("svg.chart");
  const cw = charts.length > 1 && charts[1].querySelector('polygon[data-state="CLOSE_WAIT"]');
  if (cw) {
    // The band's height in its first and last quarter, from its rendered box per slice.
    const pts = cw.getAttribute("points").trim().split(/\s+/).map(p => p.split(",").map(Number));
    const n = pts.length / 2, top = pts.slice(0, n), bottom = pts.slice(n).reverse();
    const h = i => bottom[i][1] - top[i][1];
    const q = Math.max(1, Math.floor(n / 4));
    let early = 0, late = 0;
    for (let i = 0; i < q; i++) { early += h(i); late += h(n - 1 - i); }
    f.cwBandGrows = late > early;
  }
  const first = document.querySelector("details.ladder");
  if (first) first.querySelectorAll("g.row").forEach(r => { f.rows[r.dataset.frame] = r.textContent.replace(/\s+/g, " ").trim(); });
  return JSON.stringify(f);
})()`

// TestHTMLInBrowser opens HTML reports in headless Chromium from a file URL
// with the network cut off, and checks that the page renders without a
// console error or a request to anything but the file, that the findings
// are in the DOM, the chart has its bands, and the ladder of the first
// leaking connection shows the client's FIN and the server's ACK. It saves
// a screenshot of each page in the test's temporary directory.
func TestHTMLInBrowser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		if os.Getenv("TCPSTATE_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium binary, and TCPSTATE_REQUIRE_BROWSER is set (.ci/run installs chromium)")
		}
		t.Skip("no Chromium binary (apt-get install chromium; .ci/run installs it)")
	}
	dir := t.TempDir()
	// A capture of many connections where CLOSE_WAIT leaks pile up:
	// the generator's mix with 5% leaks.
	big := filepath.Join(dir, "leaks.pcap")
	if out, err := exec.Command("go", "run", "../tcpstate-gen", "-conns", "20000", "-rate", "200",
		"-mix", "default,close-wait=0.05", "-o", big).CombinedOutput(); err != nil {
		t.Fatalf("tcpstate-gen: %v\n%s", err, out)
	}
	tests := []struct {
		name, capture string
		check         func(t *testing.T, f pageFacts)
	}{
		{"close-wait-leak", closeWaitTrace, func(t *testing.T, f pageFacts) {
			if !strings.HasPrefix(f.Verdict, "192.0.2.2:8080 is leaking sockets: 5 connections stuck in CLOSE_WAIT") {
				t.Errorf("verdict %q", f.Verdict)
			}
			if len(f.Groups) != 2 || f.Groups[0] != "close-wait@192.0.2.2:8080" {
				t.Errorf("groups %v", f.Groups)
			}
			if f.Ladders != 5 || !strings.Contains(f.Rows["10"], "F. seq 20 ack 41") || !strings.Contains(f.Rows["47"], ". seq 41 ack 21") ||
				!strings.Contains(f.Rows["47"], "CLOSE_WAIT") {
				t.Errorf("%d ladders; first ladder rows %v; want the client's FIN (frame 10) and the server's ACK into CLOSE_WAIT (47)", f.Ladders, f.Rows)
			}
		}},
		{"generated-leaks", big, func(t *testing.T, f pageFacts) {
			if !strings.Contains(f.Verdict, "is leaking sockets") || !strings.Contains(f.Verdict, "CLOSE_WAIT") {
				t.Errorf("verdict %q", f.Verdict)
			}
			if !f.CWBandUp {
				t.Errorf("the servers' CLOSE_WAIT band does not grow")
			}
		}},
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", true),
		// No network: every host resolves to nothing and every proxy is dead.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"), chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.WindowSize(1200, 900))...)
	defer cancel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := filepath.Join(dir, tt.name+".html")
			if _, errs, code := tcpstate(t, nil, "-q", "-o", report, tt.capture); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			st, err := os.Stat(report)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() > 5<<20 {
				t.Errorf("report is %d bytes; want under 5 MB", st.Size())
			}
			ctx, cancel := chromedp.NewContext(alloc)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
			defer cancelT()
			var mu sync.Mutex
			var problems []string
			url := "file://" + report
			err = chromedp.Listen(ctx, func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch e := ev.(type) {
				case *runtime.EventConsoleAPICalled:
					if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
						b, _ := json.Marshal(e.Args)
						problems = append(problems, "console."+string(e.Type)+": "+string(b))
					}
				case *runtime.EventExceptionThrown:
					problems = append(problems, "exception: "+e.ExceptionDetails.Text)
				case *network.EventRequestWillBeSent:
					if e.Request.URL != url && !strings.HasPrefix(e.Request.URL, "data:") {
						problems = append(problems, "request: "+e.Request.URL)
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](readPage))
			if err != nil {
				t.Fatal(err)
			}
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			shot := filepath.Join(dir, tt.name+".png")
			if err := os.WriteFile(shot, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", shot)
			var f pageFacts
			if err := json.Unmarshal([]byte(raw), &f); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			if len(problems) > 0 {
				t.Errorf("the page had problems: %v", problems)
			}
			mu.Unlock()
			if f.Bands["CLOSE_WAIT"] == 0 || f.Bands["ESTABLISHED"] == 0 {
				t.Errorf("chart bands %v; want CLOSE_WAIT and ESTABLISHED", f.Bands)
			}
			tt.check(t, f)
		})
	}
}
