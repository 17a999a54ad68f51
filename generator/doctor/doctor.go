// Package doctor checks, for a config and an environment, every credential against what the
// config needs of it, before a scheduled run finds out (portfolio doctor): the GitHub token's
// kind and its access to each repository, the Cloudflare token and each zone, the Pages
// project, the PostHog key and project, the SMTP server, the webhook URLs. It only reads,
// except where a write is the only way to know, and then sends one GitHub cannot carry out (an
// issue without a title). Nothing is sent to a channel unless SendTest asks. The checks, the
// calls behind them and what each answer means are in docs/getting-started.md.
package doctor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Status is the outcome of one check.
type Status int

// Outcomes, from best to worst.
const (
	OK   Status = iota
	Skip        // nothing to check: the config does not use it
	Warn        // the run will be degraded: a part skipped, or data that will be missing
	Fail        // the run will hit an error: a credential refused, a permission missing
)

func (s Status) String() string {
	return [...]string{"ok", "skip", "WARN", "FAIL"}[s]
}

// Check is one line of the report: what was checked, what was found, and what to do about it
// when it is not ok.
type Check struct {
	Name   string // e.g. "github acme/shop", "cloudflare token"
	Status Status
	Detail string
	Fix    string
}

// Report is every check, in the order they ran.
type Report struct {
	Checks []Check
}

// Exit codes of portfolio doctor.
const (
	ExitOK       = 0 // every check passed (or had nothing to check)
	ExitFail     = 1 // something will fail
	ExitDegraded = 3 // something will be degraded
)

// ExitCode is 1 when a check failed, else 3 when one warned, else 0.
func (r Report) ExitCode() int {
	code := ExitOK
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			return ExitFail
		case Warn:
			code = ExitDegraded
		}
	}
	return code
}

// Count is how many checks ended with s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// WriteText prints one line per check, and under a check that is not ok the fix, indented.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, oneLine(c.Detail))
		if c.Fix != "" && (c.Status == Warn || c.Status == Fail) {
			fmt.Fprintf(tw, "\t\t→ %s\n", oneLine(c.Fix))
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%s\n", r.summary())
	_, err := io.WriteString(w, b.String())
	return err
}

func (r Report) summary() string {
	s := fmt.Sprintf("%d ok, %d warnings, %d failures, %d skipped", r.Count(OK), r.Count(Warn), r.Count(Fail), r.Count(Skip))
	switch r.ExitCode() {
	case ExitFail:
		return s + ": something will fail (exit 1)"
	case ExitDegraded:
		return s + ": the report will run, with less than it could show (exit 3)"
	}
	return s + ": all good"
}

// WriteMarkdown writes the report as a GitHub job summary: a table, the fixes in it. Text read
// from the APIs is escaped for Markdown.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### portfolio doctor\n\n| | check | result | what to do |\n|---|---|---|---|\n")
	icon := map[Status]string{OK: "✅", Skip: "➖", Warn: "⚠️", Fail: "❌"}
	for _, c := range r.Checks {
		fix := ""
		if c.Status == Warn || c.Status == Fail {
			fix = c.Fix
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", icon[c.Status], mdCell(c.Name), mdCell(c.Detail), mdCell(fix))
	}
	fmt.Fprintf(&b, "\n%s\n", r.summary())
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// mdCell makes text safe inside a Markdown table cell: no line breaks, no pipes, no HTML.
func mdCell(s string) string {
	s = oneLine(s)
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}

// Options are the config, the environment and the clients the checks use.
type Options struct {
	Config *config.Config
	Getenv func(string) string
	// DataDir is the data folder, checked for demo data ("" skips that check).
	DataDir string
	// HTTPClient carries every API call (nil: one with a 30-second timeout).
	HTTPClient *http.Client
	Now        time.Time
	// SendTest sends a test message to each configured channel that can take one.
	SendTest bool
	// Sleep waits between retries (nil: retry.Sleep).
	Sleep retry.Sleeper
	// SMTPTimeout bounds the SMTP check (default 15 s).
	SMTPTimeout time.Duration
	// Redactor hides the secrets in every detail and fix (nil: one built from the config and
	// the environment).
	Redactor *redact.Redactor
	Log      *slog.Logger
}

// Run runs every check the config calls for, in a fixed order: data, GitHub, Cloudflare,
// PostHog, then the notification channels.
func Run(ctx context.Context, o Options) Report {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Redactor == nil {
		o.Redactor = redact.New(o.Config, o.Getenv)
	}
	var r Report
	add := func(cs ...Check) { r.Checks = append(r.Checks, cs...) }
	add(checkData(o))
	add(checkGitHub(ctx, o)...)
	add(checkCloudflare(ctx, o)...)
	add(checkPostHog(ctx, o)...)
	add(checkChannels(ctx, o)...)
	for i := range r.Checks {
		c := &r.Checks[i]
		c.Name, c.Detail, c.Fix = o.Redactor.String(c.Name), o.Redactor.String(c.Detail), o.Redactor.String(c.Fix)
	}
	return r
}

// env is the value of an environment variable named by a config field, or its standard name.
func (o Options) env(name, standard string) (string, string) {
	if name == "" {
		name = standard
	}
	return name, o.Getenv(name)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
