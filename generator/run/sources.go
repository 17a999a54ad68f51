package run

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/cloudflare"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/source/probe"
	"github.com/portfolio-report/portfolio/generator/store"
)

// SourceDeps is what the source constructors are built from.
type SourceDeps struct {
	Config *config.Config
	Store  *store.Store
	Getenv func(string) string
	HTTP   *http.Client // shared transport; each source wraps it with its own limits
	Log    *slog.Logger
	Now    func() time.Time // the run's clock: the end of every analytics range
	// Sleep waits between every source's retries (tests: one that does not sleep); nil:
	// retry.Sleep.
	Sleep retry.Sleeper
	// Redactor scrubs what a source stores beside its data (probe failures); nil: URL
	// credentials only.
	Redactor *redact.Redactor
}

// sourceConstructor builds one source from the environment.
type sourceConstructor struct {
	name  string
	build func(d SourceDeps) (source.Source, error)
}

// sourceRegistry is the name → constructor registry, in the order sources appear in output.
// A source whose credentials are missing is still built: it reports every product as skipped
// with the reason, so a reader of the site sees why data is missing.
func sourceRegistry() []sourceConstructor {
	return []sourceConstructor{
		{record.SourceGitHub, func(d SourceDeps) (source.Source, error) {
			o := github.OptionsFromEnv(d.Getenv)
			// The previous DORA window and each deployment's predecessor must be in history.
			if d.Config != nil && d.Config.DORA.WindowDays > 0 {
				o.HistoryDays = 2*d.Config.DORA.WindowDays + 1
			}
			o.Now, o.Sleep = d.Now, d.Sleep
			return github.New(o, d.Store, d.HTTP, d.Log.With("source", record.SourceGitHub)), nil
		}},
		{record.SourceCloudflare, func(d SourceDeps) (source.Source, error) {
			o := cloudflare.OptionsFromEnv(d.Getenv)
			o.Now, o.Sleep = d.Now, d.Sleep
			return cloudflare.New(o, d.HTTP, d.Log.With("source", record.SourceCloudflare))
		}},
		{record.SourcePostHog, func(d SourceDeps) (source.Source, error) {
			o := posthog.OptionsFromEnv(d.Getenv)
			o.Now, o.Sleep = d.Now, d.Sleep
			return posthog.New(o, d.HTTP, d.Log.With("source", record.SourcePostHog)), nil
		}},
		{record.SourceProbe, func(d SourceDeps) (source.Source, error) {
			p := probe.New(d.HTTP, d.Log.With("source", record.SourceProbe))
			p.Sleep, p.Redactor = d.Sleep, d.Redactor
			return p, nil
		}},
	}
}

// SourceNames lists the registered sources in order.
func SourceNames() []string {
	var names []string
	for _, c := range sourceRegistry() {
		names = append(names, c.name)
	}
	return names
}

// Sources builds the registered sources, all of them or those named in only.
func Sources(d SourceDeps, only ...string) ([]source.Source, error) {
	if d.Getenv == nil || d.Store == nil {
		return nil, fmt.Errorf("sources: want Getenv and Store")
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	known := SourceNames()
	for _, n := range only {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("unknown source %q: want one of %s", n, strings.Join(known, ", "))
		}
	}
	var out []source.Source
	for _, c := range sourceRegistry() {
		if len(only) > 0 && !slices.Contains(only, c.name) {
			continue
		}
		s, err := c.build(d)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", c.name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// PostHogSender builds the sender of portfolio's own events from the environment; it sends
// nothing unless POSTHOG_API_KEY is set. The pipeline calls, after collect:
//
//	evs, _ := posthog.EventsFromStore(st, cfg.Products, now.Add(-24*time.Hour))
//	err := run.PostHogSender(d).Send(ctx, append(evs, alertEvents...))
func PostHogSender(d SourceDeps) *posthog.Sender {
	o := posthog.OptionsFromEnv(d.Getenv)
	o.Now, o.Sleep = d.Now, d.Sleep
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return posthog.NewSender(o, d.Store, d.HTTP, log.With("sender", record.SourcePostHog))
}
