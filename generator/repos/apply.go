package repos

import (
	"context"
	"errors"
	"fmt"
	"slices"

	gh "github.com/google/go-github/v60/github"
)

// Step is the outcome of one change.
type Step struct {
	Change Change
	Err    error
}

// Report says what an apply did: the changes applied; those GitHub refused with a 403 (the
// token lacks a permission on that repository: the rest of that repository's part is skipped
// and apply goes on); the change that failed otherwise, which stops apply; and the changes not
// attempted.
type Report struct {
	Applied    []Step
	Denied     []Step
	Failed     *Step
	NotApplied []Change
}

// OK reports whether every change was applied.
func (r Report) OK() bool { return r.Failed == nil && len(r.Denied) == 0 && len(r.NotApplied) == 0 }

// Apply makes the plan's changes in order, calling progress after each. A 403 skips the rest
// of that repository's labels (or branch protection) and goes on; any other failure stops
// apply. The error says what went wrong; the report says what was and was not applied.
func Apply(ctx context.Context, c *Client, p *Plan, progress func(Step)) (Report, error) {
	var rep Report
	type part struct {
		repo string
		kind Kind
	}
	denied := map[part]bool{}
	for i, ch := range p.Changes {
		if denied[part{ch.Repository, ch.Kind}] {
			rep.NotApplied = append(rep.NotApplied, ch)
			continue
		}
		err := apply(ctx, c, ch)
		st := Step{Change: ch, Err: err}
		if progress != nil {
			progress(st)
		}
		var pe *PermissionError
		switch {
		case err == nil:
			rep.Applied = append(rep.Applied, st)
		case errors.As(err, &pe):
			rep.Denied = append(rep.Denied, st)
			denied[part{ch.Repository, ch.Kind}] = true
		default:
			rep.Failed = &st
			rep.NotApplied = append(rep.NotApplied, p.Changes[i+1:]...)
			return rep, fmt.Errorf("%s %s: %w", ch.Action, ch.title(), err)
		}
	}
	if n := len(rep.Denied); n > 0 {
		return rep, fmt.Errorf("%d change(s) refused for lack of permission (see above)", n)
	}
	return rep, nil
}

func apply(ctx context.Context, c *Client, ch Change) error {
	switch {
	case ch.Kind == KindLabel && ch.Action == Create:
		return c.createLabel(ctx, ch.Repository, *ch.label)
	case ch.Kind == KindLabel && ch.Action == Update:
		return c.editLabel(ctx, ch.Repository, ch.Name, *ch.label)
	case ch.Kind == KindProtection:
		return c.putProtection(ctx, ch.Repository, ch.Name, ProtectionRequest(*ch.protection, ch.base))
	}
	return fmt.Errorf("cannot %s a %s", ch.Action, ch.Kind)
}

// ProtectionRequest is the write (flat, every top-level key present) that sets the managed
// fields to want and keeps everything else as base, the protection as read (nil for an
// unprotected branch): push restrictions, dismissal restrictions, bypass allowances, the last
// push approval, conversation resolution, branch creation blocking, the lock and fork syncing,
// and the GitHub App a remaining status check must come from. Required signatures are not part
// of this write (GitHub manages them on their own endpoint), so they stay as they are.
func ProtectionRequest(want Protection, base *gh.Protection) *gh.ProtectionRequest {
	if base == nil {
		base = &gh.Protection{}
	}
	enabled := func(on bool) *bool { return &on }
	req := &gh.ProtectionRequest{
		EnforceAdmins:        want.EnforceAdmins,
		RequireLinearHistory: enabled(want.RequiredLinearHistory),
		AllowForcePushes:     enabled(want.AllowForcePushes),
		AllowDeletions:       enabled(want.AllowDeletions),
		RequiredConversationResolution: enabled(base.RequiredConversationResolution != nil &&
			base.RequiredConversationResolution.Enabled),
		BlockCreations:   enabled(base.BlockCreations != nil && base.BlockCreations.GetEnabled()),
		LockBranch:       enabled(base.LockBranch != nil && base.LockBranch.GetEnabled()),
		AllowForkSyncing: enabled(base.AllowForkSyncing != nil && base.AllowForkSyncing.GetEnabled()),
	}
	if len(want.RequiredStatusChecks) > 0 || want.Strict {
		apps := map[string]*int64{}
		if sc := base.RequiredStatusChecks; sc != nil && sc.Checks != nil {
			for _, c := range *sc.Checks {
				apps[c.Context] = c.AppID
			}
		}
		contexts := slices.Clone(want.RequiredStatusChecks)
		checks := []*gh.RequiredStatusCheck{}
		for _, name := range want.RequiredStatusChecks {
			checks = append(checks, &gh.RequiredStatusCheck{Context: name, AppID: apps[name]})
		}
		// The published schema requires contexts (deprecated); GitHub uses checks when both
		// are sent.
		req.RequiredStatusChecks = &gh.RequiredStatusChecks{Strict: want.Strict, Contexts: &contexts, Checks: &checks}
	}
	reviews := &gh.PullRequestReviewsEnforcementRequest{
		RequiredApprovingReviewCount: want.RequiredApprovingReviewCount,
		DismissStaleReviews:          want.DismissStaleReviews,
		RequireCodeOwnerReviews:      want.RequireCodeOwnerReviews,
	}
	if r := base.RequiredPullRequestReviews; r != nil {
		reviews.RequireLastPushApproval = enabled(r.RequireLastPushApproval)
		if d := r.DismissalRestrictions; d != nil && len(d.Users)+len(d.Teams)+len(d.Apps) > 0 {
			users, teams, apps := logins(d.Users), teamSlugs(d.Teams), appSlugs(d.Apps)
			reviews.DismissalRestrictionsRequest = &gh.DismissalRestrictionsRequest{Users: &users, Teams: &teams, Apps: &apps}
		}
		if b := r.BypassPullRequestAllowances; b != nil && len(b.Users)+len(b.Teams)+len(b.Apps) > 0 {
			reviews.BypassPullRequestAllowancesRequest = &gh.BypassPullRequestAllowancesRequest{
				Users: logins(b.Users), Teams: teamSlugs(b.Teams), Apps: appSlugs(b.Apps)}
		}
	}
	req.RequiredPullRequestReviews = reviews
	if r := base.Restrictions; r != nil {
		req.Restrictions = &gh.BranchRestrictionsRequest{Users: logins(r.Users), Teams: teamSlugs(r.Teams), Apps: appSlugs(r.Apps)}
	}
	return req
}

func logins(us []*gh.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.GetLogin())
	}
	return out
}

func teamSlugs(ts []*gh.Team) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.GetSlug())
	}
	return out
}

func appSlugs(as []*gh.App) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.GetSlug())
	}
	return out
}
