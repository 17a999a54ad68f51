package httpclient_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

const secret = "ghp_SECRETtoken0123456789"

// addToken is what go-github's WithAuthToken does: it sets the token on every request that
// passes, redirected ones included.
type addToken struct{ next http.RoundTripper }

func (a addToken) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+secret)
	return a.next.RoundTrip(r)
}

func TestRedirectToAnotherOriginDropsCredentials(t *testing.T) {
	tests := []struct {
		name   string
		status int
		client func() *http.Client
		setup  func(r *http.Request)
		// location is where the redirect points on the other origin.
		location string
	}{
		{"Authorization set once, 302", http.StatusFound, func() *http.Client { return httpclient.Wrap(nil, time.Second) },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }, "/moved"},
		{"a token added by a RoundTripper above, 301", http.StatusMovedPermanently, func() *http.Client {
			c := httpclient.Wrap(&http.Client{}, time.Second)
			c.Transport = addToken{c.Transport}
			return c
		}, func(r *http.Request) {}, "/moved"},
		{"API-key headers and cookies, 307 without a body", http.StatusTemporaryRedirect, func() *http.Client { return httpclient.Wrap(nil, time.Second) },
			func(r *http.Request) {
				r.Header.Set("X-Api-Key", secret)
				r.Header.Set("X-Auth-Key", secret)
				r.Header.Set("Cookie", "session="+secret)
			}, "/moved"},
		{"a token the Location repeats in the query", http.StatusFound, func() *http.Client { return httpclient.Wrap(nil, time.Second) },
			func(r *http.Request) {}, "/moved?page=2&access_token=" + secret + "&api_key=" + secret},
		{"the transport alone (posthog-go builds its own client)", http.StatusFound, func() *http.Client {
			return &http.Client{Transport: addToken{httpclient.Transport(nil)}}
		}, func(r *http.Request) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fake.NewRecorder(t)
			redir := fake.NewRedirector(t, tt.status, rec.URL+tt.location)
			// The path is a webhook's: the Referer net/http adds would carry it to the other origin.
			req, _ := http.NewRequest(http.MethodGet, redir.URL+"/services/T0001/B0002/hookpath", nil)
			req.Header.Set("Accept", "application/json")
			tt.setup(req)
			resp, err := tt.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := rec.Requests()
			if len(got) != 1 {
				t.Fatalf("the other origin got %d requests, want the redirected one", len(got))
			}
			if s := got[0].String(); strings.Contains(s, secret) {
				t.Errorf("the other origin received the secret:\n%s", s)
			}
			if ref := got[0].Header.Get("Referer"); ref != "" {
				t.Errorf("Referer = %q: it names the first URL, a webhook's secret path", ref)
			}
			if got[0].Header.Get("Accept") != "application/json" {
				t.Errorf("Accept = %q: harmless headers stay", got[0].Header.Get("Accept"))
			}
		})
	}
}

func TestRedirectWithinTheOriginKeepsCredentials(t *testing.T) {
	var auth []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		if r.URL.Path == "/old" {
			http.Redirect(w, r, srv.URL+"/new", http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c := httpclient.Wrap(nil, time.Second)
	c.Transport = addToken{c.Transport}
	resp, err := c.Get(srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(auth) != 2 || auth[1] != "Bearer "+secret {
		t.Errorf("Authorization per request = %q; a renamed repository's redirect stays on the API and keeps it", auth)
	}
}

func TestRedirectThatResendsABodyToAnotherOriginIsRefused(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, name := range []string{"Wrap", "Transport"} {
			t.Run(name+" "+http.StatusText(status), func(t *testing.T) {
				rec := fake.NewRecorder(t)
				redir := fake.NewRedirector(t, status, rec.URL+"/batch/")
				c := httpclient.Wrap(nil, time.Second)
				if name == "Transport" {
					c = &http.Client{Transport: httpclient.Transport(nil)}
				}
				body := `{"api_key":"` + secret + `","routing_key":"` + secret + `"}`
				resp, err := c.Post(redir.URL+"/batch/", "application/json", strings.NewReader(body))
				if err == nil {
					resp.Body.Close()
				}
				var re *httpclient.RedirectError
				if !errors.As(err, &re) || re.Status != status {
					t.Fatalf("err = %v, want a *RedirectError for %d", err, status)
				}
				if n := len(rec.Requests()); n != 0 {
					t.Errorf("the other origin got %d requests", n)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the body: %v", err)
				}
			})
		}
	}
}

func TestPOSTRedirectedAsGETLosesItsBodyAndCredentials(t *testing.T) {
	rec := fake.NewRecorder(t)
	redir := fake.NewRedirector(t, http.StatusFound, rec.URL+"/v2/enqueue")
	req, _ := http.NewRequest(http.MethodPost, redir.URL+"/v2/enqueue", strings.NewReader(`{"routing_key":"`+secret+`"}`))
	req.Header.Set("Authorization", "Token "+secret)
	resp, err := httpclient.Wrap(nil, time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := rec.Requests()
	if len(got) != 1 || got[0].Method != http.MethodGet || strings.Contains(got[0].String(), secret) {
		t.Errorf("received %v, want one GET without the secret", got)
	}
}

func TestOriginHasTheSchemePortAndHost(t *testing.T) {
	tests := []struct{ a, b string }{
		{"https://api.github.com/x", "https://API.github.com:443/y"},
		{"http://127.0.0.1/x", "http://127.0.0.1:80"},
	}
	for _, tt := range tests {
		if httpclient.Origin(mustURL(t, tt.a)) != httpclient.Origin(mustURL(t, tt.b)) {
			t.Errorf("%s and %s are one origin", tt.a, tt.b)
		}
	}
	differ := []struct{ a, b string }{
		{"https://api.github.com", "http://api.github.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8081"},
		{"https://example.com", "https://api.example.com"},
	}
	for _, tt := range differ {
		if httpclient.Origin(mustURL(t, tt.a)) == httpclient.Origin(mustURL(t, tt.b)) {
			t.Errorf("%s and %s are different origins", tt.a, tt.b)
		}
	}
}

func TestHTMLWhereAnAPIAnswerWasExpected(t *testing.T) {
	page := "<!DOCTYPE html>\n<html><head><title>Sign in &middot; Corp SSO</title></head><body>log in</body></html>"
	tests := []struct {
		name        string
		accept      string
		contentType string
		status      int
		body        string
		wantErr     bool
	}{
		{"a login page as text/html", "application/json", "text/html; charset=utf-8", 200, page, true},
		{"a proxy page without a Content-Type", "application/vnd.github.v3+json", "", 200, "\n\n  " + page, true},
		{"HTML labelled text/plain", "application/json", "text/plain", 200, page, true},
		{"JSON is JSON", "application/json", "application/json", 200, `{"ok":true}`, false},
		{"JSON without a Content-Type", "application/json", "", 200, `{"ok":true}`, false},
		{"a health page asked without Accept (the probe)", "", "text/html", 200, page, false},
		{"a client that accepts HTML", "text/html,application/json", "text/html", 200, page, false},
		{"an error status keeps its status for the client", "application/json", "text/html", 502, page, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				} else {
					w.Header()["Content-Type"] = nil // no sniffing by net/http either
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := httpclient.Wrap(nil, time.Second).Do(req)
			var he *httpclient.HTMLError
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != tt.body {
					t.Errorf("body = %q, want it whole after the sniff", b)
				}
				return
			}
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want an *HTMLError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "got HTML (a login page or proxy?)") || !strings.Contains(msg, `title "Sign in · Corp SSO"`) {
				t.Errorf("message = %q, want what it got and the page title", msg)
			}
		})
	}
}

func TestEveryClientHasATimeout(t *testing.T) {
	if c := httpclient.Wrap(nil, 15*time.Second); c.Timeout != 15*time.Second {
		t.Errorf("a nil client gets timeout %s, want 15s", c.Timeout)
	}
	if c := httpclient.Wrap(&http.Client{Timeout: time.Minute}, 15*time.Second); c.Timeout != time.Minute {
		t.Errorf("a client's own timeout %s was replaced", c.Timeout)
	}
	// A silent endpoint ends in the timeout, not a hang.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	start := time.Now()
	_, err := httpclient.Wrap(&http.Client{}, 100*time.Millisecond).Get(srv.URL)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("a client without a timeout waited %s for a silent endpoint (err %v)", time.Since(start), err)
	}
}

func TestWrapTwiceWrapsOnce(t *testing.T) {
	var calls int
	counting := roundTrip(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
	})
	c := httpclient.Wrap(httpclient.Wrap(&http.Client{Transport: counting}, time.Second), time.Second)
	if _, ok := c.Transport.(roundTrip); ok {
		t.Fatal("not wrapped")
	}
	resp, err := c.Get("http://example.test/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls != 1 {
		t.Errorf("calls = %d", calls)
	}
	if httpclient.Transport(c.Transport) != c.Transport {
		t.Error("Transport of a wrapped transport wraps it again")
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
