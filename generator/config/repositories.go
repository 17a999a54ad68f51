package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RepositorySettings is what `portfolio repos` manages in a GitHub repository: the top-level
// repositories block (every repository) and products[].repository_settings (the product's
// repository, overriding the top-level block). See docs/repos.md.
type RepositorySettings struct {
	// Labels are created, or brought to this colour and description, in the repository. A
	// product's labels are merged over the top-level ones by name, case-insensitively.
	Labels []Label `json:"labels,omitempty"`
	// BranchProtection is the protection of the product's deploy branch. A product's fields
	// override the top-level ones one by one; unset fields take DefaultBranchProtection's.
	BranchProtection *BranchProtection `json:"branch_protection,omitempty"`
	// BranchUnmanaged is set when a product's branch_protection is null: its branch is left
	// alone. Not a JSON field of its own: Parse reads it from the document.
	BranchUnmanaged bool `json:"-"`
}

// Label is one managed issue label.
type Label struct {
	Name  string `json:"name"`  // matched case-insensitively, as GitHub does
	Color string `json:"color"` // six hex digits without '#'
	// Description is nil when unset: a built-in label keeps its default description, any other
	// gets none.
	Description *string `json:"description,omitempty"`
}

// BranchProtection is the managed part of a branch's protection. A nil field is unset.
type BranchProtection struct {
	RequiredApprovingReviewCount *int     `json:"required_approving_review_count,omitempty"`
	DismissStaleReviews          *bool    `json:"dismiss_stale_reviews,omitempty"`
	RequireCodeOwnerReviews      *bool    `json:"require_code_owner_reviews,omitempty"`
	RequiredStatusChecks         []string `json:"required_status_checks,omitempty"` // nil: unset; [] none
	Strict                       *bool    `json:"strict,omitempty"`
	EnforceAdmins                *bool    `json:"enforce_admins,omitempty"`
	RequiredLinearHistory        *bool    `json:"required_linear_history,omitempty"`
	AllowForcePushes             *bool    `json:"allow_force_pushes,omitempty"`
	AllowDeletions               *bool    `json:"allow_deletions,omitempty"`
}

// DefaultBranchProtection is the protection an unset field takes (portfolio.schema.json's
// defaults): pull requests with one approving review, nothing else required, no force pushes
// or deletions.
func DefaultBranchProtection() BranchProtection {
	one, no := 1, false
	return BranchProtection{
		RequiredApprovingReviewCount: &one,
		DismissStaleReviews:          &no,
		RequireCodeOwnerReviews:      &no,
		RequiredStatusChecks:         []string{},
		Strict:                       &no,
		EnforceAdmins:                &no,
		RequiredLinearHistory:        &no,
		AllowForcePushes:             &no,
		AllowDeletions:               &no,
	}
}

// over returns b with every field that o sets replaced by o's.
func (b BranchProtection) over(o *BranchProtection) BranchProtection {
	if o == nil {
		return b
	}
	pick := func(dst **bool, src *bool) {
		if src != nil {
			v := *src
			*dst = &v
		}
	}
	if o.RequiredApprovingReviewCount != nil {
		v := *o.RequiredApprovingReviewCount
		b.RequiredApprovingReviewCount = &v
	}
	if o.RequiredStatusChecks != nil {
		b.RequiredStatusChecks = append([]string{}, o.RequiredStatusChecks...)
	}
	pick(&b.DismissStaleReviews, o.DismissStaleReviews)
	pick(&b.RequireCodeOwnerReviews, o.RequireCodeOwnerReviews)
	pick(&b.Strict, o.Strict)
	pick(&b.EnforceAdmins, o.EnforceAdmins)
	pick(&b.RequiredLinearHistory, o.RequiredLinearHistory)
	pick(&b.AllowForcePushes, o.AllowForcePushes)
	pick(&b.AllowDeletions, o.AllowDeletions)
	return b
}

// RepositoryLabels returns the labels configured for the product's repository: the top-level
// repositories.labels with the product's repository_settings.labels merged over them by name
// (case-insensitively; the product's entry wins), in configuration order.
func (c *Config) RepositoryLabels(p Product) []Label {
	var out []Label
	index := map[string]int{}
	add := func(ls []Label) {
		for _, l := range ls {
			k := strings.ToLower(l.Name)
			if i, ok := index[k]; ok {
				out[i] = l
				continue
			}
			index[k] = len(out)
			out = append(out, l)
		}
	}
	if c.Repositories != nil {
		add(c.Repositories.Labels)
	}
	if p.RepositorySettings != nil {
		add(p.RepositorySettings.Labels)
	}
	return out
}

// BranchProtectionFor returns the protection wanted on the product's deploy branch, every
// field set: the defaults, then the top-level repositories.branch_protection, then the
// product's repository_settings.branch_protection. It is nil when neither block sets
// branch_protection, or the product's is null: that branch is not managed.
func (c *Config) BranchProtectionFor(p Product) *BranchProtection {
	var top, mine *BranchProtection
	if c.Repositories != nil {
		top = c.Repositories.BranchProtection
	}
	if s := p.RepositorySettings; s != nil {
		if s.BranchUnmanaged {
			return nil
		}
		mine = s.BranchProtection
	}
	if top == nil && mine == nil {
		return nil
	}
	b := DefaultBranchProtection().over(top).over(mine)
	return &b
}

// markUnmanagedBranches sets BranchUnmanaged on the products whose repository_settings has
// "branch_protection": null, which encoding/json cannot tell from a missing member.
func (c *Config) markUnmanagedBranches(doc any) {
	top, _ := doc.(map[string]any)
	products, _ := top["products"].([]any)
	for i, p := range products {
		if i >= len(c.Products) {
			return
		}
		pm, _ := p.(map[string]any)
		rs, _ := pm["repository_settings"].(map[string]any)
		if v, ok := rs["branch_protection"]; ok && v == nil && c.Products[i].RepositorySettings != nil {
			c.Products[i].RepositorySettings.BranchUnmanaged = true
		}
	}
}

// GitHub's limits on labels, which the schema does not spell out (its keywords have no
// maxLength): a name of at most 50 characters, a description of at most 100.
const (
	maxLabelName        = 50
	maxLabelDescription = 100
)

// checkRepositories checks what the schema cannot: label names unique case-insensitively (as
// GitHub compares them) within a list, and GitHub's length limits.
func (c *Config) checkRepositories(add func(string, ...string)) {
	check := func(ls []Label, path ...string) {
		first := map[string]int{}
		for i, l := range ls {
			at := func(field string) []string { return slices.Concat(path, []string{strconv.Itoa(i), field}) }
			k := strings.ToLower(l.Name)
			if j, dup := first[k]; dup && l.Name != "" {
				add(fmt.Sprintf("want each label name once (GitHub compares names case-insensitively), got %q again (as [%d])", l.Name, j), at("name")...)
			} else {
				first[k] = i
			}
			if n := utf8.RuneCountInString(l.Name); n > maxLabelName {
				add(fmt.Sprintf("want a label name of at most %d characters (GitHub's limit), got %d", maxLabelName, n), at("name")...)
			}
			if l.Description != nil {
				if n := utf8.RuneCountInString(*l.Description); n > maxLabelDescription {
					add(fmt.Sprintf("want a description of at most %d characters (GitHub's limit), got %d", maxLabelDescription, n), at("description")...)
				}
			}
		}
	}
	if c.Repositories != nil {
		check(c.Repositories.Labels, "repositories", "labels")
	}
	for i, p := range c.Products {
		if p.RepositorySettings != nil {
			check(p.RepositorySettings.Labels, "products", strconv.Itoa(i), "repository_settings", "labels")
		}
	}
}
