package healthchecks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
)

// Action is what a change does.
type Action string

// Actions, in the words of the plan.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Kind is the kind of Cloudflare object a change touches.
type Kind string

// Kinds of managed objects.
const (
	KindHealthcheck Kind = "healthcheck"
	KindPolicy      Kind = "notification_policy"
	KindWebhook     Kind = "webhook_destination"
)

// Field is one managed field a change sets. Old is absent on a create, New is absent when the
// field is removed; KnownAfterApply marks a value that depends on an object the same apply
// creates, and Secret a value that is never shown.
type Field struct {
	Name            string `json:"field"`
	Old             any    `json:"old,omitempty"`
	New             any    `json:"new,omitempty"`
	KnownAfterApply bool   `json:"known_after_apply,omitempty"`
	Secret          bool   `json:"secret,omitempty"`
}

// Change is one call apply will make.
type Change struct {
	Action  Action  `json:"action"`
	Kind    Kind    `json:"kind"`
	Name    string  `json:"name"`
	Product string  `json:"product,omitempty"`
	Zone    string  `json:"zone,omitempty"`
	ID      string  `json:"id,omitempty"` // the existing object's id (update, delete)
	Fields  []Field `json:"fields,omitempty"`

	check  *Check
	policy *Policy
	base   json.RawMessage // the object as read, for an update
	have   *RemotePolicy   // the policy as read, for an update
}

// Conflict is an object in the way of a managed one that is not marked as managed: it is
// never touched, and its product gets nothing until a human resolves it.
type Conflict struct {
	Kind    Kind   `json:"kind"`
	Name    string `json:"name"`
	Product string `json:"product"`
	Zone    string `json:"zone,omitempty"`
	ID      string `json:"id"`
	Reason  string `json:"reason"`
}

// Unmanaged counts the objects left alone because they are not marked as managed.
type Unmanaged struct {
	Healthchecks int `json:"healthchecks"`
	Policies     int `json:"notification_policies"`
	Webhooks     int `json:"webhook_destinations"`
}

// Summary counts the changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// Plan is the difference between the desired and the remote state, as the calls that close it,
// in the order apply makes them: destinations and checks exist before the policies that name
// them, and policies go before the checks and destinations they name.
type Plan struct {
	Changes   []Change   `json:"changes"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	Skipped   []Skip     `json:"skipped,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
	Zones     []string   `json:"zones"`
	Unmanaged Unmanaged  `json:"unmanaged"`
	Summary   Summary    `json:"summary"`

	checkIDs  map[string]string // product → id of its kept managed check
	webhookID string            // the kept managed Slack destination
	slack     string            // the Slack URL (secret) a created destination gets
}

// InSync reports whether Cloudflare matches the config: no changes and no conflicts.
func (p *Plan) InSync() bool { return len(p.Changes) == 0 && len(p.Conflicts) == 0 }

// Compute diffs the desired state against the remote one. It is pure.
func Compute(d Desired, r Remote) *Plan {
	p := &Plan{
		Changes:  []Change{},
		Skipped:  d.Skipped,
		Warnings: d.Warnings,
		Zones:    r.Zones,
		checkIDs: map[string]string{},
		slack:    d.Slack,
	}
	if p.Zones == nil {
		p.Zones = []string{}
	}
	p.planWebhook(d, r)
	conflicted := p.planChecks(d, r)
	p.planPolicies(d, r, conflicted)
	slices.SortStableFunc(p.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.phase(), b.phase()), strings.Compare(a.Name, b.Name),
			strings.Compare(a.Zone, b.Zone), strings.Compare(a.ID, b.ID))
	})
	slices.SortFunc(p.Conflicts, func(a, b Conflict) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			p.Summary.Create++
		case Update:
			p.Summary.Update++
		case Delete:
			p.Summary.Delete++
		}
	}
	return p
}

// phase orders the changes so that every object exists before something names it and is
// named by nothing when it goes.
func (c Change) phase() int {
	switch {
	case c.Kind == KindWebhook && c.Action == Create:
		return 0
	case c.Kind == KindHealthcheck && c.Action != Delete:
		return 1
	case c.Kind == KindPolicy && c.Action != Delete:
		return 2
	case c.Kind == KindPolicy:
		return 3
	case c.Kind == KindHealthcheck:
		return 4
	default:
		return 5
	}
}

func (p *Plan) planWebhook(d Desired, r Remote) {
	var managed []RemoteWebhook
	for _, w := range r.Webhooks {
		if isWebhookName(w.Name) {
			managed = append(managed, w)
		} else {
			p.Unmanaged.Webhooks++
		}
	}
	if !d.ManageWebhook {
		return // the Slack URL is unknown here: keep whatever exists
	}
	// The destination to keep is the one named for the URL (WebhookNameFor): the comparison
	// rests on what Cloudflare returns, the name, and never on the URL, which it may mask.
	// One made before names carried the digest is kept only while Cloudflare shows its URL
	// as the configured one.
	name := ""
	if d.Slack != "" {
		name = WebhookNameFor(d.Slack)
	}
	named := func(w RemoteWebhook) int {
		if w.Name == name {
			return 0
		}
		return 1
	}
	slices.SortFunc(managed, func(a, b RemoteWebhook) int {
		return cmp.Or(cmp.Compare(named(a), named(b)), strings.Compare(a.ID, b.ID))
	})
	for _, w := range managed {
		if name != "" && p.webhookID == "" && (w.Name == name || w.Name == WebhookName && w.URL == d.Slack) {
			p.webhookID = w.ID
			continue
		}
		p.Changes = append(p.Changes, Change{Action: Delete, Kind: KindWebhook, Name: w.Name, ID: w.ID})
	}
	if name != "" && p.webhookID == "" {
		p.Changes = append(p.Changes, Change{Action: Create, Kind: KindWebhook, Name: name, Fields: []Field{
			{Name: "name", New: name},
			{Name: "url", New: "$" + d.SlackEnv, Secret: true},
		}})
	}
}

// planChecks plans the health checks and returns the products left alone because an
// unmanaged check is in the way.
func (p *Plan) planChecks(d Desired, r Remote) map[string]bool {
	managed := map[string][]RemoteCheck{} // product → its managed checks
	byName := map[string][]RemoteCheck{}  // zone + name → unmanaged checks
	for _, rc := range r.Checks {
		if prod, _, ok := parseMarker(rc.Description); ok {
			managed[prod] = append(managed[prod], rc)
			continue
		}
		p.Unmanaged.Healthchecks++
		byName[rc.Zone+"/"+rc.Name] = append(byName[rc.Zone+"/"+rc.Name], rc)
	}
	conflicted := map[string]bool{}
	wanted := map[string]bool{}
	for i := range d.Checks {
		want := &d.Checks[i]
		wanted[want.Product] = true
		mine := managed[want.Product]
		// The one to keep: in the right zone, named right if possible, then the oldest id.
		slices.SortFunc(mine, func(a, b RemoteCheck) int {
			return cmp.Or(-cmpBool(a.Zone == want.Zone, b.Zone == want.Zone),
				-cmpBool(a.Name == want.Name, b.Name == want.Name), strings.Compare(a.ID, b.ID))
		})
		kept := false
		for _, rc := range mine {
			if !kept && rc.Zone == want.Zone {
				kept = true
				p.checkIDs[want.Product] = rc.ID
				if fields := diffCheck(rc, *want); len(fields) > 0 {
					p.Changes = append(p.Changes, Change{Action: Update, Kind: KindHealthcheck, Name: rc.Name,
						Product: want.Product, Zone: rc.Zone, ID: rc.ID, Fields: fields, check: want, base: rc.raw})
				}
				continue
			}
			p.Changes = append(p.Changes, deleteCheck(rc, want.Product))
		}
		if kept {
			continue
		}
		if others := byName[want.Zone+"/"+want.Name]; len(others) > 0 {
			conflicted[want.Product] = true
			for _, o := range others {
				p.Conflicts = append(p.Conflicts, Conflict{Kind: KindHealthcheck, Name: o.Name, Product: want.Product, Zone: o.Zone, ID: o.ID,
					Reason: fmt.Sprintf("has the managed name but not the marker %q in its description; left alone: add the marker to adopt it, or rename it", markerPrefix)})
			}
			continue
		}
		p.Changes = append(p.Changes, Change{Action: Create, Kind: KindHealthcheck, Name: want.Name, Product: want.Product,
			Zone: want.Zone, Fields: diffCheck(RemoteCheck{}, *want), check: want})
	}
	prods := make([]string, 0, len(managed))
	for prod := range managed {
		prods = append(prods, prod)
	}
	slices.Sort(prods)
	for _, prod := range prods {
		if wanted[prod] {
			continue
		}
		for _, rc := range managed[prod] {
			p.Changes = append(p.Changes, deleteCheck(rc, prod))
		}
	}
	return conflicted
}

func deleteCheck(rc RemoteCheck, product string) Change {
	return Change{Action: Delete, Kind: KindHealthcheck, Name: rc.Name, Product: product, Zone: rc.Zone, ID: rc.ID}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// checkFields are the managed fields of a health check, in the order they are shown.
func checkFields(c Check) []Field {
	return []Field{
		{Name: "name", New: c.Name},
		{Name: "description", New: c.Description},
		{Name: "address", New: c.Address},
		{Name: "type", New: c.Type},
		{Name: "suspended", New: c.Suspended},
		{Name: "interval", New: c.Interval},
		{Name: "retries", New: c.Retries},
		{Name: "timeout", New: c.Timeout},
		{Name: "check_regions", New: c.CheckRegions},
		{Name: "http_config.method", New: c.Method},
		{Name: "http_config.port", New: c.Port},
		{Name: "http_config.path", New: c.Path},
		{Name: "http_config.expected_codes", New: c.ExpectedCodes},
		{Name: "http_config.follow_redirects", New: c.FollowRedirects},
	}
}

// remoteCheck reads the managed fields of a check as Cloudflare has it, normalised like the
// desired ones (lists sorted, the default port filled in).
func remoteCheck(rc RemoteCheck) Check {
	c := Check{
		Name: rc.Name, Description: rc.Description, Address: rc.Address, Type: rc.Type,
		Suspended: rc.Suspended, Interval: rc.Interval, Retries: rc.Retries, Timeout: rc.Timeout,
		CheckRegions: sortedUnique(rc.CheckRegions),
	}
	if h := rc.HTTPConfig; h != nil {
		c.Method, c.Port, c.Path = h.Method, int(h.Port), h.Path
		c.ExpectedCodes = sortedUnique(h.ExpectedCodes)
		c.FollowRedirects = h.FollowRedirects
	}
	if c.Port == 0 { // the API's default port for the type
		switch c.Type {
		case "HTTP":
			c.Port = 80
		case "HTTPS":
			c.Port = 443
		}
	}
	return c
}

// diffCheck lists the managed fields that differ; from a zero RemoteCheck (a create) every
// field, without old values.
func diffCheck(rc RemoteCheck, want Check) []Field {
	wantF := checkFields(want)
	if rc.ID == "" {
		return wantF
	}
	haveF := checkFields(remoteCheck(rc))
	var out []Field
	for i, w := range wantF {
		if !equalValue(haveF[i].New, w.New) {
			out = append(out, Field{Name: w.Name, Old: haveF[i].New, New: w.New})
		}
	}
	return out
}

func equalValue(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok || bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// planPolicies plans the notification policies. A product with a conflicting check is left
// alone entirely.
func (p *Plan) planPolicies(d Desired, r Remote, conflicted map[string]bool) {
	managed := map[string][]RemotePolicy{}
	for _, rp := range r.Policies {
		if prod, _, ok := parseMarker(rp.Description); ok {
			managed[prod] = append(managed[prod], rp)
		} else {
			p.Unmanaged.Policies++
		}
	}
	wanted := map[string]bool{}
	for i := range d.Policies {
		want := &d.Policies[i]
		if conflicted[want.Product] {
			wanted[want.Product] = true
			continue
		}
		wanted[want.Product] = true
		mine := managed[want.Product]
		slices.SortFunc(mine, func(a, b RemotePolicy) int {
			return cmp.Or(-cmpBool(a.Name == want.Name, b.Name == want.Name), strings.Compare(a.ID, b.ID))
		})
		var have *RemotePolicy
		if len(mine) > 0 {
			have = &mine[0]
		}
		if v := desiredPolicy(*want, have, "-", "-"); len(v.mechanisms) == 0 {
			// Only a Slack destination is wanted and its URL is unknown here: a policy without
			// any mechanism would be refused, so the product waits for a run that has the URL.
			p.Warnings = append(p.Warnings, fmt.Sprintf("product %s: its notification policy would send only to Slack, whose URL is not set here; left as it is", want.Product))
			continue
		}
		if len(mine) == 0 {
			p.Changes = append(p.Changes, Change{Action: Create, Kind: KindPolicy, Name: want.Name, Product: want.Product,
				Zone: want.Zone, Fields: p.diffPolicy(nil, *want), policy: want})
			continue
		}
		keep := mine[0]
		if fields := p.diffPolicy(&keep, *want); len(fields) > 0 {
			p.Changes = append(p.Changes, Change{Action: Update, Kind: KindPolicy, Name: keep.Name, Product: want.Product,
				Zone: want.Zone, ID: keep.ID, Fields: fields, policy: want, base: keep.raw, have: &keep})
		}
		for _, extra := range mine[1:] {
			p.Changes = append(p.Changes, deletePolicy(extra, want.Product))
		}
	}
	prods := make([]string, 0, len(managed))
	for prod := range managed {
		prods = append(prods, prod)
	}
	slices.Sort(prods)
	for _, prod := range prods {
		if wanted[prod] || conflicted[prod] {
			continue
		}
		for _, rp := range managed[prod] {
			p.Changes = append(p.Changes, deletePolicy(rp, prod))
		}
	}
}

func deletePolicy(rp RemotePolicy, product string) Change {
	_, zone, _ := parseMarker(rp.Description)
	return Change{Action: Delete, Kind: KindPolicy, Name: rp.Name, Product: product, Zone: zone, ID: rp.ID}
}

// policyValue is a policy's managed fields. Lists of ids are sorted; an empty string in a list
// stands for an id known after apply.
type policyValue struct {
	name, description, alertType string
	enabled                      bool
	filters                      map[string][]string
	mechanisms                   map[string][]string
}

// desiredPolicy is the wanted policy given the ids of its check and of the Slack destination
// ("" while unknown).
func desiredPolicy(want Policy, have *RemotePolicy, checkID, webhookID string) policyValue {
	v := policyValue{name: want.Name, description: want.Description, alertType: AlertType, enabled: true,
		filters: map[string][]string{}, mechanisms: map[string][]string{}}
	v.filters["health_check_id"] = []string{checkID}
	if len(want.Emails) > 0 {
		v.mechanisms["email"] = want.Emails
	}
	switch {
	case want.KeepWebhooks:
		if have != nil {
			if ids := mechanismIDs(have.Mechanisms["webhooks"]); len(ids) > 0 {
				v.mechanisms["webhooks"] = ids
			}
		}
	case want.Webhook:
		v.mechanisms["webhooks"] = []string{webhookID}
	}
	return v
}

func mechanismIDs(m cloudflare.NotificationMechanismIntegrations) []string {
	ids := make([]string, 0, len(m))
	for _, x := range m {
		ids = append(ids, x.ID)
	}
	return sortedUnique(ids)
}

func remotePolicy(rp RemotePolicy) policyValue {
	v := policyValue{name: rp.Name, description: rp.Description, alertType: rp.AlertType, enabled: rp.Enabled,
		filters: map[string][]string{}, mechanisms: map[string][]string{}}
	for k, ids := range rp.Filters {
		v.filters[k] = sortedUnique(ids)
	}
	for k, m := range rp.Mechanisms {
		v.mechanisms[k] = mechanismIDs(m)
	}
	return v
}

// diffPolicy lists the managed fields of a policy that differ (all of them for a create).
func (p *Plan) diffPolicy(have *RemotePolicy, want Policy) []Field {
	w := desiredPolicy(want, have, p.checkIDs[want.Product], p.webhookID)
	var h policyValue
	if have != nil {
		h = remotePolicy(*have)
	}
	var out []Field
	scalar := func(name string, old, new any) {
		if have == nil {
			out = append(out, Field{Name: name, New: new})
		} else if old != new {
			out = append(out, Field{Name: name, Old: old, New: new})
		}
	}
	scalar("name", h.name, w.name)
	scalar("description", h.description, w.description)
	scalar("enabled", h.enabled, w.enabled)
	scalar("alert_type", h.alertType, w.alertType)
	lists := func(prefix string, have, want map[string][]string) {
		keys := make([]string, 0, len(have)+len(want))
		for k := range have {
			keys = append(keys, k)
		}
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			hv, inHave := have[k]
			wv, inWant := want[k]
			if inHave && inWant && slices.Equal(hv, wv) {
				continue
			}
			f := Field{Name: prefix + "." + k}
			if inHave {
				f.Old = hv
			}
			if inWant {
				if slices.Contains(wv, "") {
					f.KnownAfterApply = true
				} else {
					f.New = wv
				}
			}
			out = append(out, f)
		}
	}
	lists("filters", h.filters, w.filters)
	lists("mechanisms", h.mechanisms, w.mechanisms)
	return out
}
