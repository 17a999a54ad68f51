// Package alert turns a product's stored history into alert states and the notifications due
// for them. Rules and the state machine are pure: (previous State, inputs, now) in, (next State,
// notifications) out. Run adds the I/O around them: it reads the store, sends through the
// notifiers it is given, records each delivery only after it succeeded, and saves the state.
//
// The state lives in data/alerts.json (see docs/alerting.md): one entry per alert fingerprint,
// with per-channel delivery records, and the transitions of the last 90 days.
package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/store"
)

// KindState is the versioned kind of data/alerts.json.
var KindState = store.Kind{Name: "alerts", Version: 1}

// StateFile is the name of the state document in the data folder.
const StateFile = "alerts.json"

// Severities, from most to least urgent.
const (
	Critical = "critical"
	Warning  = "warning"
	Info     = "info"
)

// Severities lists the severities from most to least urgent.
var Severities = []string{Critical, Warning, Info}

// Alert statuses. An alert that recovers while pending is dropped, never resolved.
const (
	Pending  = "pending"
	Firing   = "firing"
	Resolved = "resolved"
)

// Rules. See docs/alerting.md for what each one checks.
const (
	RuleProbeDown     = "probe_down"      // critical: the health probe failed N runs in a row
	RuleUptime        = "uptime_24h"      // critical: uptime over 24 h below the objective
	RuleFastBurn      = "burn_rate_fast"  // critical: error budget burning > 14.4× over 1 h and 5 min
	RuleErrorRate     = "error_rate"      // warning: 5xx share over the last hour above the threshold
	RuleLatency       = "p95_latency"     // warning: p95 over the last hour above the threshold
	RuleSlowBurn      = "burn_rate_slow"  // warning: error budget burning > 6× over 6 h and 30 min
	RuleSourceFailing = "source_failing"  // warning: a data source failed 4 runs in a row (Subject: source)
	RuleDORADrop      = "dora_level_drop" // info: a DORA level dropped against the previous window (Subject: metric)
	RuleDeployment    = "deployment"      // info: a deployment was recorded (Subject: deployment id)
	// RuleDeploymentRegression: warning by default (impact.alert_severity): a metric regressed
	// after the latest deployment and is not back within its before-window range (Subject:
	// "<deployment id>/<metric>").
	RuleDeploymentRegression = "deployment_regression"
)

// MutedMaintenance is Alert.Muted while a maintenance window of the alert's product covers now.
const MutedMaintenance = "maintenance"

// Channel names, as the keys of notification_channels in portfolio.json.
const (
	ChannelSlack        = "slack"
	ChannelEmail        = "email"
	ChannelGitHubIssues = "github_issues"
	ChannelPagerDuty    = "pagerduty"
)

// State is the whole of data/alerts.json.
//
// The file changes only when something happens: an alert appears, moves on towards firing,
// fires, starts or stops recovering, resolves or leaves; a channel is sent to or fails; an
// acknowledgement is read. What moves every run without anything happening is not stored
// (see persisted): the time of the evaluation, the count of breaches of a firing alert, the
// value a firing alert was last seen at. The site shows those as of its own build.
type State struct {
	// LastRun is the now of the evaluation that produced the state; not stored (it would
	// change the file every run), so zero in a loaded state.
	LastRun time.Time `json:"-"`
	// Alerts are the pending, firing and recently resolved alerts, sorted by fingerprint.
	Alerts []Alert `json:"alerts"`
	// Transitions are the status changes of the last 90 days, oldest first.
	Transitions []Transition `json:"transitions"`
	// Channels reports each configured channel's delivery health, sorted by name.
	Channels []ChannelStatus `json:"channels"`
}

// Alert is one alert: a rule applied to one product (and one subject, such as a data source or
// a DORA metric), identified by its fingerprint.
type Alert struct {
	Fingerprint string `json:"fingerprint"` // sha256 of the sorted labels, hex, first 16 bytes
	Product     string `json:"product"`
	Rule        string `json:"rule"`              // one of the Rule* constants
	Subject     string `json:"subject,omitempty"` // source name, DORA metric or deployment id
	Severity    string `json:"severity"`          // critical | warning | info
	Status      string `json:"status"`            // pending | firing | resolved
	// Since is when the alert entered its current status.
	Since time.Time `json:"since"`
	// FiringSince is the start of the current (or last) firing episode; zero while it never fired.
	// It names the episode: a new episode gets a new email thread and a new GitHub issue.
	FiringSince time.Time `json:"firing_since,omitzero"`
	// ResolvedAt is when the last episode resolved; zero while firing.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// LastSeen is the last evaluation at which the rule breached.
	LastSeen time.Time `json:"last_seen,omitzero"`

	Value     float64 `json:"value"`     // the last observed value
	Threshold float64 `json:"threshold"` // what the value is compared with
	Unit      string  `json:"unit,omitempty"`
	Summary   string  `json:"summary"` // one line a person reads

	// Breaches counts consecutive evaluations that breached, Recoveries those that did not
	// since the last breach. Stored only while they decide something: the breaches of a pending
	// alert (it fires at the rule's FireAfter), the recoveries of a firing one (it resolves at
	// ResolveAfter).
	Breaches   int `json:"breaches,omitempty"`
	Recoveries int `json:"recoveries,omitempty"`
	// Counted is the evaluation that last moved Breaches or Recoveries, so a second evaluation
	// at the same time (a re-run with the same --now) counts nothing. Stored with the counters.
	Counted time.Time `json:"counted,omitzero"`

	// Inhibited is set while the product's probe_down alert fires: the availability alerts
	// it explains (uptime_24h, burn_rate_fast, burn_rate_slow) are kept but not notified, and
	// stay so until they resolve, so one outage is one page.
	Inhibited bool `json:"inhibited,omitempty"`

	// Muted says why the alert's notifications are held back: MutedMaintenance while a
	// maintenance window of its product covers now. The alert moves through its states as
	// usual; what it owes a channel is sent once it is no longer muted.
	Muted string `json:"muted,omitempty"`

	// Links are references for people: the run and commit of a deployment_regression.
	Links []Link `json:"links,omitempty"`

	// Acknowledged is read back from the alert's GitHub issue each run (assigned, or labelled
	// "acknowledged"); it stops the repeats of a firing critical alert.
	Acknowledged bool   `json:"acknowledged,omitempty"`
	IssueURL     string `json:"issue_url,omitempty"`

	// Deliveries records, per channel, what was delivered last for this alert.
	Deliveries map[string]Delivery `json:"deliveries,omitempty"`
}

// Link is a named reference of an alert.
type Link struct {
	Name string `json:"name"` // "run", "commit"
	URL  string `json:"url"`
}

// Delivery is what one channel got for one alert. At, State and the references change only
// after a send succeeded; Attempts and LastError record failed sends, retried next run.
type Delivery struct {
	At      time.Time `json:"at,omitzero"`      // last successful send
	State   string    `json:"state,omitempty"`  // firing | resolved: what the channel was told last
	Episode time.Time `json:"episode,omitzero"` // the FiringSince the channel was told about

	MessageID   string `json:"message_id,omitempty"`   // email: Message-ID of the firing mail
	IssueNumber int    `json:"issue_number,omitempty"` // GitHub issues
	DedupKey    string `json:"dedup_key,omitempty"`    // PagerDuty

	Attempts    int       `json:"attempts,omitempty"` // failed sends in a row
	LastError   string    `json:"last_error,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
}

// Transition is one status change of an alert.
type Transition struct {
	At          time.Time `json:"at"`
	Fingerprint string    `json:"fingerprint"`
	Product     string    `json:"product"`
	Rule        string    `json:"rule"`
	Subject     string    `json:"subject,omitempty"`
	Severity    string    `json:"severity"`
	From        string    `json:"from"` // "" for a new alert
	To          string    `json:"to"`
	Value       float64   `json:"value"`
	Threshold   float64   `json:"threshold"`
	Unit        string    `json:"unit,omitempty"`
	Summary     string    `json:"summary"`
}

// ChannelStatus is one channel's delivery health, for the alerts page and the run summary.
type ChannelStatus struct {
	Name string `json:"name"`
	// Enabled is false when the channel's secret is not in the environment; Reason says why.
	Enabled bool   `json:"enabled"`
	Reason  string `json:"reason,omitempty"`

	LastSuccess time.Time `json:"last_success,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	LastError   string    `json:"last_error,omitempty"` // redacted
	// Failures counts consecutive runs in which at least one send to the channel failed.
	Failures int `json:"failures,omitempty"`
	// Undelivered counts notifications still owed to the channel after the last run.
	Undelivered int `json:"undelivered,omitempty"`
}

// Failing reports whether the channel's last run had a failed send.
func (c ChannelStatus) Failing() bool { return c.Failures > 0 }

// Find returns the alert with the fingerprint.
func (s *State) Find(fingerprint string) (Alert, bool) {
	i, ok := slices.BinarySearchFunc(s.Alerts, fingerprint, func(a Alert, fp string) int {
		return strings.Compare(a.Fingerprint, fp)
	})
	if !ok {
		return Alert{}, false
	}
	return s.Alerts[i], true
}

// Firing returns the firing alerts, most severe first, then by product and rule.
func (s *State) Firing() []Alert {
	var out []Alert
	for _, a := range s.Alerts {
		if a.Status == Firing {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Alert) int {
		if c := severityRank(a.Severity) - severityRank(b.Severity); c != 0 {
			return c
		}
		if c := strings.Compare(a.Product, b.Product); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	return out
}

func severityRank(s string) int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// Load reads data/alerts.json; a missing file is the empty state.
func Load(st *store.Store) (State, error) {
	s, _, err := LoadFile(st)
	return s, err
}

// LoadFile is Load that also says whether the file exists (an evaluation has run).
func LoadFile(st *store.Store) (State, bool, error) {
	var s State
	found, err := st.ReadDoc(StateFile, KindState, &s)
	if err != nil {
		return State{}, false, fmt.Errorf("alert state: %w", err)
	}
	s.normalize()
	return s, found, nil
}

// Save writes data/alerts.json (unchanged bytes are not rewritten): the state as persisted
// keeps it.
func Save(st *store.Store, s State) error {
	s = s.persisted()
	s.normalize()
	if err := st.WriteDoc(StateFile, KindState, s); err != nil {
		return fmt.Errorf("alert state: %w", err)
	}
	return nil
}

// normalize sorts the slices and turns nil into empty, so the file is deterministic.
func (s *State) normalize() {
	if s.Alerts == nil {
		s.Alerts = []Alert{}
	}
	if s.Transitions == nil {
		s.Transitions = []Transition{}
	}
	if s.Channels == nil {
		s.Channels = []ChannelStatus{}
	}
	slices.SortFunc(s.Alerts, func(a, b Alert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	slices.SortStableFunc(s.Transitions, func(a, b Transition) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	slices.SortFunc(s.Channels, func(a, b ChannelStatus) int { return strings.Compare(a.Name, b.Name) })
}

// persisted is the state as data/alerts.json keeps it: the counters only while they decide
// something (a pending alert's breaches and the time of its last breach, a recovering firing
// alert's recoveries), so that a run in which nothing happens writes the same bytes.
func (s State) persisted() State {
	out := s
	out.Alerts = make([]Alert, len(s.Alerts))
	for i, a := range s.Alerts {
		switch {
		case a.Status == Pending:
			a.Recoveries = 0
		case a.Status == Firing && a.Recoveries > 0:
			a.Breaches, a.LastSeen = 0, time.Time{}
		default:
			a.Breaches, a.Recoveries, a.LastSeen, a.Counted = 0, 0, time.Time{}, time.Time{}
		}
		out.Alerts[i] = a
	}
	return out
}

// changedSince reports whether next, evaluated at now, holds anything prev did not besides
// what only moves with time: the values a firing or resolved alert was observed at (the site
// shows them fresh), transitions and resolved alerts aged out of the retention.
func changedSince(prev, next State, now time.Time) bool {
	view := func(s State) State {
		s = s.persisted()
		s.LastRun = time.Time{}
		for i := range s.Alerts {
			if a := &s.Alerts[i]; a.Status != Pending {
				a.Value, a.Threshold, a.Unit, a.Summary = 0, 0, "", ""
			}
		}
		s.normalize()
		return s
	}
	inNext := map[string]bool{}
	for _, a := range next.Alerts {
		inNext[a.Fingerprint] = true
	}
	aged := prev
	aged.Alerts = nil
	for _, a := range prev.Alerts {
		if a.Status != Resolved || inNext[a.Fingerprint] {
			aged.Alerts = append(aged.Alerts, a)
		}
	}
	aged.Transitions = nil
	cutoff := now.Add(-TransitionRetention)
	for _, t := range prev.Transitions {
		if t.At.After(cutoff) {
			aged.Transitions = append(aged.Transitions, t)
		}
	}
	a, _ := json.Marshal(view(aged))
	b, _ := json.Marshal(view(next))
	return !bytes.Equal(a, b)
}
