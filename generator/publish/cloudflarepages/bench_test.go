package cloudflarepages_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// benchSite is shaped like a built report of 20 products: a page, a JSON file and a badge per
// product and a few shared assets, one of them 1 MiB like echarts.min.js.
func benchSite(b *testing.B) string {
	dir := b.TempDir()
	files := map[string]string{
		"index.html":               strings.Repeat("<div>overview</div>", 2000),
		"static/js/echarts.min.js": strings.Repeat("var e=1;", 1<<17),
		"static/css/site.css":      strings.Repeat("a{b:c}", 1000),
	}
	for i := range 20 {
		files[fmt.Sprintf("products/p%02d/index.html", i)] = strings.Repeat(fmt.Sprintf("<p>%d</p>", i), 3000)
		files[fmt.Sprintf("api/products/p%02d.json", i)] = strings.Repeat(`{"v":1}`, 500)
		files[fmt.Sprintf("badges/p%02d.svg", i)] = "<svg/>"
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func BenchmarkScan(b *testing.B) {
	dir := benchSite(b)
	for b.Loop() {
		if _, err := cloudflarepages.Scan(dir, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRepublishUnchanged is the every-15-minutes case: nothing to upload.
func BenchmarkRepublishUnchanged(b *testing.B) {
	dir := benchSite(b)
	f := fake.NewPages(b)
	pub, err := cloudflarepages.New(cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token,
		Project: f.Project, BaseURL: f.URL, RateLimit: 1e6}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), dir, publish.Meta{}); err != nil {
		b.Fatal(err)
	}
	var d publish.Deployment
	for b.Loop() {
		if d, err = pub.Publish(context.Background(), dir, publish.Meta{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.Stats.Requests), "requests/op")
	b.ReportMetric(float64(d.Stats.Uploaded), "uploads/op")
}
