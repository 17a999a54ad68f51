package httpclient_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	cfapi "github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/notify/githubissues"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// The secrets each client holds; none may reach the other origin in any form.
const (
	ghToken     = "ghp_REDIRECTtest000000000000000000000"
	cfToken     = "cf-REDIRECT-token-0000000000000000000"
	phPersonal  = "phx_REDIRECTpersonal00000000000000000"
	phProject   = "phc_REDIRECTproject000000000000000000"
	hookPath    = "/services/T0REDIRECT/B0REDIRECT/hooksecret0000000000000"
	routingKey  = "R0REDIRECT0000000000000000000000"
	issuesToken = "github_pat_REDIRECT_issues_00000000000"
)

func noSleep(context.Context, time.Duration) error { return nil }

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func firing() alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("shop", alert.RuleUptime, ""), Product: "shop",
		Rule: alert.RuleUptime, Severity: alert.Critical, Status: alert.Firing, FiringSince: t0,
		Value: 97.5, Threshold: 99.5, Unit: "%", Summary: "uptime over 24 h is 97.5 %"}
	return alert.Notification{Kind: alert.NotifyFiring, Alert: a, ProductName: "Shop",
		ProductURL: "https://status.example.com/products/shop/", At: t0}
}

// clientCase calls one client once against base, the URL of a server that redirects every
// request to the recorder's origin. The client is built with a plain &http.Client{}: the client
// package itself must apply the rule.
type clientCase struct {
	name    string
	secrets []string
	// sendsBody says the client's call carries its credential in the body (a 307 or 308 must be
	// refused, not followed).
	call func(t *testing.T, base string) error
}

func clientCases() []clientCase {
	return []clientCase{
		{"github source (go-github)", []string{ghToken}, func(t *testing.T, base string) error {
			c := config.Config{Products: []config.Product{{ID: "shop", Repository: "acme/shop", Deploy: config.Deploy{Workflow: "deploy.yml"}}}}
			c.ApplyDefaults()
			src := github.New(github.Options{BaseURL: base + "/", Token: ghToken, Now: func() time.Time { return t0 }, Sleep: noSleep},
				store.Open(t.TempDir()), &http.Client{}, nil)
			_, err := src.Collect(context.Background(), c.Products[0], time.Time{})
			return err
		}},
		{"repos, doctor and init (go-github)", []string{ghToken}, func(t *testing.T, base string) error {
			c, err := repos.New(repos.Options{Token: ghToken, BaseURL: base + "/", Sleep: noSleep}, &http.Client{}, nil)
			if err != nil {
				return err
			}
			_, _, err = c.API().Users.Get(context.Background(), "")
			return err
		}},
		{"github issues (go-github)", []string{issuesToken}, func(t *testing.T, base string) error {
			n, err := githubissues.New(githubissues.Config{Repository: "acme/ops", Token: issuesToken, BaseURL: base + "/"}, &http.Client{}, nil)
			if err != nil {
				return err
			}
			_, err = n.Notify(context.Background(), firing())
			return err
		}},
		{"cloudflare REST", []string{cfToken}, func(t *testing.T, base string) error {
			var v any
			return cfapi.New(cfapi.Options{Token: cfToken, BaseURL: base}, &http.Client{}).Get(context.Background(), "/user/tokens/verify", &v)
		}},
		{"cloudflare GraphQL (a POST)", []string{cfToken}, func(t *testing.T, base string) error {
			_, err := cfapi.New(cfapi.Options{Token: cfToken, BaseURL: base}, &http.Client{}).Do(context.Background(), http.MethodPost, "/zones", []byte(`{"name":"example.com"}`), nil)
			return err
		}},
		{"posthog source", []string{phPersonal}, func(t *testing.T, base string) error {
			src := posthog.New(posthog.Options{Host: base, PersonalKey: phPersonal, ProjectID: "1", Now: func() time.Time { return t0 }, Sleep: noSleep}, &http.Client{}, nil)
			_, err := src.Collect(context.Background(), config.Product{ID: "shop", PostHog: config.PostHog{Host: "shop.example.com"}}, time.Time{})
			return err
		}},
		{"posthog sender (posthog-go and annotations)", []string{phProject, phPersonal}, func(t *testing.T, base string) error {
			s := posthog.NewSender(posthog.Options{Host: base, PersonalKey: phPersonal, ProjectID: "1", ProjectKey: phProject,
				Now: func() time.Time { return t0 }, Sleep: noSleep}, store.Open(t.TempDir()), &http.Client{}, nil)
			s.Wait = 2 * time.Second
			return s.Send(context.Background(), []posthog.Event{
				posthog.DeploymentEvent("shop", record.Deployment{ID: "run:1", SHA: "abcdef1234", Time: t0.Add(-time.Hour), Outcome: "success"}),
			})
		}},
		{"slack", []string{hookPath}, func(t *testing.T, base string) error {
			_, err := slack.New(slack.Config{WebhookURL: base + hookPath}, &http.Client{}, nil).Notify(context.Background(), firing())
			return err
		}},
		{"pagerduty", []string{routingKey}, func(t *testing.T, base string) error {
			_, err := pagerduty.New(pagerduty.Config{RoutingKey: routingKey, EventsURL: base + "/v2/enqueue"}, &http.Client{}, nil).Notify(context.Background(), firing())
			return err
		}},
	}
}

// forms are the ways a secret can travel: as it is, URL-escaped, in base64 (Basic auth).
func forms(s string) []string {
	return []string{s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s)),
		strings.Trim(s, "/")}
}

// TestEveryClientKeepsItsCredentialsToItsOrigin points every client at an API that redirects
// to another origin (another port counts) and checks, on a second listener, that no request
// arriving there holds a secret: GETs follow the redirect without credentials, and a request
// whose body would be sent again (307, 308) is refused.
func TestEveryClientKeepsItsCredentialsToItsOrigin(t *testing.T) {
	for _, cc := range clientCases() {
		for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(cc.name+"/"+http.StatusText(status), func(t *testing.T) {
				rec := fake.NewRecorder(t)
				redir := fake.NewRedirector(t, status, rec.URL+"/moved")
				done := make(chan error, 1)
				go func() { done <- cc.call(t, redir.URL) }()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("the call did not end")
				}
				for _, r := range rec.Requests() {
					for _, s := range cc.secrets {
						for _, f := range forms(s) {
							if strings.Contains(r.String(), f) {
								t.Errorf("the other origin received %q:\n%s", f, r)
							}
						}
					}
				}
			})
		}
	}
}

// TestEveryClientSaysItGotHTML answers every client with a login page (HTTP 200, text/html), as
// a proxy or single sign-on in front of an API does: each says so, not "invalid character '<'".
func TestEveryClientSaysItGotHTML(t *testing.T) {
	page := "<!doctype html><html><head><title>Sign in to Corp</title></head><body><form></form></body></html>"
	for _, cc := range clientCases() {
		t.Run(cc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, page)
			}))
			defer srv.Close()
			err := cc.call(t, srv.URL)
			if err == nil || !strings.Contains(err.Error(), "got HTML (a login page or proxy?)") {
				t.Errorf("err = %v, want it to say it got HTML", err)
			}
			if err != nil && strings.Contains(err.Error(), "invalid character") {
				t.Errorf("err = %v: a JSON syntax error", err)
			}
		})
	}
}
