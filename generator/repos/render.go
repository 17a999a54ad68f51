package repos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

var symbol = map[Action]string{Create: "+", Update: "~"}

// WriteText writes the plan as a terraform-style diff: "+" create, "~" update with each changed
// field as old → new; "!" marks a repository part that could not be planned.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s %s\n", symbol[c.Action], c.title())
		width := 0
		for _, f := range c.Fields {
			width = max(width, len(f.Name))
		}
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "      %-*s  %s\n", width+1, f.Name+":", f.text(c.Action))
		}
	}
	if len(p.Changes) > 0 {
		b.WriteString("\n")
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "  ! %s\n", pr.text())
	}
	if len(p.Skipped) > 0 {
		parts := make([]string, len(p.Skipped))
		for i, s := range p.Skipped {
			parts[i] = s.Product + " (" + s.Reason + ")"
		}
		fmt.Fprintf(&b, "Not managed: %s.\n", strings.Join(parts, ", "))
	}
	if n := p.Unmanaged.Labels; n > 0 {
		fmt.Fprintf(&b, "Left alone (not named in portfolio.json): %s.\n", plural(n, "label"))
	}
	scope := fmt.Sprintf("%s and %s in %s", plural(p.Managed.Labels, "label"), plural(p.Managed.Branches, "protected branch"),
		plural(len(p.Repositories), "repository"))
	switch {
	case p.InSync():
		fmt.Fprintf(&b, "No changes: GitHub matches portfolio.json (%s).\n", scope)
	case len(p.Changes) == 0:
		fmt.Fprintf(&b, "No changes to what could be read (%s); %s could not be planned (see \"!\" above).\n",
			scope, plural(len(p.Problems), "repository part"))
	default:
		fmt.Fprintf(&b, "Plan: %d to create, %d to update", p.Summary.Create, p.Summary.Update)
		if n := len(p.Problems); n > 0 {
			fmt.Fprintf(&b, "; %s could not be planned (see \"!\" above)", plural(n, "repository part"))
		}
		b.WriteString(".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as indented JSON: changes in apply order, everything else sorted,
// so the same state gives the same bytes.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
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
		return value(f.New, true)
	}
	return value(f.Old, f.Old != nil) + " → " + value(f.New, true)
}

func value(v any, present bool) string {
	if !present {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (pr Problem) text() string {
	part := strings.ReplaceAll(string(pr.Part), "_", " ")
	if pr.Branch != "" {
		part += " (" + pr.Branch + ")"
	}
	return fmt.Sprintf("%s: %s: %s", pr.Repository, part, pr.Message)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "ry"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	case strings.HasSuffix(noun, "ch"):
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
		fmt.Fprintf(w, "Apply complete: %s applied.\n", plural(len(r.Applied), "change"))
		return
	}
	for _, c := range r.NotApplied {
		fmt.Fprintf(w, "  not applied: %s %s\n", c.Action, c.title())
	}
}
