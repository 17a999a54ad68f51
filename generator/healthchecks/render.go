package healthchecks

import (
	"fmt"
	"io"
	"strings"

	"github.com/portfolio-report/portfolio/generator/plandiff"
)

var symbol = map[Action]string{Create: "+", Update: "~", Delete: "-"}

// WriteText writes the plan as a terraform-style diff: "+" create, "~" update with each
// changed field as old → new, "-" delete.
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
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "  ! %s %s (zone %s, id %s) %s\n", c.Kind, c.Name, c.Zone, c.ID, c.Reason)
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(&b, "No health check for: %s.\n", plandiff.Reasons(p.Skipped, func(s Skip) (string, string) { return s.Product, s.Reason }))
	}
	for _, wn := range p.Warnings {
		fmt.Fprintf(&b, "Warning: %s\n", wn)
	}
	if n := p.Unmanaged; n != (Unmanaged{}) {
		fmt.Fprintf(&b, "Left alone (not managed by portfolio): %s, %s, %s.\n",
			plandiff.Plural(n.Healthchecks, "health check"), plandiff.Plural(n.Policies, "notification policy"), plandiff.Plural(n.Webhooks, "webhook destination"))
	}
	if p.InSync() {
		fmt.Fprintf(&b, "No changes: Cloudflare matches portfolio.json (%s in %s).\n",
			plandiff.Plural(len(p.checkIDs), "managed health check"), plandiff.Plural(len(p.Zones), "zone"))
	} else {
		fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to delete", p.Summary.Create, p.Summary.Update, p.Summary.Delete)
		if len(p.Conflicts) > 0 {
			fmt.Fprintf(&b, "; %s to resolve by hand", plandiff.Plural(len(p.Conflicts), "conflict"))
		}
		b.WriteString(".\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the plan as indented JSON. Changes are in apply order, everything else is
// sorted, so the same state gives the same bytes.
func (p *Plan) WriteJSON(w io.Writer) error {
	return plandiff.WriteJSON(w, p)
}

func (c Change) title() string {
	s := fmt.Sprintf("%s %s", c.Kind, c.Name)
	var where []string
	if c.Product != "" {
		where = append(where, "product "+c.Product)
	}
	if c.Zone != "" && c.Kind == KindHealthcheck {
		where = append(where, "zone "+c.Zone)
	}
	if c.ID != "" {
		where = append(where, "id "+c.ID)
	}
	if len(where) > 0 {
		s += " (" + strings.Join(where, ", ") + ")"
	}
	return s
}

func (f Field) text(a Action) string {
	if a == Create {
		return f.value(f.New, true)
	}
	return f.value(f.Old, f.Old != nil) + " → " + f.value(f.New, f.New != nil || f.KnownAfterApply)
}

func (f Field) value(v any, present bool) string {
	switch {
	case f.Secret:
		if s, ok := v.(string); ok && strings.HasPrefix(s, "$") {
			return "(hidden, from " + s + ")"
		}
		return "(hidden)"
	case f.KnownAfterApply && v == nil && present:
		return "(known after apply)"
	}
	return plandiff.Value(v, present)
}

// WriteStep writes one apply result line.
func WriteStep(w io.Writer, st Step) {
	c := st.Change
	verb := map[Action]string{Create: "created", Update: "updated", Delete: "deleted"}[c.Action]
	if st.Err != nil {
		fmt.Fprintf(w, "  ✗ %s %s %s failed: %v\n", c.Action, c.Kind, c.Name, st.Err)
		return
	}
	s := fmt.Sprintf("%s %s", c.Kind, c.Name)
	if st.ID != "" {
		s += " (id " + st.ID + ")"
	}
	fmt.Fprintf(w, "  %s %s %s\n", symbol[c.Action], verb, s)
}

// WriteSummary writes what an apply did and, after a failure, what it did not do.
func (r Report) WriteSummary(w io.Writer) {
	if r.Failed == nil {
		fmt.Fprintf(w, "Apply complete: %s applied.\n", plandiff.Plural(len(r.Applied), "change"))
		return
	}
	fmt.Fprintf(w, "Apply stopped at the first failure: %d applied, 1 failed, %d not applied.\n", len(r.Applied), len(r.NotApplied))
	for _, c := range r.NotApplied {
		fmt.Fprintf(w, "  not applied: %s %s\n", c.Action, c.title())
	}
}
