package digest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/store"
)

// The channels that carry the digest.
const (
	ChannelEmail = "email"
	ChannelSlack = "slack"
)

// Channels lists them, sorted.
var Channels = []string{ChannelEmail, ChannelSlack}

// Sender sends a digest to one channel. The channels are built in generator/run from the
// config and the environment (run.DigestSenders).
type Sender interface {
	Name() string
	Send(ctx context.Context, d *Digest) (Receipt, error)
}

// Receipt is what a sent digest left behind.
type Receipt struct {
	MessageID string
}

// Route is one channel's digest route, resolved.
type Route struct {
	Channel  string
	Products []string // nil: every product
}

// Routes are the channels configured to get the digest, sorted by channel.
func Routes(cfg *config.Config) []Route {
	var out []Route
	nc := cfg.NotificationChannels
	add := func(name string, r *config.DigestRoute, alertRoute config.Route) {
		if !r.On() {
			return
		}
		rt := Route{Channel: name, Products: alertRoute.Products}
		if r != nil && len(r.Products) > 0 {
			rt.Products = r.Products
		}
		out = append(out, rt)
	}
	if ch := nc.Email; ch != nil {
		add(ChannelEmail, ch.Digest, ch.Route)
	}
	if ch := nc.Slack; ch != nil {
		add(ChannelSlack, ch.Digest, ch.Route)
	}
	return out
}

// Options configure Deliver.
type Options struct {
	Config *config.Config // loaded, defaults applied
	Store  *store.Store
	Now    time.Time
	// Senders can send; Disabled names configured channels that cannot, with the reason (the
	// digest stays owed to them).
	Senders  []Sender
	Disabled map[string]string
	// DryRun computes what is due and sends and saves nothing.
	DryRun bool
	// Period, when set, is the period to send instead of the latest due one (a resend after a
	// failure the next week); it is still sent at most once per channel.
	Period      *Period
	SendTimeout time.Duration // per channel, default 1 minute
	Redactor    *redact.Redactor
	Logger      *slog.Logger
}

// Outcome statuses.
const (
	OutcomeSent    = "sent"
	OutcomeFailed  = "failed"  // retried next run
	OutcomeAlready = "already" // sent before: not again
	OutcomeSkipped = "skipped" // the channel is disabled: owed
	OutcomeDryRun  = "dry-run" // due, not sent
	OutcomeNoData  = "no-data" // nothing to say for the period: not sent, not recorded
)

// Outcome is what happened to one channel's digest.
type Outcome struct {
	Channel string
	Status  string
	Detail  string // the error, the reason, or when it was sent before
	Digest  *Digest
}

// Summary is the result of Deliver.
type Summary struct {
	Off      string // why no digest is considered at all ("digest.enabled is false", "no channel…")
	Period   Period
	Outcomes []Outcome // by channel
	Saved    bool      // data/digests.json was written
	Label    string    // the period in words
	// Digest is the whole portfolio's digest of the period (for --dry-run and --preview); nil
	// when every channel had it already and it was not a dry run.
	Digest *Digest
}

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

// Deliver sends the digest of the latest period that is due (the latest scheduled time at or
// before Now) to every routed channel that has not had it, and records each delivery in
// data/digests.json. Run after run it sends each period at most once per channel; a run missed
// at the scheduled time is made up by the next run, however late, until the next period is due.
// A failed send is retried next run. The error is for the data, not for a failed send.
func Deliver(ctx context.Context, o Options) (Summary, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = time.Minute
	}
	cfg := o.Config
	per := ScheduleOf(cfg).Latest(o.Now)
	if o.Period != nil {
		per = *o.Period
	}
	sum := Summary{Period: per, Label: per.Label(cfg.Site.Location())}
	// The digest is read and computed only when something may go out (or a dry run shows it):
	// the step runs every 15 minutes and has nothing to do in all but one of them a week.
	compute := func() (Input, error) {
		in, err := Gather(cfg, o.Store, per)
		if err != nil {
			return Input{}, err
		}
		sum.Digest = Compute(in)
		return in, nil
	}
	routes := Routes(cfg)
	var state State
	var err error
	if cfg.Digest.On() && len(routes) > 0 {
		if state, err = LoadState(o.Store); err != nil {
			return sum, err
		}
	}
	due := false
	for _, rt := range routes {
		if _, ok := state.Sent(per.ID, rt.Channel); !ok {
			due = true
		}
	}
	var in Input
	if due || o.DryRun {
		if in, err = compute(); err != nil {
			return sum, err
		}
	}
	switch {
	case !cfg.Digest.On():
		sum.Off = "digest.enabled is false"
		return sum, nil
	case len(routes) == 0:
		sum.Off = "no channel takes the digest (notification_channels.email or .slack, digest.enabled not false)"
		return sum, nil
	}
	senders := map[string]Sender{}
	for _, s := range o.Senders {
		senders[s.Name()] = s
	}
	changed := false
	for _, rt := range routes {
		oc := Outcome{Channel: rt.Channel}
		if d, ok := state.Sent(per.ID, rt.Channel); ok {
			oc.Status, oc.Detail = OutcomeAlready, "sent "+d.At.UTC().Format(time.RFC3339)
			sum.Outcomes = append(sum.Outcomes, oc)
			continue
		}
		oc.Digest = sum.Digest
		if len(rt.Products) > 0 {
			oc.Digest = Compute(narrow(in, rt.Products))
		}
		switch {
		case !hasData(in, rt.Products):
			oc.Status, oc.Detail = OutcomeNoData, "no snapshot in the period"
		case o.DryRun:
			oc.Status = OutcomeDryRun
		case senders[rt.Channel] == nil:
			oc.Status, oc.Detail = OutcomeSkipped, o.Disabled[rt.Channel]
			if oc.Detail == "" {
				oc.Detail = "no sender for the channel"
			}
		default:
			sctx, cancel := context.WithTimeout(ctx, o.SendTimeout)
			rc, err := senders[rt.Channel].Send(sctx, oc.Digest)
			cancel()
			if err != nil {
				oc.Status, oc.Detail = OutcomeFailed, o.Redactor.String(err.Error())
				log.Warn("digest send failed; retried next run", "channel", rt.Channel, "period", per.ID, "error", oc.Detail)
				break
			}
			oc.Status = OutcomeSent
			state.Deliveries = append(state.Deliveries, Delivery{Period: per.ID, Channel: rt.Channel, At: o.Now.UTC(),
				MessageID: rc.MessageID, Products: len(oc.Digest.Products)})
			changed = true
			log.Info("digest sent", "channel", rt.Channel, "period", per.ID, "products", len(oc.Digest.Products))
		}
		sum.Outcomes = append(sum.Outcomes, oc)
	}
	if changed && !o.DryRun {
		if err := SaveState(o.Store, state, o.Now); err != nil {
			return sum, err
		}
		sum.Saved = true
	}
	return sum, nil
}

// narrow keeps the products of ids (config order).
func narrow(in Input, ids []string) Input {
	out := in
	out.Products = nil
	for _, p := range in.Products {
		if slices.Contains(ids, p.Product.ID) {
			out.Products = append(out.Products, p)
		}
	}
	return out
}

// hasData reports whether any covered product has a snapshot in the period: a digest of nothing
// (a fresh install, a period before the first run) is not sent.
func hasData(in Input, ids []string) bool {
	for _, p := range in.Products {
		if len(ids) > 0 && !slices.Contains(ids, p.Product.ID) {
			continue
		}
		if len(health.Window(p.Snapshots, in.Period.Start, in.Period.End)) > 0 {
			return true
		}
	}
	return false
}

// Line is the one-line result for the run summary: "period 2026-11-30: sent to email, slack".
func Line(sum Summary) string {
	if sum.Off != "" {
		return "off: " + sum.Off
	}
	by := map[string][]string{}
	for _, o := range sum.Outcomes {
		by[o.Status] = append(by[o.Status], o.Channel)
	}
	var parts []string
	for _, s := range []struct{ status, words string }{
		{OutcomeSent, "sent to"}, {OutcomeAlready, "already sent to"}, {OutcomeDryRun, "due (dry run) for"},
		{OutcomeFailed, "failed for"}, {OutcomeSkipped, "owed to disabled"}, {OutcomeNoData, "no data for"},
	} {
		if len(by[s.status]) > 0 {
			parts = append(parts, s.words+" "+strings.Join(by[s.status], ", "))
		}
	}
	return fmt.Sprintf("period %s (%s): %s", sum.Period.ID, sum.Label, strings.Join(parts, "; "))
}
