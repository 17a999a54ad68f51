package ci

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// An evaluator of GitHub Actions expressions, enough to decide which jobs and steps of a
// workflow run and with what env, for a given trigger. actionlint parses expressions and
// checks their types but does not evaluate them, so this is written here, following GitHub's
// documented semantics ("Evaluate expressions in workflows and actions"):
//   - && and || return one of their operands, like JavaScript; false, 0, -0, "", null and NaN are
//     falsy;
//   - == and != compare loosely: values of different types are both turned into numbers (null
//     is 0, true 1, false 0, a string its number or NaN, "" 0; arrays and objects NaN), so
//     null == false is true; strings compare ignoring case;
//   - a property of null, or one an object lacks, is null; property names ignore case.
// Values are nil, bool, float64, string, map[string]any and []any.

// exprEnv is what an expression can read: the contexts (github, inputs, vars, needs, matrix,
// env, steps) and the outcome the status functions report.
type exprEnv struct {
	contexts map[string]any
	// cancelled, failed: the run was cancelled; a job this one needs (job level) or an earlier
	// step (step level) failed.
	cancelled, failed bool
}

func evalExpr(src string, env exprEnv) (any, error) {
	node, perr := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(src + "}}"))
	if perr != nil {
		return nil, fmt.Errorf("%q: %s", src, perr.Message)
	}
	return env.eval(node)
}

// evalTemplate evaluates a workflow value: an if: condition (bare or in ${{ }}) when cond, else
// a string with ${{ }} in it. A value that is one ${{ }} and nothing else keeps its type.
func evalTemplate(s string, env exprEnv, cond bool) (any, error) {
	t := strings.TrimSpace(s)
	if cond && !strings.Contains(t, "${{") {
		return evalExpr(t, env)
	}
	if strings.HasPrefix(t, "${{") && strings.HasSuffix(t, "}}") && strings.Count(t, "${{") == 1 {
		return evalExpr(strings.TrimSuffix(strings.TrimPrefix(t, "${{"), "}}"), env)
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q: unclosed ${{", s)
		}
		v, err := evalExpr(s[i+3:i+j], env)
		if err != nil {
			return nil, err
		}
		b.WriteString(s[:i] + toString(v))
		s = s[i+j+2:]
	}
}

func (e exprEnv) eval(n actionlint.ExprNode) (any, error) {
	switch n := n.(type) {
	case *actionlint.NullNode:
		return nil, nil
	case *actionlint.BoolNode:
		return n.Value, nil
	case *actionlint.IntNode:
		return float64(n.Value), nil
	case *actionlint.FloatNode:
		return n.Value, nil
	case *actionlint.StringNode:
		return n.Value, nil
	case *actionlint.VariableNode:
		return lookup(e.contexts, n.Name), nil
	case *actionlint.ObjectDerefNode:
		r, err := e.eval(n.Receiver)
		if err != nil {
			return nil, err
		}
		m, _ := r.(map[string]any)
		return lookup(m, n.Property), nil
	case *actionlint.IndexAccessNode:
		r, err := e.eval(n.Operand)
		if err != nil {
			return nil, err
		}
		idx, err := e.eval(n.Index)
		if err != nil {
			return nil, err
		}
		switch r := r.(type) {
		case map[string]any:
			return lookup(r, toString(idx)), nil
		case []any:
			if f, ok := idx.(float64); ok && f >= 0 && int(f) < len(r) {
				return r[int(f)], nil
			}
		}
		return nil, nil
	case *actionlint.NotOpNode:
		v, err := e.eval(n.Operand)
		return !truthy(v), err
	case *actionlint.LogicalOpNode:
		l, err := e.eval(n.Left)
		if err != nil {
			return nil, err
		}
		if (n.Kind == actionlint.LogicalOpNodeKindAnd) != truthy(l) {
			return l, nil // && stops at a falsy left side, || at a truthy one
		}
		return e.eval(n.Right)
	case *actionlint.CompareOpNode:
		l, err := e.eval(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := e.eval(n.Right)
		if err != nil {
			return nil, err
		}
		return compare(n.Kind, l, r), nil
	case *actionlint.FuncCallNode:
		var args []any
		for _, a := range n.Args {
			v, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		return e.call(strings.ToLower(n.Callee), args)
	}
	return nil, fmt.Errorf("expression node %T: not evaluated by this test", n)
}

func (e exprEnv) call(name string, args []any) (any, error) {
	str := func(i int) string {
		if i < len(args) {
			return toString(args[i])
		}
		return ""
	}
	switch name {
	case "success":
		return !e.cancelled && !e.failed, nil
	case "failure":
		return !e.cancelled && e.failed, nil
	case "cancelled":
		return e.cancelled, nil
	case "always":
		return true, nil
	case "fromjson":
		var v any
		if err := json.Unmarshal([]byte(str(0)), &v); err != nil {
			return nil, fmt.Errorf("fromJSON(%q): %w", str(0), err)
		}
		return v, nil
	case "tojson":
		b, err := json.Marshal(args[0])
		return string(b), err
	case "contains":
		if list, ok := args[0].([]any); ok {
			for _, v := range list {
				if compare(actionlint.CompareOpNodeKindEq, v, args[1]).(bool) {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(strings.ToLower(str(0)), strings.ToLower(str(1))), nil
	case "startswith":
		return strings.HasPrefix(strings.ToLower(str(0)), strings.ToLower(str(1))), nil
	case "endswith":
		return strings.HasSuffix(strings.ToLower(str(0)), strings.ToLower(str(1))), nil
	case "format":
		out := str(0)
		for i := 1; i < len(args); i++ {
			out = strings.ReplaceAll(out, "{"+strconv.Itoa(i-1)+"}", str(i))
		}
		return out, nil
	}
	return nil, fmt.Errorf("function %s: not evaluated by this test", name)
}

// lookup reads a property, ignoring case; missing is null.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

func toNumber(v any) float64 {
	switch v := v.(type) {
	case nil:
		return 0
	case bool:
		if v {
			return 1
		}
		return 0
	case float64:
		return v
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

func compare(kind actionlint.CompareOpNodeKind, l, r any) any {
	if ls, ok := l.(string); ok {
		if rs, ok := r.(string); ok {
			c := strings.Compare(strings.ToLower(ls), strings.ToLower(rs))
			return cmpResult(kind, float64(c), 0)
		}
	}
	if kind.IsEqualityOp() {
		switch l.(type) {
		case map[string]any, []any: // objects are equal only to themselves: never, here
			return kind == actionlint.CompareOpNodeKindNotEq
		}
		if lb, ok := l.(bool); ok {
			if rb, ok := r.(bool); ok {
				return (lb == rb) == (kind == actionlint.CompareOpNodeKindEq)
			}
		}
	}
	return cmpResult(kind, toNumber(l), toNumber(r))
}

func cmpResult(kind actionlint.CompareOpNodeKind, a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return kind == actionlint.CompareOpNodeKindNotEq
	}
	switch kind {
	case actionlint.CompareOpNodeKindLess:
		return a < b
	case actionlint.CompareOpNodeKindLessEq:
		return a <= b
	case actionlint.CompareOpNodeKindGreater:
		return a > b
	case actionlint.CompareOpNodeKindGreaterEq:
		return a >= b
	case actionlint.CompareOpNodeKindEq:
		return a == b
	case actionlint.CompareOpNodeKindNotEq:
		return a != b
	}
	return false
}

// toString is how a value is put into a string (env, with:, run:).
func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestExprEvaluator pins the evaluator to GitHub's documented semantics, including the trap
// that made the old sharded workflow skip alerting and publishing on a schedule.
func TestExprEvaluator(t *testing.T) {
	schedule := exprEnv{contexts: map[string]any{"github": map[string]any{"event_name": "schedule"}, "inputs": map[string]any{}}}
	dispatchNoPublish := exprEnv{contexts: map[string]any{"github": map[string]any{"event_name": "workflow_dispatch"},
		"inputs": map[string]any{"publish": false}, "vars": map[string]any{"PORTFOLIO_SHARDS": "4"}}}
	for _, tc := range []struct {
		expr string
		env  exprEnv
		want any
	}{
		// The bug of issue 22: on a schedule inputs.publish is null, so this skipped alert and publish.
		{"inputs.publish && 'collect' || 'collect,alert,publish'", schedule, "collect,alert,publish"},
		{"inputs.publish", schedule, nil},
		{"null == false", schedule, true}, // loose equality: both are 0
		{"inputs.publish == false", schedule, true},
		{"github.event_name == 'workflow_dispatch' && !inputs.publish && 'alert,publish' || ''", schedule, ""},
		{"github.event_name == 'workflow_dispatch' && !inputs.publish && 'alert,publish' || ''", dispatchNoPublish, "alert,publish"},
		{"github.EVENT_NAME == 'Schedule'", schedule, true}, // names and strings ignore case
		{"fromJSON(vars.PORTFOLIO_SHARDS || '1') > 1", schedule, false},
		{"fromJSON(vars.PORTFOLIO_SHARDS || '1') > 1", dispatchNoPublish, true},
		{"vars.PORTFOLIO_SHARDS == 4", dispatchNoPublish, true},
		{"'' == 0", schedule, true},
		{"'abc' == 0", schedule, false}, // NaN equals nothing
		{"!cancelled() && needs.plan.result != 'failure'", schedule, true},
		{"format('{0}/{1}', 2, 4)", schedule, "2/4"},
		{"fromJSON('{\"include\":[{\"shard\":\"1/2\"}]}').include[0].shard", schedule, "1/2"},
	} {
		got, err := evalExpr(tc.expr, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("%s = %#v (%v), want %#v", tc.expr, got, err, tc.want)
		}
	}
}
