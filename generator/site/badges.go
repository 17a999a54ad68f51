package site

import (
	"encoding/json"
	"fmt"
	"html"
	"unicode/utf8"

	"github.com/portfolio-report/portfolio/generator/health"
)

// Badge colours (shields.io's names and their hex values).
var badgeColors = map[string]string{
	"brightgreen": "#4c1", "green": "#97ca00", "yellow": "#dfb317", "orange": "#fe7d37",
	"red": "#e05d44", "lightgrey": "#9f9f9f",
}

// badges writes badges/<id>/uptime.svg and status.svg, and the shields.io endpoint JSON beside
// them (uptime.json, status.json) for https://img.shields.io/endpoint?url=….
func (b *build) badges() {
	for _, p := range b.products {
		up := p.Uptime[2] // 30 days
		upText, upColor := "no data", "lightgrey"
		if up.OK {
			upText = num(up.Value, 2) + "%"
			switch {
			case up.Value >= p.Objective:
				upColor = "brightgreen"
			case up.Value >= p.Objective-0.5:
				upColor = "yellow"
			default:
				upColor = "red"
			}
		}
		stText, stColor := p.Status, "lightgrey"
		switch p.Status {
		case health.Operational:
			stColor = "brightgreen"
		case health.Degraded:
			stColor = "orange"
		case health.Outage:
			stColor = "red"
		}
		dir := "badges/" + p.ID + "/"
		b.put(dir+"uptime.svg", badgeSVG("uptime 30d", upText, upColor))
		b.put(dir+"status.svg", badgeSVG("status", stText, stColor))
		b.put(dir+"uptime.json", shieldsJSON("uptime 30d", upText, upColor))
		b.put(dir+"status.json", shieldsJSON("status", stText, stColor))
	}
}

func shieldsJSON(label, message, color string) []byte {
	data, _ := json.Marshal(struct {
		SchemaVersion int    `json:"schemaVersion"`
		Label         string `json:"label"`
		Message       string `json:"message"`
		Color         string `json:"color"`
	}{1, label, message, color})
	return append(data, '\n')
}

// badgeSVG draws a flat badge. Text widths are estimated (about 6.5 px a character of 11 px
// Verdana): the badge text is our own short words and numbers, so no font metrics are needed.
func badgeSVG(label, message, color string) []byte {
	lw := 10 + int(6.5*float64(utf8.RuneCountInString(label)))
	mw := 10 + int(6.5*float64(utf8.RuneCountInString(message)))
	w := lw + mw
	hex := badgeColors[color]
	l, m := html.EscapeString(label), html.EscapeString(message)
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s: %s</title>`+
		`<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`+
		`<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`+
		`<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text></g></svg>`+"\n",
		w, l, m, l, m, w, lw, lw, mw, hex, w, lw/2, l, lw/2, l, lw+mw/2, m, lw+mw/2, m)
}
