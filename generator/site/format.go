package site

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/portfolio-report/portfolio/generator/dora"
)

// timeView is a moment as the page shows it: in the site's time zone, with UTC for <time datetime>.
type timeView struct {
	UTC   string // RFC 3339, UTC
	Local string // e.g. "30 Jun 2026, 02:00 CEST"
	Short string // e.g. "30 Jun 02:00"
}

func (b *build) tv(t time.Time) timeView {
	l := t.In(b.loc)
	return timeView{UTC: t.UTC().Format(time.RFC3339), Local: l.Format("2 Jan 2006, 15:04 MST"), Short: l.Format("2 Jan 15:04")}
}

func (b *build) tvp(t *time.Time) *timeView {
	if t == nil {
		return nil
	}
	v := b.tv(*t)
	return &v
}

// num formats v with at most d decimals and no trailing zeros.
func num(v float64, d int) string { return strconv.FormatFloat(round(v, d), 'f', -1, 64) }

// pctText formats a percentage for people: "99.95 %"; "–" without data.
func pctText(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	d := 2
	if v == 100 || v == 0 {
		d = 0
	}
	return num(v, d) + " %"
}

func msText(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return num(v, 0) + " ms"
}

// durText formats a duration for people ("45 min", "1.5 h", "3 days").
func durText(d time.Duration) string { return dora.Duration(d.Seconds()) }

// ageText is a short age: "12 min", "3 h", "2 days".
func ageText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "now"
	case d < 90*time.Minute:
		return fmt.Sprintf("%d min", int(math.Round(d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(math.Round(d.Hours())))
	default:
		return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
