package alert

import "strings"

// RuleName is the rule in words, with its subject: "source failing (github)".
func (a Alert) RuleName() string {
	s := strings.ReplaceAll(a.Rule, "_", " ")
	if a.Subject != "" {
		s += " (" + a.Subject + ")"
	}
	return s
}

// UnitLevel is the unit of a DORA level-drop alert: value and threshold are level ranks
// (0 elite … 3 low), printed as the level's name.
const UnitLevel = "level"

// ValueText is the last value with its unit: "97.5%", "1840 ms", "3 runs", "medium".
func (a Alert) ValueText() string { return withUnit(a.Value, a.Unit) }

// ThresholdText is the threshold with its unit.
func (a Alert) ThresholdText() string { return withUnit(a.Threshold, a.Unit) }

func withUnit(v float64, unit string) string {
	s := num(v, 3)
	switch unit {
	case "":
		return s
	case UnitLevel: // a DORA level's rank: its name
		return LevelName(v)
	case "%", "×":
		return s + unit
	}
	return s + " " + unit
}
