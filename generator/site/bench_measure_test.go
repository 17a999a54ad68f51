package site_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

var (
	pageKind  = regexp.MustCompile(`<body class="page-([a-z0-9-]+)"`)
	scriptSrc = regexp.MustCompile(`<script src="([^"]+)"`)
)

// siteSizes is what measureSite finds in a built site.
type siteSizes struct {
	largest     map[string]int    // page kind → bytes of its largest page
	largestPath map[string]string // page kind → that page
	chartJS     int               // the most JavaScript a page with charts loads, gzipped
	chartJSPage string
}

func gzSize(data []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(data)
	zw.Close()
	return buf.Len()
}

func sizesOf(tb testing.TB, dir string) siteSizes {
	files := siteFiles(tb, dir)
	s := siteSizes{largest: map[string]int{}, largestPath: map[string]string{}}
	for name, data := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		m := pageKind.FindSubmatch(data)
		if m == nil {
			tb.Fatalf("%s: no page kind", name)
		}
		kind := string(m[1])
		if len(data) > s.largest[kind] {
			s.largest[kind], s.largestPath[kind] = len(data), name
		}
		if !bytes.Contains(data, []byte(`class="chart"`)) {
			continue
		}
		js := 0
		for _, src := range scriptSrc.FindAllSubmatch(data, -1) {
			js += gzSize(files[strings.TrimPrefix(string(src[1]), "/")])
		}
		if js > s.chartJS {
			s.chartJS, s.chartJSPage = js, name
		}
	}
	return s
}

// measureSite reports the largest page of each kind (KB of HTML) and the JavaScript the
// heaviest chart page loads (KB, gzipped as a browser receives it).
func measureSite(b *testing.B, dir string) {
	s := sizesOf(b, dir)
	kinds := make([]string, 0, len(s.largest))
	for k := range s.largest {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		b.ReportMetric(float64(s.largest[k])/1024, "max-"+k+"-KB")
		b.Logf("largest %s page: %s, %.1f KB", k, s.largestPath[k], float64(s.largest[k])/1024)
	}
	b.ReportMetric(float64(s.chartJS)/1024, "chart-page-JS-gz-KB")
	b.Logf("most JavaScript on a chart page: %s, %.1f KB gzipped", s.chartJSPage, float64(s.chartJS)/1024)
}

// reupload is what the publisher sends after a build: the bytes of the files whose content
// hash the previous deployment does not hold (it uploads by hash), of all the site's bytes.
func reupload(tb testing.TB, prev, next string) (changed, total int64, byDir map[string]int64) {
	a, err := cloudflarepages.Scan(prev, -1)
	if err != nil {
		tb.Fatal(err)
	}
	bs, err := cloudflarepages.Scan(next, -1)
	if err != nil {
		tb.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range a.Files {
		have[f.Hash] = true
	}
	byDir = map[string]int64{}
	for _, f := range bs.Files {
		total += f.Size
		if !have[f.Hash] {
			changed += f.Size
			dir, _, _ := strings.Cut(f.Path, "/")
			byDir[dir] += f.Size
		}
	}
	return changed, total, byDir
}

// measureNextRun reports the share of the site's bytes the next run re-uploads: after one more
// snapshot per product in the middle of a day (builds at 14:00 and 14:15 UTC on the last
// day), after one that starts a new day (00:00 and 00:15 on now's day: the day's files and
// the strips move on), and after a rebuild 15 minutes later with no new data (00:15 and
// 00:30: the data end at 00:15). The alert state's last run is moved to the build's time, as
// a run would.
func measureNextRun(b *testing.B, cfg *config.Config, st *store.Store) {
	state, err := alert.Load(st)
	if err != nil {
		b.Fatal(err)
	}
	last := state.LastRun
	defer func() {
		state.LastRun = last
		if err := alert.Save(st, state); err != nil {
			b.Fatal(err)
		}
	}()
	tmp := b.TempDir()
	build := func(name string, at, run time.Time) string {
		state.LastRun = run
		if err := alert.Save(st, state); err != nil {
			b.Fatal(err)
		}
		out := filepath.Join(tmp, name)
		if _, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: at}); err != nil {
			b.Fatal(err)
		}
		return out
	}
	midday := now.Add(-10 * time.Hour)
	next := now.Add(demo.Interval)
	dirs := map[string]string{
		"midday":      build("midday", midday, midday),
		"midday+15":   build("midday+15", midday.Add(demo.Interval), midday.Add(demo.Interval)),
		"midnight":    build("midnight", now, now),
		"midnight+15": build("midnight+15", next, next),
		"rebuild":     build("rebuild", next.Add(demo.Interval), next),
	}
	for _, c := range []struct{ prev, next, metric string }{
		{"midday", "midday+15", "next-snapshot"},
		{"midnight", "midnight+15", "next-snapshot-new-day"},
		{"midnight+15", "rebuild", "rebuild-no-data"},
	} {
		changed, total, byDir := reupload(b, dirs[c.prev], dirs[c.next])
		b.ReportMetric(100*float64(changed)/float64(total), c.metric+"-reupload-%")
		b.ReportMetric(float64(changed)/(1<<20), c.metric+"-reupload-MB")
		var parts []string
		for d, n := range byDir {
			parts = append(parts, fmt.Sprintf("%s %.2f MB", d, float64(n)/(1<<20)))
		}
		sort.Strings(parts)
		b.Logf("%s: re-uploads %.2f of %.2f MB (%s)", c.metric, float64(changed)/(1<<20), float64(total)/(1<<20), strings.Join(parts, ", "))
	}
	_ = os.RemoveAll(tmp)
}
