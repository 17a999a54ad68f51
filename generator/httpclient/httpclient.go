// Package httpclient holds the rules every outgoing HTTP client of portfolio follows, applied
// in one place: each integration passes the *http.Client it is given through Wrap where it
// builds its client (GitHub through go-github, Cloudflare, PostHog reading and sending, the
// probes, Slack, PagerDuty, GitHub issues, and the repos, doctor and init commands).
//
//   - A credential goes only to the origin (scheme, host and port) it was sent to. A request
//     that follows a redirect to another origin loses every header but a few harmless ones
//     (Accept, User-Agent…): Authorization, cookies, API-key headers and the Referer, which
//     would carry a webhook's secret path. It loses query parameters named like credentials
//     too. A redirect that would send a request body to another origin (307 and 308 repeat
//     it, and bodies carry PostHog's project key and PagerDuty's routing key) is refused with
//     a *RedirectError.
//   - Every client has a timeout: Wrap gives one to a client that has none.
//   - An HTML answer to a request that asked for something else (an Accept header without
//     html) is an *HTMLError, "got HTML (a login page or proxy?)", not a JSON syntax error
//     deep in a decoder.
//
// The credential rule lives in the transport, at the bottom of the chain, because that is the
// only place that sees a redirected request after every layer above has touched it: a
// RoundTripper that adds a token (go-github's WithAuthToken) adds it again to each redirected
// request, which is how a token followed a redirect to another host; net/http's own rule
// keeps Authorization for another port of the same host and for subdomains. CheckRedirect
// refuses bodies early for the clients Wrap sees; the transport refuses them for the clients
// it does not (posthog-go builds its own http.Client around the transport it is given).
package httpclient

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxRedirects is how many redirects a request follows (net/http's own limit).
const MaxRedirects = 10

// Wrap returns a copy of c (nil: a new client) whose transport keeps credentials to their
// origin and reports HTML answers, whose redirects never carry a body to another origin, and
// whose Timeout is timeout when c has none. c itself is not changed; wrapping a wrapped
// client adds nothing.
func Wrap(c *http.Client, timeout time.Duration) *http.Client {
	var w http.Client
	if c != nil {
		w = *c
	}
	if w.Timeout <= 0 {
		w.Timeout = timeout
	}
	if _, wrapped := w.Transport.(*transport); !wrapped {
		w.Transport = Transport(w.Transport)
		w.CheckRedirect = checkRedirect(w.CheckRedirect)
	}
	return &w
}

func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		if from := Origin(via[0].URL); from != Origin(req.URL) && hasBody(req) {
			return &RedirectError{From: from, To: Origin(req.URL), Status: statusOf(req)}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

func statusOf(req *http.Request) int {
	if req.Response != nil {
		return req.Response.StatusCode
	}
	return 0
}

// Transport returns base (nil: http.DefaultTransport) with the credential and HTML rules, for a
// library that builds its own http.Client around a RoundTripper. A Transport of a Transport is
// the same Transport.
func Transport(base http.RoundTripper) http.RoundTripper {
	if t, ok := base.(*transport); ok {
		return t
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

// RedirectError is a redirect refused because it would send a request body to another origin.
type RedirectError struct {
	From, To string // origins
	Status   int    // the redirect's status (307, 308)
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused a redirect (HTTP %d) from %s to %s: the request body may hold a credential and goes only to %s",
		e.Status, e.From, e.To, e.From)
}

// HTMLError is an HTML page where the request asked for an API's answer: a proxy, a captive
// portal or a single sign-on page in front of the API, or a wrong base URL.
type HTMLError struct {
	Host   string
	Status int
	Title  string // the page's <title>, cut short; may be empty
}

func (e *HTMLError) Error() string {
	s := fmt.Sprintf("got HTML (a login page or proxy?) from %s (HTTP %d", e.Host, e.Status)
	if e.Title != "" {
		s += fmt.Sprintf(", title %q", e.Title)
	}
	return s + ") where the API's answer was expected"
}

// Origin is u's scheme://host:port, with the scheme's default port written out, so
// https://a.test and https://a.test:443 are one origin and http://a.test another.
func Origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if first := firstRequest(req); first != req && Origin(first.URL) != Origin(req.URL) {
		if hasBody(req) {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, &RedirectError{From: Origin(first.URL), To: Origin(req.URL), Status: statusOf(req)}
		}
		req = withoutCredentials(req)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || !wantsAPIAnswer(req) || resp.StatusCode/100 != 2 {
		return resp, err
	}
	return checkHTML(req, resp)
}

// firstRequest follows a redirected request back to the one the caller sent.
func firstRequest(req *http.Request) *http.Request {
	r := req
	for i := 0; r.Response != nil && r.Response.Request != nil && i <= MaxRedirects+1; i++ {
		r = r.Response.Request
	}
	return r
}

func hasBody(req *http.Request) bool {
	return req.Body != nil && req.Body != http.NoBody || req.ContentLength > 0
}

// keptHeaders are the headers a request keeps when it goes to another origin: none can hold a
// credential.
var keptHeaders = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "User-Agent": true,
	"Cache-Control": true, "If-None-Match": true, "If-Modified-Since": true, "Range": true,
}

// credentialParam matches the query parameter names that carry a credential.
var credentialParam = regexp.MustCompile(`(?i)(token|key|secret|passw|auth|sig|session|code|jwt|bearer)`)

func withoutCredentials(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	for k := range r.Header {
		if !keptHeaders[http.CanonicalHeaderKey(k)] {
			delete(r.Header, k)
		}
	}
	r.URL.User = nil
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		for k := range q {
			if credentialParam.MatchString(k) {
				q.Del(k)
			}
		}
		r.URL.RawQuery = q.Encode()
	}
	return r
}

// wantsAPIAnswer says whether the request named what it accepts, and that was not HTML: an
// API client's request. The probes send no Accept header, so a product's HTML health page
// is theirs to judge.
func wantsAPIAnswer(req *http.Request) bool {
	acc := strings.ToLower(strings.Join(req.Header.Values("Accept"), ","))
	return acc != "" && !strings.Contains(acc, "html") && !strings.Contains(acc, "*/*")
}

// sniffLen is how much of an answer without a telling Content-Type is read to recognise HTML.
const sniffLen = 512

// checkHTML returns resp, or an *HTMLError when its body is an HTML page.
func checkHTML(req *http.Request, resp *http.Response) (*http.Response, error) {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isHTML := ct == "text/html" || ct == "application/xhtml+xml"
	if !isHTML {
		if strings.HasSuffix(ct, "json") || strings.HasSuffix(ct, "+json") {
			return resp, nil // the answer says what it is: the decoder judges the rest
		}
		br := bufio.NewReaderSize(resp.Body, sniffLen)
		head, _ := br.Peek(sniffLen) // an error shows when the caller reads
		resp.Body = readCloser{br, resp.Body}
		isHTML = strings.HasPrefix(http.DetectContentType(head), "text/html")
	}
	if !isHTML {
		return resp, nil
	}
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	resp.Body.Close()
	return nil, &HTMLError{Host: req.URL.Host, Status: resp.StatusCode, Title: title(page)}
}

type readCloser struct {
	io.Reader
	io.Closer
}

var titleTag = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// title is the page's title, on one line and at most 80 characters.
func title(page []byte) string {
	m := titleTag.FindSubmatch(page)
	if m == nil {
		return ""
	}
	t := strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
	t = strings.ToValidUTF8(t, "")
	if utf8.RuneCountInString(t) > 80 {
		t = string([]rune(t)[:79]) + "…"
	}
	return t
}
