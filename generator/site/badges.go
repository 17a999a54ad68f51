package site

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/portfolio-report/portfolio/generator/status"
)

// Badge colours: each carries white 11 px text at 4.5:1 or more (WCAG AA), unlike shields.io's
// own brightgreen or yellow. The endpoint JSON gives them as hex, which shields.io accepts.
var badgeColors = map[string]string{
	"green": "#18763a", "amber": "#8a5a00", "orange": "#b33f00", "red": "#b42318",
	"blue": "#0a58ca", "grey": "#57606a",
}

// badgeLabelColor is the background of a badge's label half.
const badgeLabelColor = "#555"

// statusBadgeColor is the badge colour of a status.
func statusBadgeColor(s string) string {
	switch s {
	case status.Operational:
		return "green"
	case status.Maintenance:
		return "blue"
	case status.Degraded:
		return "amber"
	case status.PartialOutage:
		return "orange"
	case status.MajorOutage:
		return "red"
	}
	return "grey"
}

// badges writes badges/<id>/uptime.svg and status.svg, and the shields.io endpoint JSON beside
// them (uptime.json, status.json) for https://img.shields.io/endpoint?url=….
func (b *build) badges() {
	for _, p := range b.products {
		up := p.Uptime[2] // 30 days
		upText, upColor := "no data", "grey"
		if up.OK {
			upText = num(up.Value, 2) + "%"
			switch {
			case up.Value >= p.Objective:
				upColor = "green"
			case up.Value >= p.Objective-0.5:
				upColor = "amber"
			default:
				upColor = "red"
			}
		}
		stText, stColor := status.Label(p.Status), statusBadgeColor(p.Status)
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
		LabelColor    string `json:"labelColor"`
	}{1, label, message, strings.TrimPrefix(badgeColors[color], "#"), strings.TrimPrefix(badgeLabelColor, "#")})
	return append(data, '\n')
}

// badgeSVG draws a flat badge (without shields.io's gloss, which lightens the colour under the
// text). Text widths are estimated (about 6.5 px a character of 11 px
// Verdana): the badge text is our own short words and numbers, so no font metrics are needed.
func badgeSVG(label, message, color string) []byte {
	lw := 10 + int(6.5*float64(utf8.RuneCountInString(label)))
	mw := 10 + int(6.5*float64(utf8.RuneCountInString(message)))
	w := lw + mw
	hex := badgeColors[color]
	l, m := html.EscapeString(label), html.EscapeString(message)
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s: %s</title>`+
		`<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`+
		`<g clip-path="url(#r)"><rect width="%d" height="20" fill="`+badgeLabelColor+`"/><rect x="%d" width="%d" height="20" fill="%s"/></g>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`+
		`<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text></g></svg>`+"\n",
		w, l, m, l, m, w, lw, lw, mw, hex, lw/2, l, lw/2, l, lw+mw/2, m, lw+mw/2, m)
}
