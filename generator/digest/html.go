package digest

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/status"
)

// HTML is the email's HTML part: tables and inline styles only (mail clients drop <style>
// blocks and scripts), no image at all, every text escaped by html/template (incident titles
// come from GitHub). It reads at 390 px: each product is two rows, not a wide table.
func HTML(d *Digest) (string, error) {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		loc = time.UTC
	}
	shown, more := d.productsShown()
	pk, moreK := capped(d.DORA.Products, d.Top)
	il, moreI := capped(d.Incidents.List, incidentLines)
	v := map[string]any{
		"D": d, "Subject": Subject(d), "Products": shown, "MoreProducts": more, "DORAProducts": pk, "MoreDORA": moreK,
		"Incidents": il, "MoreIncidents": moreI,
		"From": d.Period.Start.In(loc).Format("Mon 2 Jan 15:04"), "To": d.Period.End.In(loc).Format("Mon 2 Jan 2006 15:04"),
		"Rankings": []rankingView{
			rankingOf("Slowest", "p95 response time over the period", d.Slowest, d.Top, d.URL+"#slowest"),
			rankingOf("Most errors", "5xx share of requests over the period", d.ErrorProne, d.Top, d.URL+"#errors"),
			rankingOf("Error budget left", "30 days to the period's end, least first", d.Budget, d.Top, d.URL+"#budget"),
		},
	}
	var b bytes.Buffer
	if err := mailTemplate.Execute(&b, v); err != nil {
		return "", fmt.Errorf("digest: render HTML: %w", err)
	}
	return b.String(), nil
}

type rankingView struct {
	Title, Note, MoreURL string
	Rows                 []Ranked
	More                 int
}

func rankingOf(title, note string, r []Ranked, top int, more string) rankingView {
	rows, n := capped(r, top)
	return rankingView{Title: title, Note: note, Rows: rows, More: n, MoreURL: more}
}

// statusColour is the status's colour (AA on white), always next to its name in words.
func statusColour(s string) string {
	switch s {
	case status.Operational:
		return "#067647"
	case status.Maintenance:
		return "#175CD3"
	case status.Degraded:
		return "#B54708"
	case status.PartialOutage, status.MajorOutage:
		return "#B42318"
	}
	return "#475467"
}

var mailTemplate = template.Must(template.New("mail").Funcs(template.FuncMap{
	"status":  statusWord,
	"colour":  statusColour,
	"change":  statusChange,
	"uptime":  uptimeText,
	"ms":      func(v *float64) string { return optText(v, msText) },
	"pct":     func(v *float64) string { return optText(v, pctText) },
	"budget":  func(v *float64) string { return optText(v, budgetText) },
	"delta":   func(c, p *float64, unit string) string { return paren(delta(c, p, unit)) },
	"level":   levelWord,
	"trend":   trendWord,
	"letter":  levelLetter,
	"arrow":   trendArrow,
	"plural":  plural,
	"value":   valueText,
	"oneline": oneLine,
	"sev":     bySeverity,
	"when": func(x IncidentLine, tz string) string {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		return incidentWhen(x, loc)
	},
	"inc":   func(i int) int { return i + 1 },
	"deref": func(v *float64) float64 { return *v },
	"list":  func() []string { return alert.Severities },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light only"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f2f4f7;color:#101828;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.45">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f2f4f7"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;background:#ffffff;border:1px solid #d0d5dd;border-radius:8px">
<tr><td style="padding:20px 20px 8px">
<p style="margin:0;color:#475467;font-size:13px">{{.D.SiteTitle}} · {{if eq .D.DORA.WindowDays 7}}weekly digest{{else}}digest{{end}}</p>
<h1 style="margin:4px 0 4px;font-size:22px;line-height:1.25">{{.D.Label}}</h1>
<p style="margin:0;color:#475467;font-size:13px">{{.From}} to {{.To}} ({{.D.Timezone}}), against the {{.D.DORA.WindowDays}} days before. <a href="{{.D.URL}}" style="color:#175CD3">Read it on the site</a></p>
{{if .D.Demo}}<p style="margin:8px 0 0;padding:6px 8px;background:#FFFAEB;border:1px solid #FEC84B;border-radius:4px;font-size:13px">Demo data: the figures come from <code>portfolio demo</code>.</p>{{end}}
{{range .D.Damaged}}<p style="margin:8px 0 0;padding:6px 8px;background:#FEF3F2;border:1px solid #FDA29B;border-radius:4px;font-size:13px">Data damaged, left out: {{.}}</p>{{end}}
</td></tr>

<tr><td style="padding:8px 20px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-left:6px solid {{colour .D.Status.Status}};background:#f9fafb">
<tr><td style="padding:10px 12px"><a href="{{.D.Status.URL}}" style="color:#101828;text-decoration:none"><strong style="font-size:17px">{{.D.Status.Headline}}</strong></a><br>
<span style="color:#475467;font-size:13px">At the start of the period: {{status .D.Status.PreviousStatus}}.</span></td></tr></table>
</td></tr>

<tr><td style="padding:8px 20px" id="changes">
<h2 style="margin:8px 0;font-size:17px">Biggest changes</h2>
{{if not .D.Changes}}<p style="margin:0;color:#475467">Nothing moved enough to tell: no deployment changed a metric, and no figure moved by the impact rules' thresholds against the period before.</p>{{end}}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0">
{{range .D.Changes}}<tr><td valign="top" style="padding:4px 8px 4px 0;width:20px;font-weight:bold;color:{{if .Worse}}#B42318{{else}}#067647{{end}}">{{if .Worse}}⚠{{else}}✓{{end}}</td>
<td style="padding:4px 0"><a href="{{.URL}}" style="color:#101828">{{.Text}}</a> <span style="color:#475467;font-size:13px">({{if .Worse}}worse{{else}}better{{end}})</span></td></tr>
{{end}}</table>
</td></tr>

<tr><td style="padding:8px 20px" id="products">
<h2 style="margin:8px 0;font-size:17px">Products, worst first</h2>
<p style="margin:0 0 6px;color:#475467;font-size:13px">Status at the end (and at the start), then uptime, p95 and error rate over the period with the change against the period before, and the 30-day error budget left.</p>
<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:14px">
{{range .Products}}<tr><td style="padding:8px 0 0;border-top:1px solid #eaecf0"><a href="{{.URL}}" style="color:#175CD3;font-weight:600">{{.Name}}</a>
<span style="color:{{colour .Status}};font-weight:600"> ● {{status .Status}}</span>{{if ne .Status .PreviousStatus}} <span style="color:#475467">(was {{status .PreviousStatus}})</span>{{end}}{{if .StatusReason}}<br><span style="color:#475467;font-size:13px">{{oneline .StatusReason}}</span>{{end}}</td></tr>
<tr><td style="padding:2px 0 8px;color:#344054">uptime {{uptime .Uptime}}{{delta .Uptime .PrevUptime "%"}} · p95 {{ms .P95}}{{delta .P95 .PrevP95 "ms"}} · errors {{pct .ErrorRate}}{{delta .ErrorRate .PrevErrorRate "%"}} · budget {{budget .BudgetLeft}} · {{plural .Deployments "deployment" "deployments"}} · {{plural .Opened "incident" "incidents"}}</td></tr>
{{end}}</table>
{{if .MoreProducts}}<p style="margin:6px 0 0"><a href="{{.D.URL}}#products" style="color:#175CD3">… and {{.MoreProducts}} more products</a></p>{{end}}
</td></tr>

<tr><td style="padding:8px 20px" id="dora">
<h2 style="margin:8px 0;font-size:17px"><a href="{{.D.DORA.URL}}" style="color:#101828">DORA metrics</a></h2>
<p style="margin:0 0 6px;color:#475467;font-size:13px">{{.D.DORA.WindowDays}} days against the {{.D.DORA.WindowDays}} before, the whole portfolio.</p>
<table width="100%" cellpadding="6" cellspacing="0" style="border-collapse:collapse;font-size:14px">
<tr style="background:#f9fafb"><th align="left" scope="col">Metric</th><th align="left" scope="col">Value</th><th align="left" scope="col">Level</th><th align="left" scope="col">Trend</th></tr>
{{range .D.DORA.Portfolio}}<tr style="border-top:1px solid #eaecf0"><td><a href="{{$.D.DORA.URL}}" style="color:#175CD3">{{.Name}}</a></td><td>{{.Text}}</td><td>{{level .Level}}</td><td>{{trend .Trend}}</td></tr>
{{end}}</table>
{{if .DORAProducts}}<p style="margin:10px 0 4px;color:#475467;font-size:13px">By product, weakest first: deployments · lead time · change failure rate · time to restore (E elite, H high, M medium, L low; ↑ improving, ↓ declining, → flat).</p>
<table width="100%" cellpadding="4" cellspacing="0" style="border-collapse:collapse;font-size:13px">
{{range .DORAProducts}}<tr style="border-top:1px solid #eaecf0"><td><a href="{{.URL}}" style="color:#175CD3">{{.Name}}</a></td><td>{{range $i, $k := .Keys}}{{if $i}} · {{end}}{{$k.Text}}{{letter $k.Level}}{{arrow $k.Trend}}{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .MoreDORA}}<p style="margin:6px 0 0"><a href="{{.D.URL}}#dora" style="color:#175CD3">… and {{.MoreDORA}} more products</a></p>{{end}}
</td></tr>

<tr><td style="padding:8px 20px" id="incidents">
<h2 style="margin:8px 0;font-size:17px">Incidents</h2>
<p style="margin:0 0 6px">{{plural .D.Incidents.Opened "incident" "incidents"}} opened ({{.D.Incidents.PrevOpened}} the period before), {{.D.Incidents.Resolved}} resolved, median time to restore <strong>{{.D.Incidents.RestoreText}}</strong> (was {{.D.Incidents.PrevRestoreTxt}}), {{.D.Incidents.OpenAtEnd}} open at the end.</p>
<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:14px">
{{range .Incidents}}<tr><td style="padding:4px 0;border-top:1px solid #eaecf0"><a href="{{.URL}}" style="color:#175CD3">{{.Name}} #{{.Number}} {{oneline .Title}}</a><br><span style="color:#475467;font-size:13px">{{when . $.D.Timezone}}</span></td></tr>
{{end}}</table>
{{if .MoreIncidents}}<p style="margin:6px 0 0"><a href="{{.D.URL}}#incidents" style="color:#175CD3">… and {{.MoreIncidents}} more incidents</a></p>{{end}}
</td></tr>

<tr><td style="padding:8px 20px" id="alerts">
<h2 style="margin:8px 0;font-size:17px"><a href="{{.D.Alerts.URL}}" style="color:#101828">Alerts</a></h2>
{{if .D.Alerts.Known}}<table width="100%" cellpadding="6" cellspacing="0" style="border-collapse:collapse;font-size:14px">
<tr style="background:#f9fafb"><th align="left" scope="col">Severity</th><th align="right" scope="col">Fired</th><th align="right" scope="col">Resolved</th><th align="right" scope="col">Fired before</th></tr>
{{range $s := list}}<tr style="border-top:1px solid #eaecf0"><td><a href="{{with $.D.Alerts.HistoryURL}}{{.}}{{else}}{{$.D.Alerts.URL}}{{end}}" style="color:#175CD3">{{$s}}</a></td><td align="right">{{index $.D.Alerts.Fired $s}}</td><td align="right">{{index $.D.Alerts.Resolved $s}}</td><td align="right">{{index $.D.Alerts.PrevFired $s}}</td></tr>
{{end}}</table>
<p style="margin:6px 0 0;color:#475467;font-size:13px">{{.D.Alerts.FiringAtEnd}} firing at the end of the period.</p>
{{else}}<p style="margin:0;color:#475467">No alert state yet: <code>portfolio alert</code> has not run.</p>{{end}}
</td></tr>

{{range .Rankings}}<tr><td style="padding:8px 20px">
<h2 style="margin:8px 0 2px;font-size:17px">{{.Title}}</h2>
<p style="margin:0 0 6px;color:#475467;font-size:13px">{{.Note}}</p>
{{if not .Rows}}<p style="margin:0;color:#475467">No data.</p>{{end}}
<table width="100%" cellpadding="4" cellspacing="0" style="border-collapse:collapse;font-size:14px">
{{range $i, $r := .Rows}}<tr style="border-top:1px solid #eaecf0"><td style="width:24px;color:#475467">{{inc $i}}.</td><td><a href="{{$r.URL}}" style="color:#175CD3">{{$r.Name}}</a></td><td align="right"><strong>{{$r.Text}}</strong>{{if $r.Previous}} <span style="color:#475467">(was {{value (deref $r.Previous) $r.Unit}})</span>{{end}}</td></tr>
{{end}}</table>
{{if .More}}<p style="margin:6px 0 0"><a href="{{.MoreURL}}" style="color:#175CD3">… and {{.More}} more</a></p>{{end}}
</td></tr>
{{end}}

<tr><td style="padding:16px 20px 20px;color:#475467;font-size:12px;border-top:1px solid #eaecf0">Sent by <a href="{{.D.SiteURL}}" style="color:#475467">{{.D.SiteTitle}}</a> for the period {{.D.Period.ID}}. Every figure links to its page on the site.</td></tr>
</table>
</td></tr></table>
</body></html>
`))
