package progress_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/progress"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
)

func summary() source.Summary {
	oc := func(p, s, state, msg string, fails int) source.Outcome {
		return source.Outcome{Product: p, Source: s, Duration: 120 * time.Millisecond,
			Status: record.SourceStatus{State: state, Msg: msg, Fails: fails}}
	}
	return source.Summary{
		Products: []string{"api", "web"},
		Sources:  []string{"cloudflare", "probe"},
		Outcomes: []source.Outcome{
			oc("api", "cloudflare", "error", "graphql: HTTP 200: <script>x</script> | 100% bad\nsecond line", 4),
			oc("api", "probe", "ok", "", 0),
			oc("web", "cloudflare", "rate_limited", "rate limited: HTTP 429", 1),
			oc("web", "probe", "skipped", "no url or health_endpoint configured", 0),
		},
		Counts:   map[string]int{"ok": 1, "error": 1, "rate_limited": 1, "skipped": 1},
		Duration: 2 * time.Second,
	}
}

func TestMarkdownEscapesMessages(t *testing.T) {
	md := progress.Markdown(summary())
	for _, want := range []string{
		"| Product | cloudflare | probe |\n|---|---|---|\n",
		"| api | ❌ error | ✅ ok |\n",
		"| web | ⏳ rate limited | ⏭️ skipped |\n",
		"- api / cloudflare: graphql: HTTP 200: &lt;script&gt;x&lt;/script&gt; \\| 100% bad second line (4 runs in a row)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script>") {
		t.Error("raw HTML reached the step summary")
	}
}

func TestGitHubOutput(t *testing.T) {
	var buf bytes.Buffer
	r := progress.New(&buf, progress.GitHub, 4)
	sum := summary()
	r.ProductDone("api", sum.Outcomes[:2])
	r.Finish(sum)
	out := buf.String()
	for _, want := range []string{
		"::group::api: 1 ok, 1 error\n",
		"api                  cloudflare error         120ms  graphql: HTTP 200: <script>x</script> | 100%25 bad second line\n",
		"::endgroup::\n",
		"::warning title=collect api/cloudflare::error: graphql: HTTP 200: <script>x</script> | 100%25 bad%0Asecond line\n",
		"::warning title=collect web/cloudflare::rate_limited: rate limited: HTTP 429\n",
		"collected 2 products × 2 sources in 2s: 1 ok, 1 skipped, 1 error, 1 rate limited;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTTYOutput(t *testing.T) {
	var buf bytes.Buffer
	r := progress.New(&buf, progress.TTY, 2)
	sum := summary()
	r.Started("api", "cloudflare")
	r.Started("api", "probe")
	r.Finished(sum.Outcomes[1])
	r.Finished(sum.Outcomes[0])
	r.Finish(sum)
	out := buf.String()
	for _, want := range []string{
		"collecting 0/2  api/cloudflare api/probe",
		"\r\x1b[Kcollecting 1/2  api/cloudflare",
		"\r\x1b[Kapi                  cloudflare error",
		"collecting 2/2 (1 failed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "api                  probe      ok") {
		t.Error("an ok outcome was printed as a line on a terminal")
	}
}

func TestPlainAndDetect(t *testing.T) {
	var buf bytes.Buffer
	r := progress.New(&buf, progress.Plain, 1)
	r.Finished(summary().Outcomes[3])
	if got := buf.String(); got != "web                  probe      skipped       120ms  no url or health_endpoint configured\n" {
		t.Errorf("plain line = %q", got)
	}
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	if m := progress.DetectMode(&buf, func(k string) string { return env[k] }); m != progress.GitHub {
		t.Errorf("mode = %v, want GitHub", m)
	}
	if m := progress.DetectMode(&buf, func(string) string { return "" }); m != progress.Plain {
		t.Errorf("mode = %v, want Plain for a buffer", m)
	}
}

func TestAppendStepSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	os.WriteFile(path, []byte("earlier step\n"), 0o644)
	env := map[string]string{"GITHUB_STEP_SUMMARY": path}
	if err := progress.AppendStepSummary(func(k string) string { return env[k] }, summary()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "earlier step\n### portfolio collect") {
		t.Errorf("summary file = %s", data)
	}
	if err := progress.AppendStepSummary(func(string) string { return "" }, summary()); err != nil {
		t.Errorf("without the variable: %v", err)
	}
}
