package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Kinds of notification.
const (
	NotifyFiring   = "firing"   // the alert started firing (or the channel never heard of this episode)
	NotifyRepeat   = "repeat"   // an unacknowledged critical alert is still firing after repeat_interval
	NotifyResolved = "resolved" // the alert resolved
)

// Retention of the state file.
const (
	// TransitionRetention is how long transitions are kept.
	TransitionRetention = 90 * 24 * time.Hour
	// ResolvedRetention is how long a resolved alert stays listed.
	ResolvedRetention = 7 * 24 * time.Hour
	// OwedRetention is how long a resolve that a channel never took is retried before the
	// alert is dropped anyway.
	OwedRetention = 30 * 24 * time.Hour
)

// Input is everything Evaluate reads besides the previous state.
type Input struct {
	Products []ProductInput
	Routes   []Route
	// Acks holds what the GitHub issues said this run, by fingerprint; an alert missing from
	// it keeps its previous Acknowledged.
	Acks map[string]bool
	// SiteURL is site.base_url, for links to product pages.
	SiteURL string
	// Held names the products whose data could not be read (damaged files), with why: their
	// alerts keep their state, neither breaching nor recovering, until the data is repaired.
	Held map[string]string
}

// Notification is one message owed to one channel.
type Notification struct {
	Channel string
	Kind    string // firing | repeat | resolved
	// Alert is the alert as of this evaluation, without its Deliveries.
	Alert Alert
	// Delivery is what the channel got last for this alert: the firing mail's Message-ID, the
	// issue number, the dedup key.
	Delivery    Delivery
	ProductName string
	// ProductURL is the product's page on the site; empty without site.base_url.
	ProductURL string
	At         time.Time
}

// Receipt is what a channel returns for a delivered notification; its references are kept in
// the alert's delivery record.
type Receipt struct {
	MessageID   string // email: the Message-ID sent (kept for a firing mail)
	IssueNumber int    // GitHub issues
	IssueURL    string
	DedupKey    string // PagerDuty
}

// Evaluate applies the rules and the state machine to the previous state at now, and lists the
// notifications due. It is pure. Delivery records in the result are as in prev: Record them
// as sends succeed or fail.
func Evaluate(prev State, in Input, now time.Time) (State, []Notification) {
	return evaluate(prev, in, now, Rules)
}

// evaluate is Evaluate with the rules as a parameter, so tests can script observations.
func evaluate(prev State, in Input, now time.Time, rules func(ProductInput, time.Time) []Observation) (State, []Notification) {
	now = now.UTC()
	next := State{LastRun: now}

	products := map[string]ProductInput{}
	obs := map[string]Observation{}
	var order []string
	for _, p := range in.Products {
		products[p.Product.ID] = p
		for _, o := range rules(p, now) {
			fp := o.Fingerprint()
			if _, dup := obs[fp]; !dup {
				order = append(order, fp)
			}
			obs[fp] = o
		}
	}
	prevAlerts := map[string]Alert{}
	for _, a := range prev.Alerts {
		prevAlerts[a.Fingerprint] = a
	}
	for _, a := range prev.Alerts {
		if _, ok := obs[a.Fingerprint]; !ok {
			order = append(order, a.Fingerprint)
		}
	}

	var transitions []Transition
	for _, fp := range order {
		var before *Alert
		if a, ok := prevAlerts[fp]; ok {
			before = &a
		}
		o, present := obs[fp]
		if before != nil && !present {
			if _, held := in.Held[before.Product]; held {
				next.Alerts = append(next.Alerts, *before) // no data to judge it by
				continue
			}
		}
		if !present {
			// The rule no longer reports the alert: its subject recovered, or the product left
			// the config (then it resolves at once, so PagerDuty and the issue are closed).
			o = Observation{Product: before.Product, Rule: before.Rule, Subject: before.Subject,
				Severity: before.Severity, ResolveAfter: 1, Event: before.Rule == RuleDeployment,
				Value: before.Value, Threshold: before.Threshold, Unit: before.Unit, Summary: before.Summary}
			if p, ok := products[before.Product]; ok {
				o.ResolveAfter = max(p.Product.AlertingConfig.SuccessThreshold, 1)
				switch before.Rule {
				case RuleSourceFailing:
					o.Summary = "data source " + before.Subject + " recovered"
				case RuleDeploymentRegression:
					o.Summary = regressionGone(before, p, now)
				}
			} else {
				o.Summary = "product " + before.Product + " is no longer configured"
			}
		}
		after, t := step(before, o, present, now)
		if t != nil {
			transitions = append(transitions, *t)
		}
		if after == nil {
			continue
		}
		if ack, ok := in.Acks[fp]; ok && after.Status == Firing {
			after.Acknowledged = ack
		}
		if after.Status == Resolved && dropResolved(*after, in.Routes, now) {
			continue
		}
		next.Alerts = append(next.Alerts, *after)
	}

	inhibit(next.Alerts)
	mute(next.Alerts, products, now)

	cutoff := now.Add(-TransitionRetention)
	for _, t := range prev.Transitions {
		if t.At.After(cutoff) {
			next.Transitions = append(next.Transitions, t)
		}
	}
	next.Transitions = append(next.Transitions, transitions...)

	prevCh := map[string]ChannelStatus{}
	for _, c := range prev.Channels {
		prevCh[c.Name] = c
	}
	for _, r := range in.Routes {
		c, ok := prevCh[r.Channel]
		if !ok {
			c = ChannelStatus{Name: r.Channel}
		}
		next.Channels = append(next.Channels, c)
	}
	next.normalize()

	var notes []Notification
	for _, a := range next.Alerts {
		p := products[a.Product]
		for _, r := range in.Routes {
			kind := due(a, r, now)
			if kind == "" {
				continue
			}
			n := Notification{Channel: r.Channel, Kind: kind, Alert: a, Delivery: a.Deliveries[r.Channel],
				ProductName: p.Product.Name, At: now}
			n.Alert.Deliveries = nil
			if n.ProductName == "" {
				n.ProductName = a.Product
			}
			if in.SiteURL != "" {
				n.ProductURL = strings.TrimSuffix(in.SiteURL, "/") + "/products/" + a.Product + "/"
			}
			notes = append(notes, n)
		}
	}
	return next, notes
}

// regressionGone says why a deployment_regression alert's subject is no longer reported.
func regressionGone(a *Alert, p ProductInput, now time.Time) string {
	if a.Status == Resolved {
		return a.Summary // said when it resolved
	}
	was := a.Summary
	for _, prefix := range []string{"superseded by deployment ", "no longer followed", "the after-window no longer shows"} {
		if _, rest, ok := strings.Cut(was, "; was: "); ok && strings.HasPrefix(was, prefix) {
			was = rest // a recovering alert: said last run already
		}
	}
	id, _, _ := strings.Cut(a.Subject, "/")
	d, ok := latestDeployment(p.Deployments, now)
	switch {
	case ok && d.ID != id:
		return fmt.Sprintf("superseded by deployment %s (%s) at %s; was: %s", shortSHA(d.SHA), d.ID, d.Time.UTC().Format("2006-01-02 15:04 UTC"), was)
	case ok && now.Sub(d.Time) > ImpactLookback:
		return "no longer followed, a week after the deployment; was: " + was
	}
	return "the after-window no longer shows a regression; was: " + was
}

// step moves one alert through pending → firing → resolved. before is nil for an alert not in
// the state; the result is nil when the alert leaves the state.
func step(before *Alert, o Observation, present bool, now time.Time) (*Alert, *Transition) {
	breach := present && o.Breach && !o.NoData
	if present && o.NoData {
		return before, nil // no data: hold, neither breach nor recovery
	}
	if breach {
		if before == nil || before.Status == Resolved {
			if before != nil && (o.Event || o.Once) {
				b := *before // an event, or a once-only alert, fires once
				b.LastSeen = now
				return &b, nil
			}
			a := Alert{Fingerprint: o.Fingerprint(), Product: o.Product, Rule: o.Rule, Subject: o.Subject,
				Severity: o.Severity, Status: Pending, Since: now, Breaches: 1, Counted: now}
			if before != nil {
				a.Deliveries = before.Deliveries // the channels' references of the last episode
			}
			observe(&a, o, now)
			if a.Breaches >= o.FireAfter {
				from := ""
				if before != nil {
					from = Resolved
				}
				return &a, fire(&a, from, episodeStart(before, o, now), now)
			}
			return &a, nil
		}
		a := *before
		if !a.Counted.Equal(now) { // a second evaluation at the same time counts nothing
			a.Breaches++
		}
		a.Recoveries, a.Counted = 0, now
		a.Severity = o.Severity
		observe(&a, o, now)
		if a.Status == Pending && a.Breaches >= o.FireAfter {
			return &a, fire(&a, Pending, episodeStart(before, o, now), now)
		}
		return &a, nil
	}
	if before == nil {
		return nil, nil
	}
	a := *before
	if present {
		a.Value, a.Threshold, a.Unit, a.Summary = o.Value, o.Threshold, o.Unit, o.Summary
	} else {
		a.Summary = o.Summary
	}
	switch a.Status {
	case Pending:
		return nil, nil // recovered before it fired: never notified, forgotten
	case Firing:
		if o.Event {
			return nil, nil // the event left its window
		}
		a.Breaches = 0
		if !a.Counted.Equal(now) {
			a.Recoveries++
		}
		a.Counted = now
		if a.Recoveries >= max(o.ResolveAfter, 1) {
			a.Status, a.Since, a.ResolvedAt = Resolved, now, now
			return &a, transition(a, Firing, now)
		}
		return &a, nil
	default: // resolved
		if o.Event && !present {
			return nil, nil
		}
		a.Breaches = 0
		a.Recoveries++
		return &a, nil
	}
}

func observe(a *Alert, o Observation, now time.Time) {
	a.Value, a.Threshold, a.Unit, a.Summary, a.LastSeen = o.Value, o.Threshold, o.Unit, o.Summary, now
	if o.Links != nil {
		a.Links = o.Links
	}
}

// episodeStart is when a new firing episode begins: where the history says the breach began,
// if that is after the previous episode resolved and not in the future; else now.
func episodeStart(before *Alert, o Observation, now time.Time) time.Time {
	s := o.Since
	if s.IsZero() || s.After(now) || (before != nil && !s.After(before.ResolvedAt)) {
		return now
	}
	return s.UTC()
}

func fire(a *Alert, from string, start, now time.Time) *Transition {
	a.Status, a.Since, a.FiringSince, a.ResolvedAt = Firing, now, start, time.Time{}
	a.Recoveries, a.Acknowledged, a.IssueURL = 0, false, ""
	return transition(*a, from, now)
}

func transition(a Alert, from string, now time.Time) *Transition {
	return &Transition{At: now, Fingerprint: a.Fingerprint, Product: a.Product, Rule: a.Rule, Subject: a.Subject,
		Severity: a.Severity, From: from, To: a.Status, Value: a.Value, Threshold: a.Threshold, Unit: a.Unit, Summary: a.Summary}
}

// due says which notification, if any, the route owes the alert at now.
func due(a Alert, r Route, now time.Time) string {
	if !r.Matches(a) || a.Muted != "" {
		return ""
	}
	d := a.Deliveries[r.Channel]
	episode := d.Episode.Equal(a.FiringSince)
	switch a.Status {
	case Firing:
		if a.Inhibited {
			return ""
		}
		if d.State != Firing || !episode {
			return NotifyFiring
		}
		if a.Severity == Critical && !a.Acknowledged && r.RepeatInterval > 0 && !now.Before(d.At.Add(r.RepeatInterval)) {
			return NotifyRepeat
		}
	case Resolved:
		if r.SendResolved && d.State == Firing && episode && a.Rule != RuleDeployment {
			return NotifyResolved
		}
	}
	return ""
}

// inhibited lists the rules a firing probe_down alert of the same product silences: they
// measure the same outage, and one page per outage is enough.
var inhibited = []string{RuleUptime, RuleFastBurn, RuleSlowBurn}

// inhibit marks the alerts that a firing probe_down alert of their product silences. An alert
// that was pending or firing during the outage stays silenced until it resolves itself: the
// 24-hour uptime of a product that was down for an hour stays under its objective for a day,
// and paging again for it after the outage resolved would be a second page for one outage. A
// leak that never trips probe_down (failures that are not consecutive) is never inhibited.
func inhibit(alerts []Alert) {
	down := map[string]bool{}
	for _, a := range alerts {
		if a.Rule == RuleProbeDown && a.Status == Firing {
			down[a.Product] = true
		}
	}
	for i := range alerts {
		a := &alerts[i]
		active := a.Status == Firing || a.Status == Pending
		a.Inhibited = active && slices.Contains(inhibited, a.Rule) && (down[a.Product] || a.Inhibited)
	}
}

// mute marks the alerts of products in a maintenance window at now: their notifications wait
// until the window closes (a firing alert is told then, if it still fires; a resolve then too),
// while their states move on as usual.
func mute(alerts []Alert, products map[string]ProductInput, now time.Time) {
	for i := range alerts {
		a := &alerts[i]
		a.Muted = ""
		p, ok := products[a.Product]
		if !ok {
			continue
		}
		for _, m := range p.Product.Maintenance {
			if start, end, ok := m.Window(); ok && !now.Before(start) && now.Before(end) {
				a.Muted = MutedMaintenance
			}
		}
	}
}

// dropResolved reports whether a resolved alert has been listed long enough and owes nothing.
func dropResolved(a Alert, routes []Route, now time.Time) bool {
	age := now.Sub(a.ResolvedAt)
	if age >= OwedRetention {
		return true
	}
	if age < ResolvedRetention {
		return false
	}
	return !slices.ContainsFunc(routes, func(r Route) bool { return due(a, r, now) != "" })
}

// Record writes the outcome of one send into the state: on success the channel's delivery
// record and references; on failure the attempt and its (already redacted) error, so the
// notification is owed again next run.
func Record(s *State, n Notification, r Receipt, sendErr error, now time.Time) {
	i, ok := slices.BinarySearchFunc(s.Alerts, n.Alert.Fingerprint, func(a Alert, fp string) int {
		return strings.Compare(a.Fingerprint, fp)
	})
	if !ok {
		return
	}
	a := &s.Alerts[i]
	// Copy on write: the map may be shared with the previous state Evaluate started from.
	a.Deliveries = maps.Clone(a.Deliveries)
	if a.Deliveries == nil {
		a.Deliveries = map[string]Delivery{}
	}
	d := a.Deliveries[n.Channel]
	if sendErr != nil {
		d.Attempts++
		d.LastError = truncate(sendErr.Error(), 500)
		d.LastAttempt = now
		a.Deliveries[n.Channel] = d
		return
	}
	newEpisode := !d.Episode.Equal(n.Alert.FiringSince)
	d.At, d.Episode, d.Attempts, d.LastError, d.LastAttempt = now, n.Alert.FiringSince, 0, "", time.Time{}
	d.State = Firing
	if n.Kind == NotifyResolved {
		d.State = Resolved
	}
	if n.Kind == NotifyFiring && r.MessageID != "" {
		d.MessageID = r.MessageID
	} else if newEpisode {
		d.MessageID = ""
	}
	if r.IssueNumber != 0 {
		d.IssueNumber = r.IssueNumber
	}
	if r.DedupKey != "" {
		d.DedupKey = r.DedupKey
	}
	if r.IssueURL != "" {
		a.IssueURL = r.IssueURL
	}
	a.Deliveries[n.Channel] = d
}
