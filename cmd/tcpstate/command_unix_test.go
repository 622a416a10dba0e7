//go:build unix

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// BenchmarkCommand runs the command itself, in a fresh process for each
// run, on a capture file whose concurrency is high: 300,000 connections
// arriving at 1,500 per second for 200 s of capture, about 110,000 tracked
// at once, as on a busy server. What the in-process benchmarks hide shows here: the page faults
// of a heap growing to its peak for the first time (they reuse memory
// their first run mapped), the collector pacing itself on that heap, the
// reading of the file and the JSON report. It reports packets per second,
// the peak RSS and the page faults of a run.
func BenchmarkCommand(b *testing.B) {
	path := filepath.Join(b.TempDir(), "busy.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	truth, err := synth.Write(w, synth.Config{Conns: 300000, Rate: 1500, Seed: 7})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, jobs := range []int{1, 2} {
		b.Run("j"+strconv.Itoa(jobs), func(b *testing.B) {
			var rss, faults int64
			hwm := filepath.Join(b.TempDir(), "hwm")
			for b.Loop() {
				os.Remove(hwm)
				cmd := exec.Command(os.Args[0], "-test.run=^TestMainHelper$", "--",
					"-j", strconv.Itoa(jobs), "-q", "--progress", "never", "-f", "json", "-o", os.DevNull, path)
				cmd.Env = append(os.Environ(), "TCPSTATE_TEST_MAIN=1", "TCPSTATE_TEST_HWM="+hwm)
				cmd.Stderr = os.Stderr
				err := cmd.Run()
				if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 { // 1: findings
					b.Fatalf("exit %d: %v", code, err)
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				faults += int64(ru.Minflt + ru.Majflt)
				// The child's own peak (Linux's VmHWM); getrusage's
				// includes this process's RSS at the fork.
				peak := int64(ru.Maxrss)
				if s, err := os.ReadFile(hwm); err == nil {
					if kb, err := strconv.ParseInt(string(s), 10, 64); err == nil {
						peak = kb
					}
				}
				rss = max(rss, peak)
			}
			b.ReportMetric(float64(truth.Packets)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			b.ReportMetric(float64(faults)/float64(b.N), "faults/op")
		})
	}
}
