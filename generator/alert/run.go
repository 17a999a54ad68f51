package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sourcegraph/conc"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Sender delivers notifications to one channel. notify.Notifier is the same interface; the
// channels live in generator/notify/… and are built from the config there.
type Sender interface {
	Name() string
	Notify(ctx context.Context, n Notification) (Receipt, error)
}

// Acknowledger is a Sender that can read acknowledgements back (the GitHub issues channel).
// It returns, for the alerts it knows, whether each is acknowledged, by fingerprint.
type Acknowledger interface {
	Acknowledged(ctx context.Context, alerts []Alert) (map[string]bool, error)
}

// Options configure Run.
type Options struct {
	Config *config.Config // loaded, defaults applied
	Store  *store.Store
	Now    time.Time
	// Senders are the channels that can send (their secrets are set), by Name.
	Senders []Sender
	// Disabled names configured channels that cannot send, with the reason (e.g. "SLACK_WEBHOOK_URL
	// is not set"). Their notifications stay owed.
	Disabled map[string]string
	// DryRun evaluates and lists the notifications, sends nothing and saves nothing.
	DryRun bool
	// SendTimeout bounds one notification, retries included (default 1 minute).
	SendTimeout time.Duration
	// Redactor scrubs every error kept in the state or the summary, should a channel's error
	// ever carry a secret (nil: URL credentials only).
	Redactor *redact.Redactor
	Logger   *slog.Logger
}

// Outcome statuses.
const (
	OutcomeSent    = "sent"
	OutcomeFailed  = "failed"
	OutcomeSkipped = "skipped" // the channel is disabled
	OutcomeDryRun  = "dry-run"
)

// Outcome is what happened to one notification.
type Outcome struct {
	Notification Notification
	Status       string
	Error        string // redacted
	Receipt      Receipt
}

// Summary is the result of a Run, for the CLI and the run summary.
type Summary struct {
	Now         time.Time
	DryRun      bool
	Firing      []Alert      // most severe first
	Pending     int          // alerts waiting for more breaches
	Transitions []Transition // status changes of this run
	Outcomes    []Outcome    // in channel, then fingerprint order
	Channels    []ChannelStatus
	// Damaged are the products whose data could not be read, with the file and line (store.
	// DamageText): their alerts were held as they were; the others were evaluated.
	Damaged []Damaged
	// Saved says data/alerts.json was written: something happened (a transition, a delivery).
	Saved bool
}

// Damaged is a product whose data files are damaged.
type Damaged struct {
	Product string
	Err     error
}

// Text is "data damaged: file:line: what (hint)".
func (d Damaged) Text() string { return store.DamageText(d.Err) }

// Count returns how many outcomes have the status.
func (s Summary) Count(status string) int {
	n := 0
	for _, o := range s.Outcomes {
		if o.Status == status {
			n++
		}
	}
	return n
}

// FailingChannels names the channels with a failed send this run, sorted.
func (s Summary) FailingChannels() []string {
	var out []string
	for _, o := range s.Outcomes {
		if o.Status == OutcomeFailed && !slices.Contains(out, o.Notification.Channel) {
			out = append(out, o.Notification.Channel)
		}
	}
	slices.Sort(out)
	return out
}

// Run evaluates the alerts at Now, sends what is due through the senders, records every
// successful delivery and saves data/alerts.json. Failed sends are kept as owed and retried
// next run; one channel failing does not stop the others. The error is for problems with the
// data or the state file, not for failed sends (see Summary).
func Run(ctx context.Context, o Options) (Summary, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = time.Minute
	}
	now := o.Now.UTC()
	prev, found, err := LoadFile(o.Store)
	if err != nil {
		return Summary{}, err
	}
	routes, err := Routes(o.Config.NotificationChannels)
	if err != nil {
		return Summary{}, err
	}
	in, damaged, err := GatherAll(o.Config, o.Store, now)
	if err != nil {
		return Summary{}, err
	}
	for _, d := range damaged {
		log.Error("data damaged: alerts of the product held", "product", d.Product, "err", d.Err)
	}
	in.Routes = routes
	in.Acks = readAcks(ctx, o.Senders, prev, log)

	next, notes := Evaluate(prev, in, now)
	sum := Summary{Now: now, DryRun: o.DryRun, Damaged: damaged}
	for _, t := range next.Transitions {
		if t.At.Equal(now) {
			sum.Transitions = append(sum.Transitions, t)
		}
	}

	senders := map[string]Sender{}
	for _, s := range o.Senders {
		senders[s.Name()] = s
	}
	byChannel := map[string][]Notification{}
	for _, n := range notes {
		byChannel[n.Channel] = append(byChannel[n.Channel], n)
	}
	channels := make([]string, 0, len(byChannel))
	for c := range byChannel {
		channels = append(channels, c)
	}
	slices.Sort(channels)

	results := make([][]Outcome, len(channels))
	var wg conc.WaitGroup
	for i, ch := range channels {
		out := make([]Outcome, len(byChannel[ch]))
		results[i] = out
		s := senders[ch]
		for j, n := range byChannel[ch] {
			out[j] = Outcome{Notification: n}
			switch {
			case o.DryRun:
				out[j].Status = OutcomeDryRun
			case s == nil:
				out[j].Status = OutcomeSkipped
				out[j].Error = o.Disabled[ch]
				if out[j].Error == "" {
					out[j].Error = "no sender for the channel"
				}
			}
		}
		if o.DryRun || s == nil {
			continue
		}
		// One goroutine per channel, its notifications in order: a slow or failing channel
		// holds up only itself.
		wg.Go(func() {
			for j := range out {
				sctx, cancel := context.WithTimeout(ctx, o.SendTimeout)
				r, err := s.Notify(sctx, out[j].Notification)
				cancel()
				if err != nil {
					out[j].Status, out[j].Error = OutcomeFailed, o.Redactor.String(err.Error())
					continue
				}
				out[j].Status, out[j].Receipt = OutcomeSent, r
			}
		})
	}
	wg.Wait()

	for i, ch := range channels {
		for _, oc := range results[i] {
			n := oc.Notification
			attrs := []any{"channel", ch, "kind", n.Kind, "product", n.Alert.Product, "rule", n.Alert.Rule,
				"severity", n.Alert.Severity, "fingerprint", n.Alert.Fingerprint}
			switch oc.Status {
			case OutcomeSent:
				Record(&next, n, oc.Receipt, nil, now)
				log.Info("alert sent", attrs...)
			case OutcomeFailed:
				Record(&next, n, Receipt{}, errors.New(oc.Error), now)
				log.Warn("alert send failed; retried next run", append(attrs, "err", oc.Error)...)
			case OutcomeSkipped:
				log.Info("alert not sent: channel disabled", append(attrs, "reason", oc.Error)...)
			case OutcomeDryRun:
				log.Info("alert due (dry run)", attrs...)
			}
			sum.Outcomes = append(sum.Outcomes, oc)
		}
	}
	updateChannels(&next, sum.Outcomes, senders, o.Disabled, now)

	sum.Firing = next.Firing()
	for _, a := range next.Alerts {
		if a.Status == Pending {
			sum.Pending++
		}
	}
	sum.Channels = next.Channels
	if o.DryRun || (found && !changedSince(prev, next, now)) {
		return sum, nil // nothing happened: the file stays as it is
	}
	if err := Save(o.Store, next); err != nil {
		return sum, err
	}
	sum.Saved = true
	return sum, nil
}

// Gather reads the rules' inputs from the store: the last History of snapshots, the
// deployments, and the DORA comparison of each configured product. A damaged file is an error;
// GatherAll goes on without the product.
func Gather(cfg *config.Config, st *store.Store, now time.Time) (Input, error) {
	in, damaged, err := GatherAll(cfg, st, now)
	if err == nil && len(damaged) > 0 {
		err = damaged[0].Err
	}
	return in, err
}

// GatherAll is Gather that leaves out a product whose data is damaged (store.Damage): the
// product is in Input.Held, so its alerts hold, and in the returned list.
func GatherAll(cfg *config.Config, st *store.Store, now time.Time) (Input, []Damaged, error) {
	in := Input{SiteURL: cfg.Site.BaseURL}
	var damaged []Damaged
	for _, p := range cfg.Products {
		pi, err := gather(cfg, st, p, now)
		if _, ok := store.Damage(err); ok {
			damaged = append(damaged, Damaged{Product: p.ID, Err: err})
			if in.Held == nil {
				in.Held = map[string]string{}
			}
			in.Held[p.ID] = store.DamageText(err)
			continue
		}
		if err != nil {
			return Input{}, nil, err
		}
		in.Products = append(in.Products, pi)
	}
	return in, damaged, nil
}

func gather(cfg *config.Config, st *store.Store, p config.Product, now time.Time) (ProductInput, error) {
	deps, err := st.Deployments(p.ID)
	if err != nil {
		return ProductInput{}, fmt.Errorf("alert %s: deployments: %w", p.ID, err)
	}
	snaps, err := st.Snapshots(p.ID, SnapshotsFrom(p, deps, now), now.Add(time.Nanosecond))
	if err != nil {
		return ProductInput{}, fmt.Errorf("alert %s: snapshots: %w", p.ID, err)
	}
	var days []record.AnalyticsDay
	if len(p.PostHog.KeyEvents) > 0 {
		if days, err = st.Analytics(p.ID); err != nil {
			return ProductInput{}, fmt.Errorf("alert %s: analytics: %w", p.ID, err)
		}
	}
	incs, err := st.Incidents(p.ID)
	if err != nil {
		return ProductInput{}, fmt.Errorf("alert %s: incidents: %w", p.ID, err)
	}
	pi := ProductInput{Product: p, Snapshots: snaps, Deployments: deps, Days: days}
	if len(deps) > 0 || len(incs) > 0 {
		c := dora.ProductFigures(cfg.DORA, dora.Input{Product: p, Deployments: deps, Incidents: incs}, now)
		pi.DORA = &c
	}
	return pi, nil
}

// readAcks asks the acknowledging senders about the firing alerts they hold an issue for.
// A failure keeps the previous acknowledgements.
func readAcks(ctx context.Context, senders []Sender, prev State, log *slog.Logger) map[string]bool {
	acks := map[string]bool{}
	for _, s := range senders {
		ak, ok := s.(Acknowledger)
		if !ok {
			continue
		}
		var alerts []Alert
		for _, a := range prev.Alerts {
			if d, ok := a.Deliveries[s.Name()]; ok && a.Status == Firing && d.IssueNumber != 0 && d.Episode.Equal(a.FiringSince) {
				alerts = append(alerts, a)
			}
		}
		if len(alerts) == 0 {
			continue
		}
		got, err := ak.Acknowledged(ctx, alerts)
		if err != nil {
			log.Warn("could not read acknowledgements; keeping the previous ones", "channel", s.Name(), "err", err)
		}
		for fp, v := range got {
			acks[fp] = v
		}
	}
	return acks
}

// updateChannels records each channel's health from this run's outcomes.
func updateChannels(s *State, outcomes []Outcome, senders map[string]Sender, disabled map[string]string, now time.Time) {
	for i := range s.Channels {
		c := &s.Channels[i]
		_, c.Enabled = senders[c.Name]
		c.Reason = ""
		if !c.Enabled {
			c.Reason = disabled[c.Name]
			if c.Reason == "" {
				c.Reason = "not set up"
			}
		}
		var sent, failed, owed int
		var lastErr string
		for _, o := range outcomes {
			if o.Notification.Channel != c.Name {
				continue
			}
			switch o.Status {
			case OutcomeSent:
				sent++
			case OutcomeFailed:
				failed++
				owed++
				lastErr = o.Error
			case OutcomeSkipped, OutcomeDryRun:
				owed++
			}
		}
		c.Undelivered = owed
		switch {
		case failed > 0:
			c.Failures++
			c.LastFailure = now
			c.LastError = lastErr
		case sent > 0:
			c.Failures = 0
			c.LastSuccess = now
			c.LastError = ""
		}
	}
}
