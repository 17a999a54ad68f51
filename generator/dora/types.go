// Package dora computes the DORA metrics, their levels and trends from stored records, as
// docs/dora.md defines them: the four keys, and the newer reports' failed deployment recovery
// time and deployment rework rate. It is pure: records and now in, figures out; no I/O.
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
	// Detail names the current window's failures and rework deployments (for recommendations
	// and pages); it is not part of the JSON.
	Detail *Detail `json:"-"`
}

// Trend per metric: improving, declining or flat.
type Trend struct {
	DeploymentFrequency string `json:"deployment_frequency"`
	LeadTime            string `json:"lead_time"`
	ChangeFailureRate   string `json:"change_failure_rate"`
	TimeToRestore       string `json:"time_to_restore"`

	FailedDeploymentRecoveryTime string `json:"failed_deployment_recovery_time"`
	ReworkRate                   string `json:"rework_rate"`
}

// Figures are the metrics over one window. Pointers are null when there is no data.
type Figures struct {
	DeploymentFrequency DeploymentFrequency `json:"deployment_frequency"`
	LeadTime            LeadTime            `json:"lead_time"`
	ChangeFailureRate   ChangeFailureRate   `json:"change_failure_rate"`
	TimeToRestore       TimeToRestore       `json:"time_to_restore"`

	FailedDeploymentRecoveryTime FailedDeploymentRecoveryTime `json:"failed_deployment_recovery_time"`
	ReworkRate                   ReworkRate                   `json:"rework_rate"`
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

// FailedDeploymentRecoveryTime summarises how long the window's failures (failed deployments,
// and successful deployments that caused an incident) took to recover. The median and mean are
// over the recovered ones; the level uses time to restore's bands.
type FailedDeploymentRecoveryTime struct {
	Failures      int      `json:"failures"`
	Recovered     int      `json:"recovered"`
	Unrecovered   int      `json:"unrecovered"`
	MedianSeconds *float64 `json:"median_seconds"`
	MeanSeconds   *float64 `json:"mean_seconds"`
	Level         *string  `json:"level"`
}

// ReworkRate is the share of the window's successful deployments that were unplanned rework:
// the first success after a failed deployment, or a fix shipped during an incident. The reports
// publish no bands for it, so Level is always null.
type ReworkRate struct {
	Rework     int      `json:"rework"`
	Successful int      `json:"successful"`
	Rate       *float64 `json:"rate"`
	Level      *string  `json:"level"`
}

// Failure kinds.
const (
	FailureDeployment = "failed_deployment" // the deployment failed
	FailureIncident   = "incident"          // the deployment succeeded and caused an incident
)

// Detail lists what the current window's failure figures are made of, newest first.
type Detail struct {
	Failures []Failure
	Rework   []Rework
	Pooled   bool // the portfolio's: failures of several products
}

// Failure is one failure of the window and its recovery.
type Failure struct {
	Product    string
	Deployment string // record id ("run:123")
	SHA        string
	Time       time.Time
	Kind       string // FailureDeployment or FailureIncident
	Incidents  []int  // the incidents attributed to it (FailureIncident), by number
	Recovered  bool
	// Seconds is the recovery time, or for an unrecovered failure its age at now.
	Seconds float64
	// RecoveredBy is the sha of the successful deployment that recovered a failed deployment.
	RecoveredBy string
}

// Rework is one rework deployment of the window and why it is rework.
type Rework struct {
	Product    string
	Deployment string
	SHA        string
	Time       time.Time
	// AfterFailed are the shas of the failed deployments it recovered; DuringIncidents the
	// numbers of the incidents it shipped during. At least one is set.
	AfterFailed     []string
	DuringIncidents []int
}
