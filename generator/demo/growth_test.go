package demo_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// BenchmarkGitGrowth measures what data/ costs in git: a month of 15-minute runs (2,880
// appends per product), committed after each run as CI does, then `git gc`. Each case reports
// bytes per snapshot line; the pack file per month (what a clone transfers); git's size-pack
// (pack + index, what count-objects -v says) per month and per year; and how much of the pack
// is the data itself (blobs) and how much git's bookkeeping of a commit a run (commits, trees).
// data/README.md quotes its numbers. Each case commits 2,880 times and takes minutes (4 to 13
// on a busy 2-core machine), so all five outlast go test's default 10-minute timeout: run one
// case, or give a timeout.
//
//	go test ./generator/demo -run '^$' -bench 'GitGrowth/demo/docs$' -benchtime 1x
//	go test ./generator/demo -run '^$' -bench GitGrowth -benchtime 1x -timeout 90m
//
// "demo" lines leave ok sources out, as `portfolio demo` writes them; "collector" lines list
// every source, the skipped ones with their reason, as `portfolio collect` writes them. The
// "portfolio" cases commit the three example products together, one commit a run.
func BenchmarkGitGrowth(b *testing.B) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		b.Skip("git is not installed: this benchmark commits to a git repository")
	}
	cfg := example(b)
	cases := []struct {
		name     string
		products []config.Product
		variant  string
	}{
		{"demo/storefront", cfg.Products[:1], "demo"},
		{"demo/docs", cfg.Products[2:3], "demo"},
		{"demo/portfolio", cfg.Products, "demo"},
		{"collector/storefront", cfg.Products[:1], "collector"},
		{"collector/portfolio", cfg.Products, "collector"},
	}
	end := time.Date(2026, 11, 30, 23, 45, 0, 0, time.UTC) // 2,880 runs: all of November
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			src := store.Open(b.TempDir())
			if err := demo.Generate(&config.Config{Products: c.products}, src, demo.Options{Seed: 1, Days: 30, Now: end}); err != nil {
				b.Fatal(err)
			}
			snaps := make([][]record.Snapshot, len(c.products))
			for i, p := range c.products {
				if snaps[i], err = src.Snapshots(p.ID, end.AddDate(0, -1, 0), end.Add(time.Second)); err != nil || len(snaps[i]) != 2880 {
					b.Fatalf("%d snapshots, %v", len(snaps[i]), err)
				}
				if c.variant == "collector" {
					for j := range snaps[i] {
						snaps[i][j].Sources = collectorSources(p, snaps[i][j].Sources)
					}
				}
			}
			for b.Loop() {
				repo := b.TempDir()
				git := func(args ...string) string {
					cmd := exec.Command(gitBin, append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com",
						"-c", "commit.gpgsign=false", "-c", "gc.auto=0"}, args...)...)
					cmd.Dir = repo
					out, err := cmd.CombinedOutput()
					if err != nil {
						b.Fatalf("git %v: %v\n%s", args, err, out)
					}
					return string(out)
				}
				git("init", "-q")
				st := store.Open(filepath.Join(repo, "data"))
				for run := range 2880 {
					for i, p := range c.products {
						if err := st.AppendSnapshot(p.ID, snaps[i][run]); err != nil {
							b.Fatal(err)
						}
					}
					if run == 0 {
						git("add", "data")
					}
					git("commit", "-q", "-m", "report: "+snaps[0][run].Time.Format(time.RFC3339), "--", "data")
				}
				git("gc", "-q")
				packs, _ := filepath.Glob(filepath.Join(repo, ".git", "objects", "pack", "*.idx"))
				if len(packs) != 1 {
					b.Fatalf("%d packs after git gc", len(packs))
				}
				byType := packedByType(b, git("verify-pack", "-v", packs[0]))
				size := countObject(b, git("count-objects", "-v"), "size-pack") * 1024 // .pack + .idx
				fi, err := os.Stat(strings.TrimSuffix(packs[0], ".idx") + ".pack")
				if err != nil {
					b.Fatal(err)
				}
				pack := float64(fi.Size()) // what a clone transfers; the index is rebuilt locally
				var lines int64
				for _, p := range c.products {
					fi, err := os.Stat(filepath.Join(repo, "data", "snapshots", "2026-11", p.ID+".jsonl"))
					if err != nil {
						b.Fatal(err)
					}
					lines += fi.Size()
				}
				n := float64(len(c.products))
				b.ReportMetric(float64(lines)/n/2880, "B/line")
				b.ReportMetric(pack/1024, "pack-KiB/month")
				b.ReportMetric(size/1024, "size-pack-KiB/month")
				b.ReportMetric(size*12/1024/1024, "size-pack-MiB/year")
				b.ReportMetric(byType["blob"]/1024, "blob-KiB/month")
				b.ReportMetric((byType["commit"]+byType["tree"])/1024, "commit+tree-KiB/month")
			}
		})
	}
}

// packedByType sums the packed sizes of `git verify-pack -v` by object type.
func packedByType(b *testing.B, out string) map[string]float64 {
	sum := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && (f[1] == "blob" || f[1] == "tree" || f[1] == "commit") {
			n, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				b.Fatal(err)
			}
			sum[f[1]] += n
		}
	}
	return sum
}

// collectorSources lists every registered source as `portfolio collect` records it: ok, the
// demo's failure, or skipped with the source's own reason.
func collectorSources(p config.Product, failed map[string]record.SourceStatus) map[string]record.SourceStatus {
	skip := func(msg string) record.SourceStatus { return record.SourceStatus{State: record.StateSkipped, Msg: msg} }
	out := map[string]record.SourceStatus{}
	ok := record.SourceStatus{State: record.StateOK}
	if p.Cloudflare.ZoneID != "" || p.Cloudflare.Worker != "" {
		out[record.SourceCloudflare] = ok
	} else {
		out[record.SourceCloudflare] = skip("no cloudflare.zone_id or cloudflare.worker configured")
	}
	if p.PostHog.Host != "" || p.PostHog.Product != "" {
		out[record.SourcePostHog] = ok
	} else {
		out[record.SourcePostHog] = skip("no posthog.host or posthog.product configured")
	}
	out[record.SourceGitHub] = ok
	out[record.SourceProbe] = ok
	for name, st := range failed {
		out[name] = st
	}
	return out
}

func countObject(b *testing.B, out, key string) float64 {
	sc := bufio.NewScanner(bytes.NewReader([]byte(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok && k == key {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatalf("no %s in git count-objects:\n%s", key, out)
	return 0
}
