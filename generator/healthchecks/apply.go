package healthchecks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// Step is the outcome of one change: the id of the object it made or touched, or its error.
type Step struct {
	Change Change
	ID     string
	Err    error
}

// Report says what an apply did: the changes applied, the one that failed (if any) and the
// ones not attempted because of it.
type Report struct {
	Applied    []Step
	Failed     *Step
	NotApplied []Change
}

// Apply makes the plan's changes in order, calling progress after each, and stops at the first
// failure. The error names the failed change; the report says what was and was not applied.
func Apply(ctx context.Context, c *Client, p *Plan, progress func(Step)) (Report, error) {
	var rep Report
	checkIDs := maps.Clone(p.checkIDs)
	if checkIDs == nil {
		checkIDs = map[string]string{}
	}
	webhookID := p.webhookID
	for i, ch := range p.Changes {
		id, err := apply(ctx, c, ch, p.slack, checkIDs, webhookID)
		st := Step{Change: ch, ID: id, Err: err}
		if progress != nil {
			progress(st)
		}
		if err != nil {
			rep.Failed = &st
			rep.NotApplied = p.Changes[i+1:]
			return rep, fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.Name, err)
		}
		rep.Applied = append(rep.Applied, st)
		switch {
		case ch.Kind == KindHealthcheck && ch.Action == Create:
			checkIDs[ch.Product] = id
		case ch.Kind == KindWebhook && ch.Action == Create:
			webhookID = id
		}
	}
	return rep, nil
}

func apply(ctx context.Context, c *Client, ch Change, slack string, checkIDs map[string]string, webhookID string) (string, error) {
	switch ch.Kind {
	case KindHealthcheck:
		switch ch.Action {
		case Create:
			body, err := checkBody(*ch.check, nil)
			if err != nil {
				return "", err
			}
			return c.create(ctx, c.checkPath(ch.Zone, ""), body)
		case Update:
			body, err := checkBody(*ch.check, ch.base)
			if err != nil {
				return "", err
			}
			return ch.ID, c.replace(ctx, c.checkPath(ch.Zone, ch.ID), body)
		case Delete:
			// The description marks this DELETE's JSON body required; it is empty.
			return ch.ID, c.remove(ctx, c.checkPath(ch.Zone, ch.ID), []byte("{}"))
		}
	case KindPolicy:
		if ch.Action == Delete {
			return ch.ID, c.remove(ctx, c.policyPath(ch.ID), nil)
		}
		want := desiredPolicy(*ch.policy, ch.have, checkIDs[ch.Product], webhookID)
		if want.filters["health_check_id"][0] == "" {
			return "", errors.New("its health check has no id (it was not created)")
		}
		if ids := want.mechanisms["webhooks"]; len(ids) > 0 && ids[0] == "" {
			return "", errors.New("the Slack webhook destination has no id (it was not created)")
		}
		body, err := policyBody(want, ch.base)
		if err != nil {
			return "", err
		}
		if ch.Action == Create {
			return c.create(ctx, c.policyPath(""), body)
		}
		return ch.ID, c.replace(ctx, c.policyPath(ch.ID), body)
	case KindWebhook:
		switch ch.Action {
		case Create:
			body, err := json.Marshal(map[string]string{"name": WebhookNameFor(slack), "url": slack})
			if err != nil {
				return "", err
			}
			return c.create(ctx, c.webhookPath(""), body)
		case Delete:
			return ch.ID, c.remove(ctx, c.webhookPath(ch.ID), nil)
		}
	}
	return "", fmt.Errorf("cannot %s a %s", ch.Action, ch.Kind)
}

// objectBase decodes an object as read, without the fields the API sets itself, so an update
// keeps the fields this program does not manage.
func objectBase(base json.RawMessage, readOnly ...string) (map[string]any, error) {
	m := map[string]any{}
	if len(base) > 0 {
		if err := json.Unmarshal(base, &m); err != nil {
			return nil, fmt.Errorf("decode the object as read: %w", err)
		}
	}
	for _, k := range readOnly {
		delete(m, k)
	}
	return m, nil
}

// checkBody is the health check to send: the managed fields over the object as read.
func checkBody(c Check, base json.RawMessage) ([]byte, error) {
	m, err := objectBase(base, "id", "created_on", "modified_on", "status", "failure_reason")
	if err != nil {
		return nil, err
	}
	hc, _ := m["http_config"].(map[string]any)
	if hc == nil {
		hc = map[string]any{}
	}
	hc["method"] = c.Method
	hc["port"] = c.Port
	hc["path"] = c.Path
	hc["expected_codes"] = c.ExpectedCodes
	hc["follow_redirects"] = c.FollowRedirects
	m["http_config"] = hc
	delete(m, "tcp_config")
	m["name"] = c.Name
	m["description"] = c.Description
	m["address"] = c.Address
	m["type"] = c.Type
	m["suspended"] = c.Suspended
	m["interval"] = c.Interval
	m["retries"] = c.Retries
	m["timeout"] = c.Timeout
	m["check_regions"] = c.CheckRegions
	return json.Marshal(m) // map keys come out sorted
}

// policyBody is the notification policy to send: the managed fields over the policy as read.
func policyBody(v policyValue, base json.RawMessage) ([]byte, error) {
	m, err := objectBase(base, "id", "created", "modified")
	if err != nil {
		return nil, err
	}
	mech := map[string][]map[string]string{}
	for k, ids := range v.mechanisms {
		for _, id := range ids {
			mech[k] = append(mech[k], map[string]string{"id": id})
		}
	}
	m["name"] = v.name
	m["description"] = v.description
	m["enabled"] = v.enabled
	m["alert_type"] = v.alertType
	m["filters"] = v.filters
	m["mechanisms"] = mech
	return json.Marshal(m)
}
