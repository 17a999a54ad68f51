package demo_test

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// BenchmarkGitGrowth measures what data/ costs in git. It replays days of 15-minute runs
// through store.AppendSnapshot into data/ and commits data/ after every run as CI does (the
// workflow's identity and message), then repacks as `git gc` does and reads every object's
// packed size (`git verify-pack -v`). It reports:
//
//   - data-B/product-year: the packed blobs of one product's snapshot logs, per year;
//   - commit+tree-B/run and commit+tree-MB/year: git's bookkeeping of one commit a run (the
//     commit object and the trees on the path to each changed file), at a 15-minute cadence;
//   - B/line: the bytes of a snapshot line in the working tree.
//
// It simulates Days days and extrapolates linearly to a year: a day's logs are finished at
// midnight and never written again, so each simulated day costs what any later one does (the
// month folder's tree grows through the month: simulate 30 days for its full cost). Commits go
// through one `git fast-import` stream, which writes the same commits and trees that
// `git add data; git commit` would, in seconds instead of minutes; `git repack -adf` then
// computes the deltas afresh with gc's window and depth, as gc does for loose objects.
//
//	go test ./generator/demo -run '^$' -bench GitGrowth -benchtime 1x
//
// "demo" lines leave ok sources out, as `portfolio demo` writes them; "collector" lines list
// every source, the skipped ones with their reason, as `portfolio collect` computes them (the
// log states each only when it changes, and all of them once a day). "portfolio" cases commit
// the three example products together, one commit a run; "synthetic/20" is 20 products of
// demo.Config, for what the tree of a month folder costs per product.
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
		days     int
	}{
		{"demo/storefront", cfg.Products[:1], "demo", 30},
		{"demo/docs", cfg.Products[2:3], "demo", 30},
		{"demo/portfolio", cfg.Products, "demo", 30},
		{"collector/portfolio", cfg.Products, "collector", 30},
		{"synthetic/20", demo.Config(20).Products, "demo", 7},
	}
	end := time.Date(2026, 11, 30, 23, 45, 0, 0, time.UTC)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			runs := c.days * 96
			src := store.Open(b.TempDir())
			if err := demo.Generate(&config.Config{Products: c.products}, src, demo.Options{Seed: 1, Days: c.days, Now: end}); err != nil {
				b.Fatal(err)
			}
			snaps := make([][]record.Snapshot, len(c.products))
			for i, p := range c.products {
				if snaps[i], err = src.Snapshots(p.ID, end.AddDate(0, 0, -c.days), end.Add(time.Second)); err != nil || len(snaps[i]) != runs {
					b.Fatalf("%d snapshots, %v", len(snaps[i]), err)
				}
				if c.variant == "collector" {
					for j := range snaps[i] {
						snaps[i][j].Sources = collectorSources(p, snaps[i][j].Sources)
					}
				}
			}
			for b.Loop() {
				m := measureGit(b, gitBin, c.products, snaps)
				n := float64(len(c.products))
				perYear := 365 * 96 / float64(runs)
				b.ReportMetric(m.lineBytes/n/float64(runs), "B/line")
				b.ReportMetric(m.blob/n*perYear/1e6, "data-MB/product-year")
				b.ReportMetric((m.commit+m.tree)/float64(runs), "commit+tree-B/run")
				b.ReportMetric(m.commit/float64(runs), "commit-B/run")
				b.ReportMetric((m.commit+m.tree)*perYear/1e6, "commit+tree-MB/year")
				b.ReportMetric(m.pack*perYear/1e6, "pack-MB/year")
			}
		})
	}
}

type gitCost struct {
	blob, tree, commit float64 // packed bytes by type
	pack               float64 // the .pack file
	lineBytes          float64 // the snapshot logs in the working tree
}

// measureGit appends each run's snapshots, commits data/ after each run and returns the
// packed sizes.
func measureGit(b *testing.B, gitBin string, products []config.Product, snaps [][]record.Snapshot) gitCost {
	repo := b.TempDir()
	git := func(stdin io.Reader, args ...string) string {
		cmd := exec.Command(gitBin, append([]string{"-c", "gc.auto=0", "-c", "core.bigFileThreshold=512m"}, args...)...)
		cmd.Dir, cmd.Stdin = repo, stdin
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git(nil, "init", "-q")
	data := filepath.Join(repo, "data")
	st := store.Open(data)

	pr, pw := io.Pipe()
	done := make(chan string)
	go func() { done <- git(pr, "fast-import", "--quiet", "--done") }()
	w := bufio.NewWriterSize(pw, 1<<20)
	seen := map[string]int64{} // file → size at the last commit (logs only grow, docs are rewritten)
	const who = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
	runID := int64(12_000_000_000)
	for run := range len(snaps[0]) {
		for i, p := range products {
			if err := st.AppendSnapshot(p.ID, snaps[i][run]); err != nil {
				b.Fatal(err)
			}
		}
		var changed []string
		filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repo, path)
			if size, ok := seen[rel]; !ok || size != fi.Size() || !strings.HasSuffix(rel, ".jsonl") {
				changed = append(changed, rel)
				seen[rel] = fi.Size()
			}
			return nil
		})
		sort.Strings(changed)
		runID += 1 + int64(run%7)
		msg := fmt.Sprintf("data: snapshot %d", runID)
		t := snaps[0][run].Time.Add(3 * time.Minute).Unix()
		fmt.Fprintf(w, "commit refs/heads/main\nauthor %s %d +0000\ncommitter %s %d +0000\ndata %d\n%s\n", who, t, who, t, len(msg), msg)
		for _, rel := range changed {
			content, err := os.ReadFile(filepath.Join(repo, rel))
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n", filepath.ToSlash(rel), len(content))
			w.Write(content)
			w.WriteString("\n")
		}
	}
	w.WriteString("done\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	pw.Close()
	<-done
	git(nil, "repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50") // as gc does for loose objects
	packs, _ := filepath.Glob(filepath.Join(repo, ".git", "objects", "pack", "*.idx"))
	if len(packs) != 1 {
		b.Fatalf("%d packs after the repack", len(packs))
	}
	var c gitCost
	for _, line := range strings.Split(git(nil, "verify-pack", "-v", packs[0]), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		n, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			continue
		}
		switch f[1] {
		case "blob":
			c.blob += n
		case "tree":
			c.tree += n
		case "commit":
			c.commit += n
		}
	}
	fi, err := os.Stat(strings.TrimSuffix(packs[0], ".idx") + ".pack")
	if err != nil {
		b.Fatal(err)
	}
	c.pack = float64(fi.Size())
	logs, _ := filepath.Glob(filepath.Join(data, "snapshots", "*", "*.jsonl"))
	for _, l := range logs {
		fi, err := os.Stat(l)
		if err != nil {
			b.Fatal(err)
		}
		c.lineBytes += float64(fi.Size())
	}
	return c
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
