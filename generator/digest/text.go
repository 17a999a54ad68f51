package digest

import (
	"fmt"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
)

// Subject is the email's subject and the Slack message's headline: "Acme portfolio weekly
// digest, 23 Nov – 30 Nov 2026: 1 of 3 products in major outage".
func Subject(d *Digest) string {
	return fmt.Sprintf("%s %s, %s: %s", d.SiteTitle, d.kind(), d.Label, d.Status.Headline)
}

// kind is "weekly digest", or "digest" for a period that is not a week.
func (d *Digest) kind() string {
	if days := d.Period.End.Sub(d.Period.Start).Hours() / 24; days > 6.9 && days < 7.1 {
		return "weekly digest"
	}
	return "digest"
}

// MessageID is the digest mail's Message-ID (without <>): one per period, so a resend after a
// crash is the same mail to the recipients' clients.
func MessageID(d *Digest, domain string) string {
	return "digest-" + d.Period.ID + "@" + domain
}

// capped is the first n of a list and how many are left out.
func capped[T any](v []T, n int) ([]T, int) {
	if len(v) <= n {
		return v, 0
	}
	return v[:n], len(v) - n
}

// ProductsShown are the products a capped list shows: those that are not operational or moved,
// worst first, at most Top.
func (d *Digest) productsShown() ([]ProductLine, int) { return capped(d.Products, d.Top) }

// incidentLines is how many incidents the email and Slack list.
const incidentLines = 5

// Text is the digest as plain text: the email's text part and `portfolio digest --dry-run`.
func Text(d *Digest) string {
	var b strings.Builder
	loc, _ := time.LoadLocation(d.Timezone)
	if loc == nil {
		loc = time.UTC
	}
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("%s\n", Subject(d))
	w("%s to %s (%s), against the %d days before.\n", d.Period.Start.In(loc).Format("Mon 2 Jan 15:04"), d.Period.End.In(loc).Format("Mon 2 Jan 2006 15:04"), d.Timezone, d.DORA.WindowDays)
	w("Read it on the site: %s\n", d.URL)
	if d.Demo {
		w("Demo data: the figures come from 'portfolio demo'.\n")
	}
	for _, x := range d.Damaged {
		w("Data damaged, left out: %s\n", x)
	}

	w("\nSTATUS\n")
	w("%s (at the start: %s). %s\n", d.Status.Headline, statusWord(d.Status.PreviousStatus), d.Status.URL)

	w("\nBIGGEST CHANGES\n")
	if len(d.Changes) == 0 {
		w("Nothing moved enough to tell: no deployment changed a metric, and no figure moved by the impact rules' thresholds against the week before.\n")
	}
	for i, c := range d.Changes {
		mark := "better"
		if c.Worse {
			mark = "worse"
		}
		w("%d. %s (%s).\n   %s\n", i+1, c.Text, mark, c.URL)
	}

	shown, more := d.productsShown()
	w("\nPRODUCTS, worst first (uptime, p95 and error rate over the period; change against the one before)\n")
	for _, p := range shown {
		w("- %s: %s%s\n", p.Name, statusChange(p.Status, p.PreviousStatus), reasonText(p.StatusReason))
		w("  uptime %s%s · p95 %s%s · errors %s%s · error budget %s · %s, %s\n",
			uptimeText(p.Uptime), paren(delta(p.Uptime, p.PrevUptime, "%")),
			optText(p.P95, msText), paren(delta(p.P95, p.PrevP95, "ms")),
			optText(p.ErrorRate, pctText), paren(delta(p.ErrorRate, p.PrevErrorRate, "%")),
			optText(p.BudgetLeft, budgetText), plural(p.Deployments, "deployment", "deployments"), plural(p.Opened, "incident", "incidents"))
		w("  %s\n", p.URL)
	}
	if more > 0 {
		w("… and %d more: %s\n", more, d.URL+"#products")
	}

	w("\nDORA, %d days against the %d before (%s)\n", d.DORA.WindowDays, d.DORA.WindowDays, d.DORA.URL)
	for _, k := range d.DORA.Portfolio {
		w("- %-24s %-10s %-7s %s\n", k.Name, k.Text, levelWord(k.Level), trendWord(k.Trend))
	}
	pk, morek := capped(d.DORA.Products, d.Top)
	if len(pk) > 0 {
		w("By product, weakest first (deployments, lead time, change failure rate, time to restore):\n")
	}
	for _, p := range pk {
		var parts []string
		for _, k := range p.Keys {
			parts = append(parts, k.Text+levelLetter(k.Level)+trendArrow(k.Trend))
		}
		w("- %s: %s  %s\n", p.Name, strings.Join(parts, " · "), p.URL)
	}
	if morek > 0 {
		w("… and %d more: %s\n", morek, d.URL+"#dora")
	}

	inc := d.Incidents
	w("\nINCIDENTS\n")
	w("%s opened (%d the period before), %d resolved, median time to restore %s (was %s), %d open at the end.\n",
		plural(inc.Opened, "incident", "incidents"), inc.PrevOpened, inc.Resolved, inc.RestoreText, inc.PrevRestoreTxt, inc.OpenAtEnd)
	il, moreI := capped(inc.List, incidentLines)
	for _, x := range il {
		w("- %s #%d %s: %s\n  %s\n", x.Name, x.Number, oneLine(x.Title), incidentWhen(x, loc), x.URL)
	}
	if moreI > 0 {
		w("… and %d more: %s\n", moreI, d.URL+"#incidents")
	}

	a := d.Alerts
	w("\nALERTS (%s)\n", a.URL)
	if !a.Known {
		w("No alert state yet: 'portfolio alert' has not run.\n")
	} else {
		w("Fired: %s (%d the period before). Resolved: %s. Firing at the end: %d.\n",
			bySeverity(a.Fired), a.TotalPrev, bySeverity(a.Resolved), a.FiringAtEnd)
	}

	rank := func(title string, r []Ranked, anchor string) {
		w("\n%s\n", title)
		if len(r) == 0 {
			w("No data.\n")
		}
		list, more := capped(r, d.Top)
		for i, x := range list {
			prev := ""
			if x.Previous != nil {
				prev = " (was " + valueText(*x.Previous, x.Unit) + ")"
			}
			w("%d. %s: %s%s  %s\n", i+1, x.Name, x.Text, prev, x.URL)
		}
		if more > 0 {
			w("… and %d more: %s\n", more, d.URL+anchor)
		}
	}
	rank("SLOWEST (p95 response time over the period)", d.Slowest, "#slowest")
	rank("MOST ERRORS (5xx share of requests over the period)", d.ErrorProne, "#errors")
	rank("ERROR BUDGET LEFT (30 days to the period's end, least first)", d.Budget, "#budget")
	w("\nSent by %s: %s\n", d.SiteTitle, d.SiteURL)
	return b.String()
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func levelWord(l string) string {
	if l == "" {
		return "—"
	}
	return l
}

func levelLetter(l string) string {
	if l == "" {
		return ""
	}
	return " " + strings.ToUpper(l[:1])
}

func trendArrow(t string) string { return " " + strings.Fields(trendWord(t))[0] }

func bySeverity(m map[string]int) string {
	var parts []string
	for _, s := range alert.Severities {
		parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps an untrusted title to one line of at most 120 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

func incidentWhen(x IncidentLine, loc *time.Location) string {
	s := "opened " + x.Opened.In(loc).Format("Mon 2 Jan 15:04")
	if x.Resolved != nil {
		s += ", resolved after " + durText(x.Restore)
	} else {
		s += ", still open"
	}
	return s
}

// reasonText is the status's weightiest reason after a dash, or nothing.
func reasonText(r string) string {
	if r == "" {
		return ""
	}
	return " — " + oneLine(r)
}
