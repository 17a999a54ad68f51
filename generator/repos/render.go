package repos

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/portfolio-report/portfolio/generator/plandiff"
)

var symbol = map[Action]string{Create: "+", Update: "~"}

// WriteText writes the plan as a terraform-style diff: "+" create, "~" update with each changed
// field as old → new; "!" marks a repository part that could not be planned.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, c := range p.Changes {
		fields := make([]plandiff.Field, len(c.Fields))
		for i, f := range c.Fields {
			fields[i] = plandiff.Field{Name: f.Name, Text: f.text(c.Action)}
		}
		plandiff.WriteChange(&b, symbol[c.Action], c.title(), fields)
	}
	if len(p.Changes) > 0 {
		b.WriteString("\n")
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "  ! %s\n", pr.text())
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(&b, "Not managed: %s.\n", plandiff.Reasons(p.Skipped, func(s Skip) (string, string) { return s.Product, s.Reason }))
	}
	if n := p.Unmanaged.Labels; n > 0 {
		fmt.Fprintf(&b, "Left alone (not named in portfolio.json): %s.\n", plandiff.Plural(n, "label"))
	}
	scope := fmt.Sprintf("%s and %s in %s", plandiff.Plural(p.Managed.Labels, "label"), plandiff.Plural(p.Managed.Branches, "protected branch"),
		plandiff.Plural(len(p.Repositories), "repository"))
	switch {
	case p.InSync():
		fmt.Fprintf(&b, "No changes: GitHub matches portfolio.json (%s).\n", scope)
	case len(p.Changes) == 0:
		fmt.Fprintf(&b, "No changes to what could be read (%s); %s could not be planned (see \"!\" above).\n",
			scope, plandiff.Plural(len(p.Problems), "repository part"))
	default:
		fmt.Fprintf(&b, "Plan: %d to create, %d to update", p.Summary.Create, p.Summary.Update)
		if n := len(p.Problems); n > 0 {
			fmt.Fprintf(&b, "; %s could not be planned (see \"!\" above)", plandiff.Plural(n, "repository part"))
		}
		b.WriteString(".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as indented JSON: changes in apply order, everything else sorted,
// so the same state gives the same bytes.
func (p *Plan) WriteJSON(w io.Writer) error {
	return plandiff.WriteJSON(w, p)
}

func (c Change) title() string {
	where := "repository " + c.Repository
	if c.DefaultBranch {
		where = "the default branch of " + where
	}
	switch len(c.Products) {
	case 0:
	case 1:
		where += ", product " + c.Products[0]
	default:
		where += ", products " + strings.Join(c.Products, ", ")
	}
	name := c.Name
	if c.Kind == KindLabel {
		name = fmt.Sprintf("%q", c.Name)
	}
	return fmt.Sprintf("%s %s (%s)", c.Kind, name, where)
}

func (f Field) text(a Action) string {
	if a == Create {
		return plandiff.Value(f.New, true)
	}
	return plandiff.Value(f.Old, f.Old != nil) + " → " + plandiff.Value(f.New, true)
}

func (pr Problem) text() string {
	part := strings.ReplaceAll(string(pr.Part), "_", " ")
	if pr.Branch != "" {
		part += " (" + pr.Branch + ")"
	}
	return fmt.Sprintf("%s: %s: %s", pr.Repository, part, pr.Message)
}

// WriteStep writes one apply result line.
func WriteStep(w io.Writer, st Step) {
	c := st.Change
	verb := map[Action]string{Create: "created", Update: "updated"}[c.Action]
	var pe *PermissionError
	switch {
	case st.Err == nil:
		fmt.Fprintf(w, "  %s %s %s\n", symbol[c.Action], verb, c.title())
	case errors.As(st.Err, &pe):
		fmt.Fprintf(w, "  ! %s %s refused: %v\n", c.Action, c.title(), st.Err)
	default:
		fmt.Fprintf(w, "  ✗ %s %s failed: %v\n", c.Action, c.title(), st.Err)
	}
}

// WriteSummary writes what an apply did and what it did not do.
func (r Report) WriteSummary(w io.Writer) {
	switch {
	case r.Failed != nil:
		fmt.Fprintf(w, "Apply stopped at the first failure: %d applied, 1 failed, %d not applied", len(r.Applied), len(r.NotApplied))
		if n := len(r.Denied); n > 0 {
			fmt.Fprintf(w, ", %d refused for lack of permission", n)
		}
		fmt.Fprintln(w, ".")
	case len(r.Denied) > 0:
		fmt.Fprintf(w, "Apply finished without some permissions: %d applied, %d refused for lack of permission, %d not applied (same repository and part).\n",
			len(r.Applied), len(r.Denied), len(r.NotApplied))
	default:
		fmt.Fprintf(w, "Apply complete: %s applied.\n", plandiff.Plural(len(r.Applied), "change"))
		return
	}
	for _, c := range r.NotApplied {
		fmt.Fprintf(w, "  not applied: %s %s\n", c.Action, c.title())
	}
}
