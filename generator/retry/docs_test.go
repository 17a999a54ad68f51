package retry_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/retry"
)

// waits are the backoff waits of p in the docs' words: "1, 2, 4 s" (sep ", ") or "1 and 2 s".
func waits(p retry.Policy, sep, last string) string {
	var ws []string
	for i := range p.Attempts - 1 {
		d := p.Backoff << i
		if p.MaxBackoff > 0 {
			d = min(d, p.MaxBackoff)
		}
		ws = append(ws, fmt.Sprint(int(d/time.Second)))
	}
	if len(ws) < 2 {
		return strings.Join(ws, "") + " s"
	}
	return strings.Join(ws[:len(ws)-1], sep) + last + ws[len(ws)-1] + " s"
}

func seconds(d time.Duration) string { return fmt.Sprintf("%d s", int(d/time.Second)) }

// doc is a file of docs/ with its whitespace folded, so a phrase may wrap.
func doc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

// rows are the table rows of docs/name that start with prefix, one a line.
func rows(t *testing.T, name, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("docs/%s has no row starting %q", name, prefix)
	}
	return strings.Join(out, "\n")
}

// TestDocsQuoteThePolicies keeps the numbers the docs give for each retry policy equal to the
// code's: tries in all, the waits between them, the longest Retry-After waited for.
func TestDocsQuoteThePolicies(t *testing.T) {
	type want struct{ file, where, text string }
	cf, ph, gh, pr, nt := retry.CloudflareCollect(), retry.PostHog(), retry.GitHub(), retry.Probe(), retry.Notify()
	hc := retry.CloudflareHealthchecks()
	tests := []want{
		{"collect.md", "| `cloudflare` |", fmt.Sprintf("| %d (transport error, 5xx, 429) | %s |", cf.Attempts, waits(cf, ", ", ", "))},
		{"collect.md", "| `cloudflare` |", "at most " + seconds(cf.MaxWait)},
		{"collect.md", "| `posthog` |", fmt.Sprintf("| %d (transport error, 5xx, 429) | %s |", ph.Attempts, waits(ph, ", ", ", "))},
		{"collect.md", "| `posthog` |", "at most " + seconds(ph.MaxWait)},
		{"collect.md", "| `github` |", fmt.Sprintf("| %d (transport error, 5xx, secondary limit) | %s,", gh.Attempts, waits(gh, ", ", ", "))},
		{"collect.md", "| `probe` |", fmt.Sprintf("| %d (any failed probe) | %s |", pr.Attempts, waits(pr, ", ", ", "))},
		{"collect.md", "", fmt.Sprintf("A failed probe is retried once (after %s)", waits(pr, "", ""))},
		{"dora.md", "", fmt.Sprintf("when that is at most %d s", int(gh.MaxWait/time.Second))},
		{"dora.md", "", fmt.Sprintf("A 5xx or transport error is retried once, after %s. A call gets one retry in all.", waits(gh, "", ""))},
		{"alerting.md", "", fmt.Sprintf("are tried up to %d times in all within the run, after %s or the server's `Retry-After`", nt.Attempts, waits(nt, ", ", " and "))},
		{"alerting.md", "", fmt.Sprintf("when that is longer and at most %s", seconds(nt.MaxWait))},
		{"healthchecks.md", "", fmt.Sprintf("A call is tried up to %d times in all, after %s", hc.Attempts, waits(hc, ", ", " and "))},
		{"publishing.md", "| project, upload token, deployment status |", fmt.Sprintf("(%d retries) | %s,", retry.PagesRead().Attempts-1, waits(retry.PagesRead(), ", ", ", "))},
		{"publishing.md", "| check-missing |", fmt.Sprintf("(%d retries)", retry.PagesCheckMissing().Attempts-1)},
		{"publishing.md", "| check-missing |", waits(retry.PagesCheckMissing(), ", ", ", ") + ", or"},
		{"publishing.md", "| upload |", fmt.Sprintf("(%d retries)", retry.PagesUpload().Attempts-1)},
		{"publishing.md", "| upsert-hashes |", fmt.Sprintf("| %s |", waits(retry.PagesUpsertHashes(), "", ""))},
		{"publishing.md", "| create deployment |", fmt.Sprintf("(%d tries) | %s |", retry.PagesCreateDeployment().Attempts, waits(retry.PagesCreateDeployment(), ", ", ", "))},
	}
	// The policies the table above covers: a new one needs its line here and in the docs.
	if n := len([]retry.Policy{cf, ph, gh, pr, nt, hc, retry.PagesRead(), retry.PagesCheckMissing(), retry.PagesUpload(), retry.PagesUpsertHashes(), retry.PagesCreateDeployment()}); n != 11 {
		t.Fatal(n)
	}
	for _, tt := range tests {
		text := doc(t, tt.file)
		if tt.where != "" {
			text = rows(t, tt.file, tt.where)
		}
		if !strings.Contains(text, tt.text) {
			t.Errorf("docs/%s %s does not say %q, which is what the code does", tt.file, tt.where, tt.text)
		}
	}
}
