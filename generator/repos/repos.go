// Package repos keeps the GitHub repositories of the portfolio in step with portfolio.json,
// the way Terraform would: DesiredState builds the wanted labels and branch protections from
// the config, Client reads what GitHub has, Compute diffs the two into a Plan (pure), and Apply
// carries a plan out one call at a time. See docs/repos.md.
//
// Labels are matched by name case-insensitively, as GitHub does; labels the config does not
// name are never touched and no label is ever deleted. Branch protection is compared on
// meaning (GitHub reads it nested and writes it flat), and a write keeps every setting the
// config does not name as it was read.
package repos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Label is a wanted label.
type Label struct {
	Name        string `json:"name"`
	Color       string `json:"color"` // six lowercase hex digits
	Description string `json:"description"`
}

// Built-in labels: the ones the report reads or the alert channel writes, with the colours and
// descriptions they get unless the config names them (docs/repos.md lists them).
var (
	incidentLabel = Label{Name: "incident", Color: "d73a4a", Description: "An incident: opened when it starts, closed when service is restored"}
	alertLabels   = []Label{
		incidentLabel,
		{Name: "critical", Color: "b60205", Description: "Alert severity: critical"},
		{Name: "warning", Color: "fbca04", Description: "Alert severity: warning"},
		{Name: "info", Color: "0075ca", Description: "Alert severity: info"},
		{Name: "acknowledged", Color: "0e8a16", Description: "Someone is on it: stops the alert's repeat notifications"},
	}
	channelLabel = Label{Color: "ededed", Description: "Put on every alert issue by portfolio"}
)

// builtinLabels returns the built-in labels of a product repository (its incident label) and
// of the alert repository (incident, the severities, acknowledged and the channel's labels).
func builtinLabels(cfg *config.Config, p *config.Product) []Label {
	if p != nil {
		l := incidentLabel
		l.Name = cmp.Or(p.Incidents.Label, incidentLabel.Name)
		return []Label{l}
	}
	out := slices.Clone(alertLabels)
	if ch := cfg.NotificationChannels.GitHubIssues; ch != nil {
		for _, name := range ch.Labels {
			l := channelLabel
			l.Name = name
			out = append(out, l)
		}
	}
	return out
}

// Protection is the wanted protection of a branch: the fields portfolio.json names.
// Pull requests are always required (RequiredApprovingReviewCount may be 0).
type Protection struct {
	RequiredApprovingReviewCount int      `json:"required_approving_review_count"`
	DismissStaleReviews          bool     `json:"dismiss_stale_reviews"`
	RequireCodeOwnerReviews      bool     `json:"require_code_owner_reviews"`
	RequiredStatusChecks         []string `json:"required_status_checks"` // sorted, unique
	Strict                       bool     `json:"strict"`
	EnforceAdmins                bool     `json:"enforce_admins"`
	RequiredLinearHistory        bool     `json:"required_linear_history"`
	AllowForcePushes             bool     `json:"allow_force_pushes"`
	AllowDeletions               bool     `json:"allow_deletions"`
}

func protectionFrom(b *config.BranchProtection) Protection {
	deref := func(v *bool) bool { return v != nil && *v }
	p := Protection{
		DismissStaleReviews:     deref(b.DismissStaleReviews),
		RequireCodeOwnerReviews: deref(b.RequireCodeOwnerReviews),
		RequiredStatusChecks:    sortedUnique(b.RequiredStatusChecks),
		Strict:                  deref(b.Strict),
		EnforceAdmins:           deref(b.EnforceAdmins),
		RequiredLinearHistory:   deref(b.RequiredLinearHistory),
		AllowForcePushes:        deref(b.AllowForcePushes),
		AllowDeletions:          deref(b.AllowDeletions),
	}
	if b.RequiredApprovingReviewCount != nil {
		p.RequiredApprovingReviewCount = *b.RequiredApprovingReviewCount
	}
	return p
}

func (p Protection) equal(o Protection) bool {
	return p.RequiredApprovingReviewCount == o.RequiredApprovingReviewCount &&
		p.DismissStaleReviews == o.DismissStaleReviews && p.RequireCodeOwnerReviews == o.RequireCodeOwnerReviews &&
		slices.Equal(p.RequiredStatusChecks, o.RequiredStatusChecks) && p.Strict == o.Strict &&
		p.EnforceAdmins == o.EnforceAdmins && p.RequiredLinearHistory == o.RequiredLinearHistory &&
		p.AllowForcePushes == o.AllowForcePushes && p.AllowDeletions == o.AllowDeletions
}

// Branch is the protection wanted on one branch of a repository.
type Branch struct {
	// Name is the branch, or "" for the repository's default branch (known once read).
	Name       string
	Products   []string // the products deploying from it, sorted
	Protection Protection
}

// Repo is the wanted state of one repository.
type Repo struct {
	Name     string   // owner/name
	Products []string // products whose repository it is, sorted
	Alerts   bool     // the github_issues channel opens its issues here
	Labels   []Label  // sorted by name, case-insensitively
	Branches []Branch // sorted by name ("" first)
}

// Skip is a product that gets nothing, or no branch protection, and why.
type Skip struct {
	Product string `json:"product"`
	Reason  string `json:"reason"`
}

// Desired is the whole wanted state.
type Desired struct {
	Repos []Repo // sorted by name
	// Skipped says, per product, what is not managed and why (sorted by product).
	Skipped []Skip
}

// labelSource ranks where a label's definition comes from: a higher rank wins; two different
// definitions of the same rank for one repository are a conflict (rankProduct), or the first
// one wins (rankBuiltin: the same defaults reached twice).
type labelSource int

const (
	rankBuiltin labelSource = iota
	rankTop
	rankProduct
)

type wantLabel struct {
	Label
	rank  labelSource
	owner string // the product that configured it (rankProduct)
}

type repoBuilder struct {
	repo     Repo
	labels   map[string]*wantLabel // by lowercase name
	builtin  map[string]Label      // the built-in definitions, for an unset description
	branches map[string]*Branch
}

// DesiredState builds the wanted state from the config. It fails, naming the products, when
// two products sharing a repository want different things of it.
func DesiredState(cfg *config.Config) (Desired, error) {
	var d Desired
	var errs []string
	byName := map[string]*repoBuilder{}
	get := func(name string) *repoBuilder {
		key := strings.ToLower(name) // GitHub owner and repository names are case-insensitive
		if b := byName[key]; b != nil {
			return b
		}
		b := &repoBuilder{repo: Repo{Name: name}, labels: map[string]*wantLabel{}, builtin: map[string]Label{}, branches: map[string]*Branch{}}
		byName[key] = b
		return b
	}

	for i := range cfg.Products {
		p := &cfg.Products[i]
		if p.Repository == "" {
			d.Skipped = append(d.Skipped, Skip{Product: p.ID, Reason: "no repository"})
			continue
		}
		b := get(p.Repository)
		b.repo.Products = append(b.repo.Products, p.ID)
		for _, l := range builtinLabels(cfg, p) {
			b.addBuiltin(l)
		}
		if cfg.Repositories != nil {
			for _, l := range cfg.Repositories.Labels {
				b.addConfigured(l, rankTop, "")
			}
		}
		if p.RepositorySettings != nil {
			for _, l := range p.RepositorySettings.Labels {
				if err := b.addConfigured(l, rankProduct, p.ID); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
		bp := cfg.BranchProtectionFor(*p)
		switch {
		case bp == nil:
			if s := p.RepositorySettings; s != nil && s.BranchUnmanaged {
				d.Skipped = append(d.Skipped, Skip{Product: p.ID, Reason: "branch protection left alone: repository_settings.branch_protection is null"})
			}
		case p.Deploy.Branch == "" && p.Deploy.Source == config.DeploySourceDeployments:
			d.Skipped = append(d.Skipped, Skip{Product: p.ID, Reason: "no branch to protect: deploy.source is deployments, which names no branch; set deploy.branch to protect one"})
		default:
			if err := b.addBranch(p.Deploy.Branch, p.ID, protectionFrom(bp)); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if ch := cfg.NotificationChannels.GitHubIssues; ch != nil && ch.Repository != "" {
		b := get(ch.Repository)
		b.repo.Alerts = true
		for _, l := range builtinLabels(cfg, nil) {
			b.addBuiltin(l)
		}
		if cfg.Repositories != nil {
			for _, l := range cfg.Repositories.Labels {
				b.addConfigured(l, rankTop, "")
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return Desired{}, fmt.Errorf("repos: %s", strings.Join(slices.Compact(errs), "; "))
	}
	for _, b := range byName {
		d.Repos = append(d.Repos, b.build())
	}
	slices.SortFunc(d.Repos, func(a, b Repo) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	slices.SortStableFunc(d.Skipped, func(a, b Skip) int { return strings.Compare(a.Product, b.Product) })
	return d, nil
}

func (b *repoBuilder) addBuiltin(l Label) {
	k := strings.ToLower(l.Name)
	if _, ok := b.builtin[k]; !ok {
		b.builtin[k] = l
	}
	if cur := b.labels[k]; cur == nil {
		b.labels[k] = &wantLabel{Label: l, rank: rankBuiltin}
	}
}

// addConfigured adds a label the config names. Its unset description is the built-in one of
// the same name, if any (resolved in build, since built-ins may come later).
func (b *repoBuilder) addConfigured(l config.Label, rank labelSource, owner string) error {
	k := strings.ToLower(l.Name)
	w := &wantLabel{Label: Label{Name: l.Name, Color: strings.ToLower(l.Color)}, rank: rank, owner: owner}
	if l.Description != nil {
		w.Description = *l.Description
	} else {
		w.Description = "\x00" // unset: filled in by build
	}
	cur := b.labels[k]
	switch {
	case cur == nil || cur.rank < rank:
		b.labels[k] = w
	case cur.rank == rankProduct && rank == rankProduct && (cur.Label != w.Label):
		return fmt.Errorf("products %s and %s share %s but configure its label %q differently", cur.owner, owner, b.repo.Name, l.Name)
	}
	return nil
}

func (b *repoBuilder) addBranch(name, product string, p Protection) error {
	br := b.branches[name]
	if br == nil {
		b.branches[name] = &Branch{Name: name, Products: []string{product}, Protection: p}
		return nil
	}
	if !br.Protection.equal(p) {
		return fmt.Errorf("products %s and %s deploy from the same branch of %s (%s) but want different protection", br.Products[0], product, b.repo.Name, branchName(name))
	}
	br.Products = append(br.Products, product)
	return nil
}

func (b *repoBuilder) build() Repo {
	r := b.repo
	for k, l := range b.labels {
		if l.Description == "\x00" {
			l.Description = b.builtin[k].Description
		}
		r.Labels = append(r.Labels, l.Label)
	}
	slices.SortFunc(r.Labels, func(x, y Label) int {
		return cmp.Or(strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), strings.Compare(x.Name, y.Name))
	})
	for _, br := range b.branches {
		slices.Sort(br.Products)
		r.Branches = append(r.Branches, *br)
	}
	slices.SortFunc(r.Branches, func(x, y Branch) int { return strings.Compare(x.Name, y.Name) })
	slices.Sort(r.Products)
	return r
}

// branchName names a wanted branch for messages.
func branchName(name string) string {
	if name == "" {
		return "the default branch"
	}
	return "branch " + name
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
