package site

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/status"
)

// The live layer (docs/site.md, "Live pages"): every page polls api/version.json and, when it
// changed, fetches itself again and updates in place (static/js/live.js). The build writes the
// version document and a favicon per status; the rest is static JavaScript.

// apiVersion is api/version.json: one short line an open page polls every minute. Hash changes
// whenever any other file of the site does, so a page knows when to look again; the same
// data and now give the same bytes.
type apiVersion struct {
	SchemaVersion int     `json:"schema_version"`
	DataAsOf      *string `json:"data_as_of"` // the newest snapshot of any product
	Status        string  `json:"status"`     // the portfolio's: the favicon's colour
	Hash          string  `json:"hash"`       // of every other file of the site
}

// versionFile is the site path of the version document.
const versionFile = "api/version.json"

// version writes api/version.json. It runs last: its hash covers every other file.
func (b *build) version() error {
	var newest time.Time
	var statuses []string
	for _, p := range b.products {
		statuses = append(statuses, p.Status)
		if p.LastSnap.After(newest) {
			newest = p.LastSnap
		}
	}
	v := apiVersion{SchemaVersion: APISchemaVersion, Status: status.Worst(statuses...), Hash: b.contentHash()}
	if !newest.IsZero() {
		s := newest.UTC().Format(time.RFC3339)
		v.DataAsOf = &s
	}
	return b.putJSON(versionFile, v)
}

// contentHash is the first 16 hex digits of SHA-256 over every file of the site but the
// version document, by name: its name, its length and its content. Files under static/ and
// data/ are named by their content's hash already: their names stand for them.
func (b *build) contentHash() string {
	names := make([]string, 0, len(b.files))
	for n := range b.files {
		if n != versionFile {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	var n8 [8]byte
	for _, n := range names {
		h.Write([]byte(n))
		binary.BigEndian.PutUint64(n8[:], uint64(len(b.files[n])))
		h.Write(n8[:])
		if !strings.HasPrefix(n, "static/") && !strings.HasPrefix(n, "data/") {
			h.Write(b.files[n])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// faviconSVG is static/favicon.svg's mark (a rising line on a rounded square) on a colour.
const faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="%s"/><path d="M6 22l6-8 5 5 9-11" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`

// favicons writes a favicon per status in its badge colour into one fingerprinted folder,
// static/favicons.<hash of all of them>/<status>.svg: the overview shows the portfolio's status
// in the browser tab without JavaScript (the asset "favicon-<status>.svg"), and live.js swaps
// the icon on every page when the status changes, knowing only the folder.
func (b *build) favicons() {
	h := sha256.New()
	svgs := make([][]byte, len(status.All))
	for i, st := range status.All {
		svgs[i] = []byte(strings.Replace(faviconSVG, "%s", badgeColors[statusBadgeColor(st)], 1))
		h.Write(svgs[i])
	}
	dir := "static/favicons." + hex.EncodeToString(h.Sum(nil)[:5]) + "/"
	b.faviconDir = b.url("/" + dir)
	for i, st := range status.All {
		b.assets["favicon-"+st+".svg"] = b.url("/" + dir + st + ".svg")
		b.put(dir+st+".svg", svgs[i])
	}
}

// apiCachePaths are the _headers patterns of the API's documents but the version document:
// each file directly under api/ by name, each folder as "/api/<folder>/*".
func (b *build) apiCachePaths() []string {
	seen := map[string]bool{}
	var out []string
	for n := range b.files {
		rest, ok := strings.CutPrefix(n, "api/")
		if !ok || n == versionFile {
			continue
		}
		p := "/" + n
		if dir, _, nested := strings.Cut(rest, "/"); nested {
			p = "/api/" + dir + "/*"
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// minutes says a duration in words: "15 min", "1 h", "1 h 30 min".
func minutes(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + " min"
	case m == 0:
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
}
