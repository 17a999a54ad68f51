package digest

import (
	"fmt"
	"strings"

	goslack "github.com/slack-go/slack"
)

// Slack's Block Kit limits (docs/digest.md cites them): at most 50 blocks a message, 3,000
// characters in a section's text, 150 in a header, 10 fields of 2,000 in a section. Slack also
// refuses a message whose blocks hold more than about 13,000 characters in all
// ("msg_blocks_too_long", below the documented 40,000 for text), so the digest keeps its blocks
// under SlackMaxTotal.
const (
	SlackMaxBlocks      = 50
	SlackMaxSectionText = 3000
	SlackMaxHeader      = 150
	SlackMaxField       = 2000
	SlackMaxTotal       = 12000
)

// SlackMessage is the digest as an incoming-webhook message: a header, the status, the biggest
// changes, the worst products, the DORA keys, incidents and alerts, and the rankings, each list
// capped at Top with a link to the rest on the site. Its size does not grow with the number of
// products past Top.
func SlackMessage(d *Digest) goslack.WebhookMessage {
	var blocks []goslack.Block
	section := func(text string) {
		blocks = append(blocks, goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType, cut(text, SlackMaxSectionText), false, false), nil, nil))
	}
	blocks = append(blocks, goslack.NewHeaderBlock(goslack.NewTextBlockObject(goslack.PlainTextType,
		cut(fmt.Sprintf("%s %s, %s", d.SiteTitle, d.kind(), d.Label), SlackMaxHeader), true, false)))
	intro := fmt.Sprintf("*%s* (at the start: %s). %s", esc(d.Status.Headline), statusWord(d.Status.PreviousStatus), slackLink(d.URL, "Read the digest on the site"))
	if d.Demo {
		intro += "\n_Demo data: the figures come from `portfolio demo`._"
	}
	for _, x := range d.Damaged {
		intro += "\n:warning: Data damaged, left out: " + esc(x)
	}
	section(intro)
	blocks = append(blocks, goslack.NewDividerBlock())

	var lines []string
	for _, c := range d.Changes {
		mark := ":small_red_triangle:"
		if !c.Worse {
			mark = ":small_red_triangle_down:"
		}
		lines = append(lines, mark+" "+slackLink(c.URL, esc(c.Text)))
	}
	if len(lines) == 0 {
		lines = append(lines, "Nothing moved enough to tell.")
	}
	section(list("*Biggest changes*", lines, 0, ""))

	shown, more := d.productsShown()
	lines = lines[:0]
	for _, p := range shown {
		lines = append(lines, fmt.Sprintf("• %s: %s · uptime %s%s · p95 %s · errors %s · budget %s",
			slackLink(p.URL, esc(p.Name)), statusChange(p.Status, p.PreviousStatus), uptimeText(p.Uptime), paren(delta(p.Uptime, p.PrevUptime, "%")),
			optText(p.P95, msText), optText(p.ErrorRate, pctText), optText(p.BudgetLeft, budgetText)))
	}
	section(list("*Products, worst first*", lines, more, d.URL+"#products"))

	var fields []*goslack.TextBlockObject
	for _, k := range d.DORA.Portfolio {
		fields = append(fields, goslack.NewTextBlockObject(goslack.MarkdownType,
			cut(fmt.Sprintf("*%s*\n%s · %s · %s", k.Name, k.Text, levelWord(k.Level), trendWord(k.Trend)), SlackMaxField), false, false))
	}
	blocks = append(blocks, goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType,
		fmt.Sprintf("*%s*, %d days against the %d before", slackLink(d.DORA.URL, "DORA metrics"), d.DORA.WindowDays, d.DORA.WindowDays), false, false), fields, nil))
	pk, moreK := capped(d.DORA.Products, d.Top)
	lines = lines[:0]
	for _, p := range pk {
		var parts []string
		for _, k := range p.Keys {
			parts = append(parts, k.Text+levelLetter(k.Level)+trendArrow(k.Trend))
		}
		lines = append(lines, "• "+slackLink(p.URL, esc(p.Name))+": "+strings.Join(parts, " · "))
	}
	if len(lines) > 0 {
		section(list("*DORA by product, weakest first* (deployments · lead time · change failure rate · time to restore)", lines, moreK, d.URL+"#dora"))
	}

	inc := d.Incidents
	lines = lines[:0]
	il, moreI := capped(inc.List, incidentLines)
	for _, x := range il {
		lines = append(lines, "• "+slackLink(x.URL, esc(fmt.Sprintf("%s #%d %s", x.Name, x.Number, oneLine(x.Title)))))
	}
	section(list(fmt.Sprintf("*Incidents*: %s opened (%d before), %d resolved, median time to restore %s (was %s), %d open at the end",
		plural(inc.Opened, "incident", "incidents"), inc.PrevOpened, inc.Resolved, inc.RestoreText, inc.PrevRestoreTxt, inc.OpenAtEnd), lines, moreI, d.URL+"#incidents"))
	a := d.Alerts
	if a.Known {
		section(fmt.Sprintf("*%s*: fired %s (%d before); resolved %s; %d firing at the end", slackLink(a.URL, "Alerts"),
			bySeverity(a.Fired), a.TotalPrev, bySeverity(a.Resolved), a.FiringAtEnd))
	}

	fields = nil
	for _, r := range []struct {
		title  string
		rows   []Ranked
		anchor string
	}{{"Slowest (p95)", d.Slowest, "#slowest"}, {"Most errors", d.ErrorProne, "#errors"}, {"Error budget left", d.Budget, "#budget"}} {
		rows, n := capped(r.rows, min(d.Top, 5))
		var ls []string
		for i, x := range rows {
			ls = append(ls, fmt.Sprintf("%d. %s %s", i+1, slackLink(x.URL, esc(x.Name)), x.Text))
		}
		if len(ls) == 0 {
			ls = append(ls, "no data")
		}
		fields = append(fields, goslack.NewTextBlockObject(goslack.MarkdownType, listCut("*"+r.title+"*", ls, n, d.URL+r.anchor, SlackMaxField), false, false))
	}
	blocks = append(blocks, goslack.NewSectionBlock(nil, fields, nil))
	blocks = append(blocks, goslack.NewContextBlock("", goslack.NewTextBlockObject(goslack.MarkdownType,
		fmt.Sprintf("Sent by %s for the period %s · every figure links to its page", slackLink(d.SiteURL, esc(d.SiteTitle)), d.Period.ID), false, false)))
	if len(blocks) > SlackMaxBlocks { // cannot happen with the layout above; kept as the guard
		blocks = blocks[:SlackMaxBlocks]
	}
	return goslack.WebhookMessage{Text: esc(Subject(d)), Blocks: &goslack.Blocks{BlockSet: blocks}}
}

// list is a title and lines within a section's limit, and "… and N more" linking to the rest.
func list(title string, lines []string, more int, moreURL string) string {
	return listCut(title, lines, more, moreURL, SlackMaxSectionText)
}

// listCut keeps whole lines while the text stays under limit; the lines left out join "more".
func listCut(title string, lines []string, more int, moreURL string, limit int) string {
	tail := func(n int) string {
		if n == 0 {
			return ""
		}
		return "\n" + slackLink(moreURL, fmt.Sprintf("… and %d more", n))
	}
	text := title
	for i, l := range lines {
		if len([]rune(text+"\n"+l+tail(more+len(lines)-i-1))) > limit-40 {
			return text + tail(more+len(lines)-i)
		}
		text += "\n" + l
	}
	return text + tail(more)
}

// esc makes text safe inside mrkdwn: Slack reads &, < and > as control characters.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackLink is a mrkdwn link; the URL is ours (site.base_url), the label escaped.
func slackLink(u, label string) string {
	return "<" + strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(u) + "|" + strings.ReplaceAll(label, "|", "¦") + ">"
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
