package repos

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Action is what a change does. Nothing is ever deleted.
type Action string

// Actions, in the words of the plan.
const (
	Create Action = "create"
	Update Action = "update"
)

// Kind is the kind of object a change touches.
type Kind string

// Kinds of managed objects.
const (
	KindLabel      Kind = "label"
	KindProtection Kind = "branch_protection"
)

// Field is one managed field a change sets; Old is absent on a create (and for a field that
// had no value, such as review settings of a branch that did not require pull requests).
type Field struct {
	Name string `json:"field"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new"`
}

// Change is one call apply will make.
type Change struct {
	Action     Action   `json:"action"`
	Kind       Kind     `json:"kind"`
	Repository string   `json:"repository"`
	Name       string   `json:"name"` // the label (as GitHub spells it) or the branch
	Products   []string `json:"products,omitempty"`
	// DefaultBranch says the branch is the repository's default branch (no deploy.branch).
	DefaultBranch bool    `json:"default_branch,omitempty"`
	Fields        []Field `json:"fields"`

	label      *Label
	protection *Protection
	base       *gh.Protection // the protection as read, for what the config does not name
}

// Problem is something that keeps part of a repository from being planned: it could not be
// read (403, not found, an error), or two products disagree about a branch. It is not retried
// by apply; plan and apply exit 1 while one remains.
type Problem struct {
	Repository string `json:"repository"`
	Part       Part   `json:"part"`
	Branch     string `json:"branch,omitempty"`
	Message    string `json:"message"`
	Permission bool   `json:"permission,omitempty"` // a 403: the token lacks a permission
}

// Unmanaged counts what was read and left alone.
type Unmanaged struct {
	Labels int `json:"labels"` // labels the config does not name
}

// Summary counts the changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
}

// Plan is the difference between the desired state and GitHub, as the calls that close it, in
// the order apply makes them: by repository, labels before branch protection.
type Plan struct {
	Changes      []Change  `json:"changes"`
	Problems     []Problem `json:"problems,omitempty"`
	Skipped      []Skip    `json:"skipped,omitempty"`
	Repositories []string  `json:"repositories"`
	Managed      Managed   `json:"managed"`
	Unmanaged    Unmanaged `json:"unmanaged"`
	Summary      Summary   `json:"summary"`
}

// Managed counts the objects the plan covers.
type Managed struct {
	Labels   int `json:"labels"`
	Branches int `json:"branches"`
}

// InSync reports whether GitHub matches the config: no changes and nothing left unread.
func (p *Plan) InSync() bool { return len(p.Changes) == 0 && len(p.Problems) == 0 }

// Compute diffs the desired state against what was read. It is pure.
func Compute(d Desired, r Remote) *Plan {
	p := &Plan{Changes: []Change{}, Skipped: d.Skipped, Repositories: []string{}}
	for _, want := range d.Repos {
		p.Repositories = append(p.Repositories, want.Name)
		rr := r.Repos[want.Name]
		if rr == nil {
			rr = &RemoteRepo{Name: want.Name, LabelsErr: errors.New("not read")}
		}
		p.planLabels(want, rr)
		p.planProtection(want, rr)
	}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Summary.Create++
		case Update:
			p.Summary.Update++
		}
	}
	return p
}

func (p *Plan) problem(repo string, part Part, branch string, err error) {
	var pe *PermissionError
	p.Problems = append(p.Problems, Problem{Repository: repo, Part: part, Branch: branch, Message: err.Error(), Permission: errors.As(err, &pe)})
}

func (p *Plan) planLabels(want Repo, rr *RemoteRepo) {
	if rr.LabelsErr != nil {
		p.problem(want.Name, PartLabels, "", rr.LabelsErr)
		return
	}
	// Index the few wanted names rather than the repository's labels, which may be hundreds.
	index := make(map[string]int, len(want.Labels))
	for i, l := range want.Labels {
		index[strings.ToLower(l.Name)] = i
	}
	have := make([]*RemoteLabel, len(want.Labels))
	for i := range rr.Labels {
		if j, ok := index[strings.ToLower(rr.Labels[i].Name)]; ok && have[j] == nil {
			have[j] = &rr.Labels[i]
		}
	}
	p.Managed.Labels += len(want.Labels)
	p.Unmanaged.Labels += len(rr.Labels)
	for i := range want.Labels {
		w := &want.Labels[i]
		h := have[i]
		if h == nil {
			p.Changes = append(p.Changes, Change{Action: Create, Kind: KindLabel, Repository: want.Name, Name: w.Name,
				Fields: []Field{{Name: "color", New: w.Color}, {Name: "description", New: w.Description}}, label: w})
			continue
		}
		p.Unmanaged.Labels--
		var fields []Field
		if !strings.EqualFold(h.Color, w.Color) {
			fields = append(fields, Field{Name: "color", Old: h.Color, New: w.Color})
		}
		if h.Description != w.Description {
			fields = append(fields, Field{Name: "description", Old: h.Description, New: w.Description})
		}
		if len(fields) > 0 {
			// The case of the name is left as GitHub has it: the label is addressed by that name.
			p.Changes = append(p.Changes, Change{Action: Update, Kind: KindLabel, Repository: want.Name, Name: h.Name, Fields: fields, label: w})
		}
	}
}

func (p *Plan) planProtection(want Repo, rr *RemoteRepo) {
	// Branches by their real name: "" (the default branch) and an explicit name may be one.
	type wanted struct {
		Branch
		real      string
		isDefault bool
	}
	var list []wanted
	for _, br := range want.Branches {
		if err := rr.ProtectionErr[br.Name]; br.Name == "" && err != nil {
			p.problem(want.Name, PartProtection, branchName(""), err)
			continue
		}
		real := rr.Branches[br.Name]
		if real == "" {
			real = br.Name
		}
		if i := slices.IndexFunc(list, func(x wanted) bool { return x.real == real }); i >= 0 {
			if !list[i].Protection.equal(br.Protection) {
				p.problem(want.Name, PartProtection, real, fmt.Errorf("products %s and %s deploy from branch %s but want different protection; left alone",
					strings.Join(list[i].Products, ", "), strings.Join(br.Products, ", "), real))
				list = slices.Delete(list, i, i+1)
				continue
			}
			list[i].Products = append(list[i].Products, br.Products...)
			list[i].isDefault = list[i].isDefault || real == rr.DefaultBranch
			continue
		}
		list = append(list, wanted{Branch: br, real: real, isDefault: real == rr.DefaultBranch})
	}
	for _, w := range list {
		if err := rr.ProtectionErr[w.real]; err != nil {
			p.problem(want.Name, PartProtection, w.real, err)
			continue
		}
		p.Managed.Branches++
		base := rr.Protection[w.real]
		prot := w.Protection
		products := slices.Clone(w.Products)
		slices.Sort(products)
		if base == nil {
			p.Changes = append(p.Changes, Change{Action: Create, Kind: KindProtection, Repository: want.Name, Name: w.real,
				Products: products, DefaultBranch: w.isDefault, Fields: protectionFields(nil, prot), protection: &prot})
			continue
		}
		have := readProtection(base)
		if fields := protectionFields(&have, prot); len(fields) > 0 {
			p.Changes = append(p.Changes, Change{Action: Update, Kind: KindProtection, Repository: want.Name, Name: w.real,
				Products: products, DefaultBranch: w.isDefault, Fields: fields, protection: &prot, base: base})
		}
	}
}

// remoteProtection is a protection as read, by meaning.
type remoteProtection struct {
	Protection
	pullRequests bool // pull requests are required
}

// readProtection reads GitHub's nested shape into the managed fields. Status checks come from
// checks when GitHub lists them, else from the deprecated contexts; a missing object means
// the setting is off.
func readProtection(p *gh.Protection) remoteProtection {
	var out remoteProtection
	out.RequiredStatusChecks = []string{}
	if r := p.RequiredPullRequestReviews; r != nil {
		out.pullRequests = true
		out.RequiredApprovingReviewCount = r.RequiredApprovingReviewCount
		out.DismissStaleReviews = r.DismissStaleReviews
		out.RequireCodeOwnerReviews = r.RequireCodeOwnerReviews
	}
	if sc := p.RequiredStatusChecks; sc != nil {
		out.Strict = sc.Strict
		var names []string
		if sc.Checks != nil && len(*sc.Checks) > 0 {
			for _, c := range *sc.Checks {
				names = append(names, c.Context)
			}
		} else if sc.Contexts != nil {
			names = *sc.Contexts
		}
		out.RequiredStatusChecks = sortedUnique(names)
	}
	out.EnforceAdmins = p.EnforceAdmins != nil && p.EnforceAdmins.Enabled
	out.RequiredLinearHistory = p.RequireLinearHistory != nil && p.RequireLinearHistory.Enabled
	out.AllowForcePushes = p.AllowForcePushes != nil && p.AllowForcePushes.Enabled
	out.AllowDeletions = p.AllowDeletions != nil && p.AllowDeletions.Enabled
	return out
}

// protectionFields lists the managed fields that differ (all of them when have is nil), in the
// order of portfolio.json.
func protectionFields(have *remoteProtection, want Protection) []Field {
	type f struct {
		name      string
		old, new  any
		oldAbsent bool
	}
	var h remoteProtection
	if have != nil {
		h = *have
	}
	list := []f{
		{"required_approving_review_count", h.RequiredApprovingReviewCount, want.RequiredApprovingReviewCount, !h.pullRequests},
		{"dismiss_stale_reviews", h.DismissStaleReviews, want.DismissStaleReviews, !h.pullRequests},
		{"require_code_owner_reviews", h.RequireCodeOwnerReviews, want.RequireCodeOwnerReviews, !h.pullRequests},
		{"required_status_checks", h.RequiredStatusChecks, want.RequiredStatusChecks, false},
		{"strict", h.Strict, want.Strict, false},
		{"enforce_admins", h.EnforceAdmins, want.EnforceAdmins, false},
		{"required_linear_history", h.RequiredLinearHistory, want.RequiredLinearHistory, false},
		{"allow_force_pushes", h.AllowForcePushes, want.AllowForcePushes, false},
		{"allow_deletions", h.AllowDeletions, want.AllowDeletions, false},
	}
	var out []Field
	for _, x := range list {
		if have == nil {
			out = append(out, Field{Name: x.name, New: x.new})
			continue
		}
		if !x.oldAbsent && equalValue(x.old, x.new) {
			continue
		}
		fl := Field{Name: x.name, New: x.new}
		if !x.oldAbsent {
			fl.Old = x.old
		}
		out = append(out, fl)
	}
	return out
}

func equalValue(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok || bok {
		return slices.Equal(as, bs)
	}
	return a == b
}
