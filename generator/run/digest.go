package run

import (
	"context"
	"fmt"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/notify/email"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// StepDigest is the weekly digest: after alert, before build.
const StepDigest = "digest"

// DigestSenders builds the digest's channels from the same notifiers as the alerts (the same
// secrets, clients and retry policy): email and Slack. A channel that cannot send is in the
// disabled map with the reason.
func DigestSenders(cfg *config.Config, o ChannelOptions) ([]digest.Sender, map[string]string) {
	set := Channels(cfg, o)
	policy := o.Retry
	if policy.Attempts == 0 {
		policy = retry.Notify().WithSleep(o.Retry.Sleep)
	}
	var out []digest.Sender
	for _, n := range set.Notifiers {
		switch n.Name() {
		case digest.ChannelEmail, digest.ChannelSlack:
		default:
			continue
		}
		// The notifiers are wrapped in notify.WithRetry; the digest needs the channel itself.
		switch c := notify.Unwrap(n).(type) {
		case *email.Notifier:
			out = append(out, &digestEmail{n: c, policy: policy})
		case *slack.Notifier:
			out = append(out, &digestSlack{n: c, policy: policy})
		}
	}
	return out, set.Disabled
}

type digestEmail struct {
	n      *email.Notifier
	policy retry.Policy
}

func (e *digestEmail) Name() string { return digest.ChannelEmail }

// Send mails the digest; its Message-ID is the period's, so a resend is the same mail.
func (e *digestEmail) Send(ctx context.Context, d *digest.Digest) (digest.Receipt, error) {
	html, err := digest.HTML(d)
	if err != nil {
		return digest.Receipt{}, err
	}
	m := email.Mail{Subject: digest.Subject(d), MessageID: digest.MessageID(d, e.n.Domain()), Date: d.Period.End,
		Text: digest.Text(d), HTML: html}
	err = e.policy.Do(ctx, func(ctx context.Context) error { return e.n.SendMail(ctx, m) })
	if err != nil {
		return digest.Receipt{}, fmt.Errorf("digest: %w", err)
	}
	return digest.Receipt{MessageID: m.MessageID}, nil
}

type digestSlack struct {
	n      *slack.Notifier
	policy retry.Policy
}

func (s *digestSlack) Name() string { return digest.ChannelSlack }

func (s *digestSlack) Send(ctx context.Context, d *digest.Digest) (digest.Receipt, error) {
	msg := digest.SlackMessage(d)
	if err := s.policy.Do(ctx, func(ctx context.Context) error { return s.n.Post(ctx, msg) }); err != nil {
		return digest.Receipt{}, fmt.Errorf("digest: %w", err)
	}
	return digest.Receipt{}, nil
}

// Digest is `portfolio digest`: it sends the digest that is due (or of period) to every
// channel that has not had it and records the deliveries, under the data lock. With o.DryRun,
// or on demo data (read only), it sends and saves nothing.
func Digest(ctx context.Context, o Options, period *digest.Period) (digest.Summary, error) {
	return writing(ctx, o, func(ctx context.Context, o Options) (digest.Summary, error) { return o.deliverDigest(ctx, period) })
}

func (o Options) deliverDigest(ctx context.Context, period *digest.Period) (digest.Summary, error) {
	senders, disabled := DigestSenders(o.Config, ChannelOptions{Getenv: o.Getenv, Client: o.HTTP.Channels, Logger: o.Log,
		Retry: retry.Policy{Sleep: o.Sleep}})
	return digest.Deliver(ctx, digest.Options{Config: o.Config, Store: o.Store, Now: o.Now, Senders: senders, Disabled: disabled,
		DryRun: o.DryRun, Period: period, Redactor: o.Redactor, Logger: o.Log})
}

// digestStep is the run's digest step. A failed send is a warning: it is retried next run.
func (o Options) digestStep(ctx context.Context, rep *Report) {
	sum, err := o.deliverDigest(ctx, nil)
	if err != nil {
		rep.fail(StepDigest, err)
		return
	}
	state := StateOK
	switch {
	case sum.Off != "":
		rep.add(StepDigest, StateSkipped, sum.Off)
		return
	case sum.Count(digest.OutcomeFailed) > 0:
		state = StateWarning
	}
	rep.add(StepDigest, state, digest.Line(sum))
	for _, oc := range sum.Outcomes {
		switch oc.Status {
		case digest.OutcomeFailed:
			rep.sub(oc.Channel, StateFailing, oc.Detail)
		case digest.OutcomeSkipped:
			rep.sub(oc.Channel, StateSkipped, oc.Detail)
		}
	}
}
