// Package dora computes the four DORA metrics, their levels and trends from stored records, as
// shared/specs/dora-definitions.md (the contract) defines them. It is pure: records and now in,
// figures out; no I/O.
package dora

import "time"

// Levels, from best to worst.
const (
	Elite  = "elite"
	High   = "high"
	Medium = "medium"
	Low    = "low"
)

// Trends.
const (
	Improving = "improving"
	Declining = "declining"
	Flat      = "flat"
)

// Report is the output of `portfolio dora --json`.
type Report struct {
	Now        time.Time       `json:"now"`
	WindowDays int             `json:"window_days"`
	Products   []ProductReport `json:"products"`
	Portfolio  Comparison      `json:"portfolio"`
}

// ProductReport is one product's figures.
type ProductReport struct {
	ID string `json:"id"`
	Comparison
}

// Comparison holds the current and previous window and the trend between them.
type Comparison struct {
	Current  Figures `json:"current"`
	Previous Figures `json:"previous"`
	Trend    Trend   `json:"trend"`
}

// Trend per metric: improving, declining or flat.
type Trend struct {
	DeploymentFrequency string `json:"deployment_frequency"`
	LeadTime            string `json:"lead_time"`
	ChangeFailureRate   string `json:"change_failure_rate"`
	TimeToRestore       string `json:"time_to_restore"`
}

// Figures are the four metrics over one window. Pointers are null when there is no data.
type Figures struct {
	DeploymentFrequency DeploymentFrequency `json:"deployment_frequency"`
	LeadTime            LeadTime            `json:"lead_time"`
	ChangeFailureRate   ChangeFailureRate   `json:"change_failure_rate"`
	TimeToRestore       TimeToRestore       `json:"time_to_restore"`
}

// DeploymentFrequency counts deployments in the window.
type DeploymentFrequency struct {
	Successful int     `json:"successful"`
	Failed     int     `json:"failed"`
	PerDay     float64 `json:"per_day"`
	Level      *string `json:"level"`
}

// LeadTime summarises the lead times of the window's changes.
type LeadTime struct {
	Changes       int      `json:"changes"`
	MedianSeconds *float64 `json:"median_seconds"`
	MeanSeconds   *float64 `json:"mean_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	Level         *string  `json:"level"`
}

// ChangeFailureRate is the share of deployments that failed or caused an incident.
type ChangeFailureRate struct {
	Failed              int      `json:"failed"`
	IncidentDeployments int      `json:"incident_deployments"`
	Total               int      `json:"total"`
	Rate                *float64 `json:"rate"`
	Level               *string  `json:"level"`
}

// TimeToRestore summarises how long incidents closed in the window lasted.
type TimeToRestore struct {
	Incidents         int      `json:"incidents"`
	MedianSeconds     *float64 `json:"median_seconds"`
	MeanSeconds       *float64 `json:"mean_seconds"`
	OpenIncidents     int      `json:"open_incidents"`
	OldestOpenSeconds *float64 `json:"oldest_open_seconds"`
	Level             *string  `json:"level"`
}
