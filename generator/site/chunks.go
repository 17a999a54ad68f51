package site

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// A product's chart history lives in files of its own under data/<product>/, not in its page:
// for each range of the switch, one file per period of that range's buckets (a UTC day of
// 15-minute or hourly buckets, an ISO week of 4-hour buckets or of days), and one small
// current file with the rows of the periods not over yet. A period that is over never changes,
// so its file, named by its content's hash, is written once and cached forever; a new snapshot
// changes only the current file (and the page that names it). charts.js fetches the files a
// range needs.

// chartCols are the columns of a chart data row, after its time: response time p95, the
// lowest and highest run's p95, p50, the 5xx rate, requests a minute, the share of good checks,
// and the 30-day error budget left at the end of the bucket.
var chartCols = []string{"p95", "p95_lo", "p95_hi", "p50", "err", "rpm", "up", "budget"}

// chunkPeriod is the period of range r's data that holds the bucket starting at t: the UTC day,
// or with r.Week the ISO week (Monday 00:00; in loc for a range of days, else UTC).
func chunkPeriod(r chartRange, t time.Time, loc *time.Location) (start, end time.Time) {
	z := time.UTC
	if r.Days {
		z = loc
	}
	l := t.In(z)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, z)
	if !r.Week {
		return day, day.AddDate(0, 0, 1)
	}
	start = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	return start, start.AddDate(0, 0, 7)
}

// chunkBuckets are range r's buckets from the start of the period holding at−r.D up to the
// bucket holding at: the whole periods the range touches, so every period's file holds all of
// its buckets whatever the range's start. A range of days leaves out the day holding at until
// it is over.
func chunkBuckets(r chartRange, at time.Time, loc *time.Location) []bucket {
	start, _ := chunkPeriod(r, at.Add(-r.D), loc)
	var out []bucket
	if r.Days {
		for t := start; t.Before(at); {
			next := t.AddDate(0, 0, 1)
			if next.After(at) {
				break
			}
			out = append(out, bucket{From: t, To: next})
			t = next
		}
		return out
	}
	for t := start; t.Before(at); t = t.Add(r.Width) {
		out = append(out, bucket{From: t, To: t.Add(r.Width)})
	}
	return out
}

// chartChunk is one file of chart rows: [time, a value per chartCols (null without one)],
// the first time in ms on the site's wall clock, each next one in seconds after the row before.
type chartChunk struct {
	Range string   `json:"range"`
	Cols  []string `json:"cols"`
	Rows  [][]any  `json:"rows"`
}

// currentChunk holds, for each range, the rows of its period that is not over yet.
type currentChunk struct {
	Cols   []string           `json:"cols"`
	Ranges map[string][][]any `json:"ranges"`
}

// chartRangeData is a range's data as the page's chart document names it (see chartDataDoc).
type chartRangeData struct {
	X     [2]int64 `json:"x"`     // the axis, ms on the site's wall clock
	From  int64    `json:"from"`  // the first bucket of the range, same clock: rows before it are not shown
	Width int64    `json:"w"`     // bucket width in ms
	Files []string `json:"files"` // the range's period files, oldest first, then the current file
}

// chartDataDoc is the page's "chart-data" JSON: where each range's rows are.
type chartDataDoc struct {
	Cols   []string                  `json:"cols"`
	Ranges map[string]chartRangeData `json:"ranges"`
	// Markers is the file of the deployment markers every time chart draws (see markerDoc):
	// it changes only with a deployment.
	Markers string `json:"markers,omitempty"`
}

// productRows are a product's chart rows of one range: every bucket from chunkBuckets, its
// values, and which of them lie in the range.
type productRows struct {
	buckets []bucket
	vals    [][]*float64 // per bucket, per chartCols
	first   int          // index of the range's first bucket
}

// chartRows computes the rows of every range from the product's snapshots (d.long covers the
// periods and the budget's 30 days before them).
func (b *build) chartRows(d *productData, objective float64) map[string]productRows {
	out := map[string]productRows{}
	snaps := d.long
	var tl *budgetTimeline
	if len(snaps) > 0 {
		tl = newBudgetTimeline(snaps, objective)
	}
	for _, r := range ranges {
		bk := chunkBuckets(r, d.at, b.loc)
		parts := downsample(snaps, bk)
		rates, has := requestRates(snaps, bk)
		pr := productRows{buckets: bk, vals: make([][]*float64, len(bk)), first: len(bk)}
		for k, x := range bk {
			if pr.first == len(bk) && !x.From.Before(d.at.Add(-r.D)) {
				pr.first = k
			}
			v := make([]*float64, len(chartCols))
			s := parts[k]
			set := func(i int, f float64, ok bool, dec int) {
				if ok {
					f = round(f, dec)
					v[i] = &f
				}
			}
			p95, ok := p95Reducer(s)
			set(0, p95, ok, 1)
			lo, hi, ok := latencyBand(s)
			set(1, lo, ok, 1)
			set(2, hi, ok, 1)
			p50, ok := p50Reducer(s)
			set(3, p50, ok, 1)
			e, ok := errorRateReducer(s)
			set(4, e, ok, 3)
			set(5, rates[k], has[k], 1)
			up, ok := uptimeReducer(s)
			set(6, up, ok, 3)
			if tl != nil {
				end := x.To
				if end.After(d.at) {
					end = d.at
				}
				if bg := tl.at(end); bg.Checks.Total > 0 {
					set(7, max(bg.Remaining*100, -100), true, 2)
				}
			}
			pr.vals[k] = v
		}
		out[r.Key] = pr
	}
	return out
}

// values gives column c's values of the range's buckets (for fitting the axis).
func (pr productRows) values(c int) []float64 {
	var out []float64
	for _, v := range pr.vals[pr.first:] {
		if v[c] != nil {
			out = append(out, *v[c])
		}
	}
	return out
}

// rowsOf turns buckets [i, j) into chunk rows.
func (b *build) rowsOf(pr productRows, i, j int) [][]any {
	out := make([][]any, 0, j-i)
	var prev int64
	for k := i; k < j; k++ {
		ms := b.localMs(pr.buckets[k].From)
		row := make([]any, 1, len(chartCols)+1)
		if k == i {
			row[0] = ms
		} else {
			row[0] = float64(ms-prev) / 1000
		}
		prev = ms
		for _, v := range pr.vals[k] {
			if v == nil {
				row = append(row, nil)
			} else {
				row = append(row, *v)
			}
		}
		out = append(out, row)
	}
	return out
}

// chartFiles writes the product's chart files and returns the page's chart document.
func (b *build) chartFiles(d *productData, rows map[string]productRows, markers string) json.RawMessage {
	doc := chartDataDoc{Cols: chartCols, Ranges: map[string]chartRangeData{}, Markers: markers}
	cur := currentChunk{Cols: chartCols, Ranges: map[string][][]any{}}
	dir := "data/" + d.cfg.ID + "/"
	for _, r := range ranges {
		pr := rows[r.Key]
		rd := chartRangeData{X: [2]int64{b.localMs(d.at.Add(-r.D)), b.localMs(d.at)}, Width: r.Width.Milliseconds(), Files: []string{}}
		if pr.first < len(pr.buckets) {
			rd.From = b.localMs(pr.buckets[pr.first].From)
		} else {
			rd.From = rd.X[1]
		}
		for i := 0; i < len(pr.buckets); {
			start, end := chunkPeriod(r, pr.buckets[i].From, b.loc)
			j := i
			for j < len(pr.buckets) && pr.buckets[j].From.Before(end) {
				j++
			}
			if end.After(d.at) { // not over yet: the current file
				cur.Ranges[r.Key] = b.rowsOf(pr, i, j)
				i = j
				continue
			}
			name := dir + r.Key + "-" + start.Format(time.DateOnly)
			rd.Files = append(rd.Files, b.putFingerprinted(name, mustJSON(chartChunk{Range: r.Key, Cols: chartCols, Rows: b.rowsOf(pr, i, j)})))
			i = j
		}
		doc.Ranges[r.Key] = rd
	}
	curURL := b.putFingerprinted(dir+"current", mustJSON(cur))
	for k, rd := range doc.Ranges {
		rd.Files = append(rd.Files, curURL)
		doc.Ranges[k] = rd
	}
	return mustJSON(doc)
}

// putFingerprinted writes data as name.<hash>.json and returns its URL: the name changes
// with the content, so the file can be cached forever (see headers).
func (b *build) putFingerprinted(name string, data []byte) string {
	sum := sha256.Sum256(data)
	p := name + "." + hex.EncodeToString(sum[:5]) + ".json"
	b.put(p, data)
	return b.url("/" + p)
}
