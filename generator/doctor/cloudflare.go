package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/healthchecks"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// expiryWarning is how soon before a Cloudflare token expires the doctor says so.
const expiryWarning = 14 * 24 * time.Hour

// zoneUse is what the config wants of one zone.
type zoneUse struct {
	id           string
	hosts        []string
	healthchecks bool // some product reads (or manages) a health check there
}

// checkCloudflare checks the token (GET /user/tokens/verify), then per zone the analytics
// and health checks, the account's Workers analytics and notifications, and the Pages project.
func checkCloudflare(ctx context.Context, o Options) []Check {
	cfg := o.Config
	var zones []*zoneUse
	byID := map[string]*zoneUse{}
	var workers []string
	for _, p := range cfg.Products {
		c := p.Cloudflare
		if c.ZoneID != "" {
			z := byID[c.ZoneID]
			if z == nil {
				z = &zoneUse{id: c.ZoneID}
				byID[c.ZoneID] = z
				zones = append(zones, z)
			}
			if h := cmpOr(c.Hostname, hostOf(p.URL)); h != "" && !slices.Contains(z.hosts, h) {
				z.hosts = append(z.hosts, h)
			}
			z.healthchecks = z.healthchecks || !p.HealthCheck.Disabled || c.HealthcheckID != ""
		}
		if c.Worker != "" && !slices.Contains(workers, c.Worker) {
			workers = append(workers, c.Worker)
		}
	}
	pages := cfg.Publish.CloudflarePages
	policies := 0
	if d, err := healthchecks.DesiredState(cfg, ""); err == nil {
		policies = len(d.Policies)
	}
	if len(zones) == 0 && len(workers) == 0 && pages == nil {
		return []Check{{Name: "cloudflare", Status: Skip, Detail: "no product names a zone or a worker, and the site is not published to Pages"}}
	}

	tc := Check{Name: "cloudflare token"}
	token := o.Getenv(config.EnvCloudflareToken)
	account := o.Getenv(config.EnvCloudflareAccount)
	if token == "" {
		tc.Status = Warn
		tc.Detail = config.EnvCloudflareToken + " is not set: traffic, latency, errors and health checks are not collected"
		if pages != nil {
			tc.Detail += ", and the site is not published"
		}
		tc.Fix = "create an API token (docs/getting-started.md, \"Cloudflare\") and set the repository secret CLOUDFLARE_API_TOKEN"
		return []Check{tc}
	}
	api := cloudflare.New(cloudflare.Options{
		Token: token, BaseURL: o.Getenv(config.EnvCloudflareBaseURL), Redactor: o.Redactor, Now: func() time.Time { return o.Now },
		REST:    cloudflare.Limits{Retry: policy(retry.CloudflareHealthchecks(), o.Sleep)},
		GraphQL: cloudflare.Limits{Retry: policy(retry.CloudflareHealthchecks(), o.Sleep)},
	}, o.HTTPClient)
	st, err := api.VerifyToken(ctx, account)
	var ae *cloudflare.APIError
	switch {
	case errors.As(err, &ae) && ae.Has(1000):
		tc.Status, tc.Detail = Fail, "Cloudflare does not know the token ("+err.Error()+")"
		tc.Fix = "copy the token again from the Cloudflare dashboard (My Profile → API Tokens), or create one; an account-owned token also needs CLOUDFLARE_ACCOUNT_ID"
		return []Check{tc}
	case err != nil:
		tc.Status, tc.Detail = Fail, "cannot verify the token: "+err.Error()
		tc.Fix = "check " + config.EnvCloudflareToken + " and " + config.EnvCloudflareBaseURL
		return []Check{tc}
	case st.Status != "active":
		tc.Status, tc.Detail = Fail, "the token is "+st.Status
		tc.Fix = "roll or re-enable the token in the Cloudflare dashboard (My Profile → API Tokens)"
		return []Check{tc}
	}
	tc.Status = OK
	tc.Detail = "valid, active"
	if st.AccountOwned {
		tc.Detail += ", owned by account " + account
	}
	switch exp := st.ExpiresOn; {
	case exp.IsZero():
		tc.Detail += ", does not expire"
	case exp.Sub(o.Now) < expiryWarning:
		tc.Status = Warn
		tc.Detail += ", expires " + exp.UTC().Format("2006-01-02 15:04 MST")
		tc.Fix = "roll the token before it expires, and update the secret CLOUDFLARE_API_TOKEN"
	default:
		tc.Detail += ", expires " + exp.UTC().Format("2006-01-02")
	}
	out := []Check{tc}

	for _, z := range zones {
		out = append(out, checkZone(ctx, o, api, z))
	}
	needAccount := len(workers) > 0 || pages != nil || policies > 0
	if needAccount && account == "" {
		var what []string
		if len(workers) > 0 {
			what = append(what, "Workers analytics")
		}
		if policies > 0 {
			what = append(what, "health check notifications")
		}
		if pages != nil {
			what = append(what, "publishing to Pages")
		}
		return append(out, Check{Name: "cloudflare account", Status: Warn,
			Detail: config.EnvCloudflareAccount + " is not set: " + strings.Join(what, ", ") + " cannot work",
			Fix:    "set the repository secret CLOUDFLARE_ACCOUNT_ID (the dashboard shows it on the account's overview)"})
	}
	if len(workers) > 0 {
		out = append(out, checkWorkers(ctx, o, api, account, workers))
	}
	if policies > 0 {
		out = append(out, checkNotifications(ctx, api, account, policies))
	}
	if pages != nil {
		out = append(out, checkPages(ctx, api, account, pages.Project))
	}
	return out
}

func policy(p retry.Policy, s retry.Sleeper) *retry.Policy {
	p = p.WithSleep(s)
	return &p
}

func hostOf(u string) string {
	v, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return v.Hostname()
}

// refused says whether err is Cloudflare refusing the token a permission.
func refused(err error) bool {
	var ae *cloudflare.APIError
	var ge *cloudflare.GraphQLError
	return errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusUnauthorized || ae.Has(10000)) ||
		errors.As(err, &ge) && ge.Unauthorized()
}

// checkZone reads an hour of the zone's analytics and its health checks.
func checkZone(ctx context.Context, o Options, api *cloudflare.Client, z *zoneUse) Check {
	c := Check{Name: "cloudflare zone " + z.id}
	if len(z.hosts) > 0 {
		c.Name += " (" + strings.Join(z.hosts, ", ") + ")"
	}
	const q = `query($zoneTag: string, $start: Time, $end: Time) { viewer { zones(filter: {zoneTag: $zoneTag}) { total: httpRequestsAdaptiveGroups(limit: 1, filter: {datetime_geq: $start, datetime_lt: $end}) { count } } } }`
	end := o.Now.UTC().Truncate(time.Minute)
	var data struct {
		Viewer struct {
			Zones []json0 `json:"zones"`
		} `json:"viewer"`
	}
	var bad, fixes, good []string
	err := api.GraphQL(ctx, q, map[string]any{"zoneTag": z.id, "start": end.Add(-time.Hour).Format(time.RFC3339), "end": end.Format(time.RFC3339)}, &data)
	switch {
	case refused(err):
		bad = append(bad, "analytics refused ("+err.Error()+")")
		fixes = append(fixes, "add Zone → Analytics → Read for this zone to the token")
	case err != nil:
		bad = append(bad, "analytics: "+err.Error())
		fixes = append(fixes, "see the error; a field the zone's plan lacks needs a plan that has it")
	case len(data.Viewer.Zones) == 0:
		bad = append(bad, "the zone is unknown to the token")
		fixes = append(fixes, "check cloudflare.zone_id (the dashboard shows it on the zone's overview) and the token's zone resources")
	default:
		good = append(good, "analytics")
	}
	if z.healthchecks {
		_, err := api.Do(ctx, http.MethodGet, "/zones/"+url.PathEscape(z.id)+"/healthchecks?per_page=5", nil, nil)
		switch {
		case refused(err):
			bad = append(bad, "health checks refused ("+err.Error()+")")
			fixes = append(fixes, "add Zone → Health Checks → Read (Edit for portfolio healthchecks apply) for this zone to the token")
		case err != nil:
			bad = append(bad, "health checks: "+err.Error())
		default:
			good = append(good, "health checks")
		}
	}
	if len(bad) == 0 {
		c.Status, c.Detail = OK, "readable: "+strings.Join(good, ", ")
		return c
	}
	c.Status, c.Detail, c.Fix = Fail, strings.Join(bad, "; "), strings.Join(fixes, "; ")
	if len(good) > 0 {
		c.Detail += " (readable: " + strings.Join(good, ", ") + ")"
	}
	return c
}

// json0 is a JSON value the check does not read.
type json0 = map[string]any

// checkWorkers reads an hour of the account's Workers analytics.
func checkWorkers(ctx context.Context, o Options, api *cloudflare.Client, account string, workers []string) Check {
	c := Check{Name: "cloudflare workers (" + strings.Join(workers, ", ") + ")"}
	const q = `query($accountTag: string, $script: string, $start: Time, $end: Time) { viewer { accounts(filter: {accountTag: $accountTag}) { workersInvocationsAdaptive(limit: 1, filter: {scriptName: $script, datetime_geq: $start, datetime_leq: $end}) { sum { requests } } } } }`
	end := o.Now.UTC().Truncate(time.Minute)
	var data map[string]any
	err := api.GraphQL(ctx, q, map[string]any{"accountTag": account, "script": workers[0], "start": end.Add(-time.Hour).Format(time.RFC3339), "end": end.Format(time.RFC3339)}, &data)
	switch {
	case refused(err):
		c.Status, c.Detail, c.Fix = Fail, "analytics refused ("+err.Error()+")", "add Account → Account Analytics → Read to the token"
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
	default:
		c.Status, c.Detail = OK, "readable: Workers analytics"
	}
	return c
}

// checkNotifications reads the account's notification policies (portfolio healthchecks
// manages one per product with a health check).
func checkNotifications(ctx context.Context, api *cloudflare.Client, account string, policies int) Check {
	c := Check{Name: "cloudflare notifications"}
	_, err := api.Do(ctx, http.MethodGet, "/accounts/"+url.PathEscape(account)+"/alerting/v3/policies", nil, nil)
	switch {
	case refused(err):
		c.Status, c.Detail = Fail, "refused ("+err.Error()+"): portfolio healthchecks cannot manage the "+plural(policies, "notification policy", "notification policies")
		c.Fix = "add Account → Notifications → Read (Edit for portfolio healthchecks apply) to the token"
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
	default:
		c.Status, c.Detail = OK, "readable ("+plural(policies, "policy", "policies")+" to manage)"
	}
	return c
}

// checkPages reads the project, then asks for an upload token, which Cloudflare gives only to
// a token that may deploy (Cloudflare Pages Edit); the upload token is not used.
func checkPages(ctx context.Context, api *cloudflare.Client, account, project string) Check {
	c := Check{Name: "cloudflare pages " + project}
	base := "/accounts/" + url.PathEscape(account) + "/pages/projects/" + url.PathEscape(project)
	var p cloudflare.PagesProject
	err := api.Get(ctx, base, &p)
	var ae *cloudflare.APIError
	switch {
	case refused(err):
		c.Status, c.Detail = Fail, "refused ("+err.Error()+")"
		c.Fix = "add Account → Cloudflare Pages → Edit to the token"
		return c
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		c.Status, c.Detail = Fail, "no project "+project+" in account "+account
		c.Fix = "create it (Workers & Pages → Create → Pages → Direct Upload, named " + project + ") or fix publish.cloudflare_pages.project"
		return c
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	_, err = api.Do(ctx, http.MethodGet, base+"/upload-token", nil, nil)
	switch {
	case refused(err):
		c.Status, c.Detail = Fail, "may read the project but not deploy to it ("+err.Error()+")"
		c.Fix = "give the token Account → Cloudflare Pages → Edit (Read is not enough to publish)"
	case err != nil:
		c.Status, c.Detail = Fail, "upload token: "+err.Error()
	default:
		c.Status = OK
		c.Detail = fmt.Sprintf("may deploy (production branch %s)", cmpOr(p.ProductionBranch, "main"))
	}
	return c
}
