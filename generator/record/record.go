// Package record defines what portfolio keeps in data/: per-product snapshots taken every run,
// and entity records (deployments, incidents, daily analytics). The types are plain data; the
// store package reads and writes them, compute packages read them.
//
// Snapshot JSON keys are short on purpose: one snapshot is one line of a data file, written
// every 15 minutes for years, so every byte is paid for in git history.
package record

import (
	"encoding/json"
	"time"
)

// Source names as they appear in snapshots.
const (
	SourceGitHub     = "github"
	SourceCloudflare = "cloudflare"
	SourcePostHog    = "posthog"
	SourceProbe      = "probe"
)

// Source states.
const (
	StateOK          = "ok"
	StateSkipped     = "skipped"
	StateError       = "error"
	StateRateLimited = "rate_limited"
	// StateTimedOut is a source that did not finish in its time: its own limit or the collect
	// deadline (--deadline). Its data is stale, like a rate limit's.
	StateTimedOut = "timed_out"
)

// Snapshot is what one run learned about one product.
type Snapshot struct {
	Time time.Time `json:"t"`
	// Sources holds the outcome of every source that ran for the product, keyed by source name.
	Sources map[string]SourceStatus `json:"src,omitempty"`
	Probe   *Probe                  `json:"probe,omitempty"`
	HTTP    *HTTPStats              `json:"http,omitempty"`   // Cloudflare zone analytics since the previous snapshot
	Health  string                  `json:"hc,omitempty"`     // Cloudflare health check status: healthy|unhealthy|suspended|unknown
	Worker  *WorkerStats            `json:"worker,omitempty"` // Cloudflare Workers since the previous snapshot
}

// SourceStatus is one source's outcome in one run.
type SourceStatus struct {
	State string `json:"s"`             // ok | skipped | error | rate_limited | timed_out
	Msg   string `json:"msg,omitempty"` // reason (skipped) or error text; never a secret
	// LastOK is the time of the last good data from this source, set when State is not ok
	// (for ok it is the snapshot's own time).
	LastOK *time.Time `json:"last_ok,omitempty"`
	// Fails counts consecutive runs in which this source failed (error, rate_limited or
	// timed_out), this one included.
	Fails int `json:"fails,omitempty"`
}

// MarshalJSON writes a plain ok as the string "ok": it is the common case in every snapshot line.
// The zero SourceStatus is null: in a snapshot log it says the source no longer runs.
func (s SourceStatus) MarshalJSON() ([]byte, error) {
	switch s {
	case SourceStatus{State: StateOK}:
		return []byte(`"ok"`), nil
	case SourceStatus{}:
		return []byte(`null`), nil
	}
	type plain SourceStatus
	return json.Marshal(plain(s))
}

// UnmarshalJSON reads both the short form ("ok", "skipped") and the object form; null is the
// zero SourceStatus.
func (s *SourceStatus) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*s = SourceStatus{}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		*s = SourceStatus{}
		return json.Unmarshal(data, &s.State)
	}
	type plain SourceStatus
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = SourceStatus(p)
	return nil
}

// Failed reports whether the source errored, was rate limited or timed out: its data is stale.
func (s SourceStatus) Failed() bool {
	return s.State == StateError || s.State == StateRateLimited || s.State == StateTimedOut
}

// Next is the status of the run after one in which the source had status s at time t, if
// nothing changed (same state, same message): an ok source stays ok; a source that was not ok
// keeps its last good time (t itself when s is ok) and a failed one counts one more failure.
// The collect loop computes every status this way, and a snapshot log stores a status only
// where it differs from Next of the line before, so a reader gets back exactly what was stored.
func (s SourceStatus) Next(t time.Time, state, msg string) SourceStatus {
	n := SourceStatus{State: state, Msg: msg}
	if state == StateOK {
		return SourceStatus{State: StateOK}
	}
	switch {
	case s.State == StateOK:
		lo := t.UTC()
		n.LastOK = &lo
	case s.LastOK != nil:
		lo := s.LastOK.UTC()
		n.LastOK = &lo
	}
	if n.Failed() {
		n.Fails = 1
		if s.Failed() {
			n.Fails = s.Fails + 1
		}
	}
	return n
}

// Equal reports whether two statuses are the same (LastOK compared as instants).
func (s SourceStatus) Equal(o SourceStatus) bool {
	if s.State != o.State || s.Msg != o.Msg || s.Fails != o.Fails || (s.LastOK == nil) != (o.LastOK == nil) {
		return false
	}
	return s.LastOK == nil || s.LastOK.Equal(*o.LastOK)
}

// Probe is the result of the HTTP probe of the product's health URL. Times are milliseconds.
type Probe struct {
	Code int    `json:"code,omitempty"` // HTTP status, 0 when no response
	Ms   int    `json:"ms"`             // total
	DNS  int    `json:"dns,omitempty"`
	Conn int    `json:"conn,omitempty"`
	TLS  int    `json:"tls,omitempty"`
	TTFB int    `json:"ttfb,omitempty"`
	Err  string `json:"err,omitempty"` // non-empty iff the probe failed (after its retry)
}

// OK reports whether the probe succeeded.
func (p *Probe) OK() bool { return p != nil && p.Err == "" }

// HTTPStats are Cloudflare HTTP analytics for the product's hostname over one interval.
type HTTPStats struct {
	// From and To bound the interval [From, To) the figures cover. Cloudflare's analytics lag
	// real time, so To is a few minutes before the snapshot's time, and the next snapshot's
	// From is this To: no interval is lost or counted twice. Zero in snapshots written before
	// the interval was recorded, which cover (previous snapshot, this snapshot].
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	Requests int64     `json:"req"`
	Status4x int64     `json:"4xx,omitempty"`
	Status5x int64     `json:"5xx,omitempty"`
	P50Ms    float64   `json:"p50,omitempty"`
	P95Ms    float64   `json:"p95,omitempty"`
}

// ErrorRate is the share of 5xx responses in percent, or -1 with no requests.
func (h *HTTPStats) ErrorRate() float64 {
	if h == nil || h.Requests == 0 {
		return -1
	}
	return float64(h.Status5x) * 100 / float64(h.Requests)
}

// WorkerStats are Cloudflare Workers figures over one interval. CPU times in microseconds.
type WorkerStats struct {
	// From and To bound the interval [From, To) the figures cover, as HTTPStats' do.
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	Requests int64     `json:"req"`
	Errors   int64     `json:"err,omitempty"`
	CPUP50   float64   `json:"cpu50,omitempty"`
	CPUP99   float64   `json:"cpu99,omitempty"`
}

// Deployment outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Deployment is one deployment as the DORA contract defines it: a judged workflow run or a
// GitHub Deployment with an outcome status.
type Deployment struct {
	ID      string    `json:"id"`            // "run:<id>" or "deployment:<id>"
	SHA     string    `json:"sha"`           // deployed commit
	Time    time.Time `json:"time"`          // run updated_at, or the outcome status's created_at
	Outcome string    `json:"outcome"`       // success | failure
	URL     string    `json:"url,omitempty"` // run or deployment page
	// Changes are the commits of compare(previous successful deployment ... this one), set for
	// successful deployments once collected. Nil means not collected yet; empty means none.
	Changes []Change `json:"changes"`
}

// Change is one commit shipped by a deployment.
type Change struct {
	SHA        string    `json:"sha"`
	AuthorDate time.Time `json:"authored"`
}

// Incident is an issue labelled as an incident.
type Incident struct {
	Number      int        `json:"number"`
	Title       string     `json:"title"` // untrusted text
	URL         string     `json:"url,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	StateReason string     `json:"state_reason,omitempty"` // completed | not_planned | reopened
	CausedBy    string     `json:"caused_by,omitempty"`    // sha from a "Caused-by: <sha>" line
	Body        string     `json:"body,omitempty"`         // Markdown, untrusted
}

// Counts reports whether the incident counts in metrics (a not_planned close is a false alarm).
func (i Incident) Counts() bool { return i.StateReason != "not_planned" }

// AnalyticsDay is one UTC day of product analytics from PostHog.
type AnalyticsDay struct {
	Day       string           `json:"day"` // YYYY-MM-DD
	DAU       int64            `json:"dau"`
	Pageviews int64            `json:"pageviews"`
	Events    map[string]int64 `json:"events,omitempty"` // key events by name
}
