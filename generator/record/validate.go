package record

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Validation: what a record must hold before it is stored. An API that answers with a missing
// field or a zero value must not become data: an issue without a number or a creation time
// would be incident "#0 open for 106,752 days" on every page from then on. The store checks
// every record a source returns with these functions and refuses the ones that fail.

// Time bounds of the checks.
const (
	// FutureSlack is how far after the run's clock a record's time may be: an API's clock
	// may run a little ahead of the runner's.
	FutureSlack = 24 * time.Hour
)

// minServerTime is the earliest time an API may stamp on a record it created (issues,
// workflow runs, deployments, snapshots): older is a zero or garbage value.
var minServerTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// minAuthorTime is the earliest commit author date accepted. Author dates come from the
// committer's machine, and imported history can be old, but the Unix epoch itself is the
// zero of many tools.
var minAuthorTime = time.Unix(1, 0).UTC()

// InvalidError says a record cannot be stored: which record, which field, and why.
type InvalidError struct {
	Record  string // "incident #12", "deployment run:42", "snapshot at 2026-11-28T12:00:00Z"
	Field   string // JSON name, dotted for nested fields: "changes[2].authored"
	Problem string // "want a positive number, got 0"
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Record, e.Field, e.Problem)
}

type checker struct {
	record string
	now    time.Time
	err    *InvalidError
}

func (c *checker) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = &InvalidError{Record: c.record, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
}

func (c *checker) time(field string, t time.Time, min time.Time) {
	switch {
	case t.IsZero():
		c.fail(field, "missing (zero time)")
	case t.Before(min):
		c.fail(field, "want a time after %s, got %s", min.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	case !c.now.IsZero() && t.After(c.now.Add(FutureSlack)):
		c.fail(field, "want a time before %s (the run's clock plus %s), got %s",
			c.now.Add(FutureSlack).UTC().Format(time.RFC3339), FutureSlack, t.UTC().Format(time.RFC3339))
	}
}

func (c *checker) nonNegative(field string, n float64) {
	if n < 0 {
		c.fail(field, "want zero or more, got %v", n)
	}
}

func (c *checker) result() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

var (
	shaRE          = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
	deploymentIDRE = regexp.MustCompile(`^(run|deployment):[1-9][0-9]*$`)
)

// Validate checks an incident: a positive number, a title, a sane creation time, and a close
// time, if any, not before it. now is the run's clock (zero: no upper bound).
func (in Incident) Validate(now time.Time) error {
	c := &checker{record: fmt.Sprintf("incident #%d", in.Number), now: now}
	if in.Number <= 0 {
		c.fail("number", "want a positive number, got %d", in.Number)
	}
	if strings.TrimSpace(in.Title) == "" {
		c.fail("title", "missing")
	}
	c.time("created_at", in.CreatedAt, minServerTime)
	if in.ClosedAt != nil {
		c.time("closed_at", *in.ClosedAt, minServerTime)
		if c.err == nil && in.ClosedAt.Before(in.CreatedAt) {
			c.fail("closed_at", "%s is before created_at %s", in.ClosedAt.UTC().Format(time.RFC3339), in.CreatedAt.UTC().Format(time.RFC3339))
		}
	}
	return c.result()
}

// Validate checks a deployment: an id "run:<n>" or "deployment:<n>", a commit SHA, a sane
// time, an outcome, and for each change a SHA and an author date.
func (d Deployment) Validate(now time.Time) error {
	c := &checker{record: "deployment " + strconv.Quote(d.ID), now: now}
	if !deploymentIDRE.MatchString(d.ID) {
		c.fail("id", `want "run:<id>" or "deployment:<id>" with a positive id, got %q`, d.ID)
	}
	if !shaRE.MatchString(d.SHA) {
		c.fail("sha", "want a lowercase hex commit SHA, got %q", d.SHA)
	}
	c.time("time", d.Time, minServerTime)
	if d.Outcome != OutcomeSuccess && d.Outcome != OutcomeFailure {
		c.fail("outcome", "want %q or %q, got %q", OutcomeSuccess, OutcomeFailure, d.Outcome)
	}
	for i, ch := range d.Changes {
		if !shaRE.MatchString(ch.SHA) {
			c.fail(fmt.Sprintf("changes[%d].sha", i), "want a lowercase hex commit SHA, got %q", ch.SHA)
		}
		c.time(fmt.Sprintf("changes[%d].authored", i), ch.AuthorDate, minAuthorTime)
	}
	return c.result()
}

// Validate checks a day of analytics: a real day not after now's, and no negative count.
func (a AnalyticsDay) Validate(now time.Time) error {
	c := &checker{record: "analytics day " + strconv.Quote(a.Day), now: now}
	day, err := time.Parse(time.DateOnly, a.Day)
	if err != nil {
		c.fail("day", "want YYYY-MM-DD, got %q", a.Day)
	} else {
		c.time("day", day, minServerTime)
	}
	c.nonNegative("dau", float64(a.DAU))
	c.nonNegative("pageviews", float64(a.Pageviews))
	for name, n := range a.Events {
		if name == "" {
			c.fail("events", "an event without a name")
		}
		c.nonNegative("events."+name, float64(n))
	}
	return c.result()
}

// Validate checks a snapshot: a sane time, a status for every source listed, and no negative
// measurement. now is the run's clock (zero: no upper bound).
func (s Snapshot) Validate(now time.Time) error {
	c := &checker{record: "snapshot at " + s.Time.UTC().Format(time.RFC3339), now: now}
	c.time("t", s.Time, minServerTime)
	for name, st := range s.Sources {
		if name == "" {
			c.fail("src", "a source without a name")
		}
		if st.State == "" {
			c.fail("src."+name+".s", "missing")
		}
		if st.Fails < 0 {
			c.fail("src."+name+".fails", "want zero or more, got %d", st.Fails)
		}
		if st.LastOK != nil {
			c.time("src."+name+".last_ok", *st.LastOK, minServerTime)
		}
	}
	if p := s.Probe; p != nil {
		if p.Code != 0 && (p.Code < 100 || p.Code > 599) {
			c.fail("probe.code", "want an HTTP status 100 to 599, got %d", p.Code)
		}
		if p.Code == 0 && p.Err == "" {
			c.fail("probe", "neither a status code nor an error")
		}
		for _, f := range []struct {
			name string
			v    int
		}{{"ms", p.Ms}, {"dns", p.DNS}, {"conn", p.Conn}, {"tls", p.TLS}, {"ttfb", p.TTFB}} {
			c.nonNegative("probe."+f.name, float64(f.v))
		}
	}
	if h := s.HTTP; h != nil {
		c.nonNegative("http.req", float64(h.Requests))
		c.nonNegative("http.4xx", float64(h.Status4x))
		c.nonNegative("http.5xx", float64(h.Status5x))
		c.nonNegative("http.p50", h.P50Ms)
		c.nonNegative("http.p95", h.P95Ms)
	}
	if w := s.Worker; w != nil {
		c.nonNegative("worker.req", float64(w.Requests))
		c.nonNegative("worker.err", float64(w.Errors))
		c.nonNegative("worker.cpu50", w.CPUP50)
		c.nonNegative("worker.cpu99", w.CPUP99)
	}
	return c.result()
}
