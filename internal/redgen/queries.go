package redgen

import (
	"fmt"
	"regexp"
	"strings"
)

// Query is one PromQL expression of the generated rules or dashboard.
type Query struct {
	// Source says where the expression comes from, such as
	// "record otelred:sli_error:ratio_rate1h",
	// "alert OtelredLatencyBudgetBurn (page, /slow)" or
	// "panel 3 Error ratio, target A".
	Source string
	// Expr is the expression, with the dashboard's variables substituted.
	Expr string
	// Panel is true for the dashboard's queries. Each of them returns data
	// once the service has served requests of its Signal (and, for the
	// burn-rate panels, the recording rules have run); an alert's
	// expression returns data only while it fires.
	Panel bool
	// Signal is what the expression reads: "http.server" (otelred's
	// middleware), "http.client" (otelred.NewTransport), "operation"
	// (otelred.NewOperations), [SignalGRPC] (otelredgrpc) or "runtime" (the
	// Go runtime's metrics). A service that does not have the signal (an
	// HTTP service has no gRPC calls) gets no data from the expression.
	Signal string
}

// Vars are the values substituted for the dashboard's variables.
type Vars struct {
	// Service is the value of $service, matched exactly.
	//
	// The zero value means every service (".*", as the "All" option).
	Service string
	// Route is the value of $route, matched exactly.
	//
	// The zero value means every route.
	Route string
	// Instance is the value of $instance, matched exactly.
	//
	// The zero value means every instance.
	Instance string
}

// rateInterval is the value of $__rate_interval in [Queries]. Grafana sets
// it to at least four scrape intervals: 1m covers scrapes every 15 s or
// more often.
const rateInterval = "1m"

// Queries returns every PromQL expression of the rules and of the dashboard
// generated from c, in file order, with the dashboard's variables replaced
// by v ($__rate_interval by 1m), so that a test can run each against a
// real Prometheus. Queries of
// the dashboard's variables (label_values) are not PromQL and not included.
func Queries(c Config, v Vars) ([]Query, error) {
	m, err := c.plan()
	if err != nil {
		return nil, err
	}
	var qs []Query
	for _, g := range m.rules().Groups {
		for _, r := range g.Rules {
			src := "record " + r.Record
			if r.Alert != "" {
				src = fmt.Sprintf("alert %s (%s", r.Alert, r.Labels["severity"])
				if route, ok := r.Labels[m.n.route]; ok {
					src += ", " + route
				}
				src += ")"
			} else if route, ok := r.Labels[m.n.route]; ok {
				src += " (" + route + ")"
			}
			qs = append(qs, Query{Source: src, Expr: r.Expr, Signal: or(r.signal, signalServer)})
		}
	}
	rep := strings.NewReplacer(
		varService, regexValue(v.Service),
		varRoute, regexValue(v.Route),
		varInstance, regexValue(v.Instance),
		varRateInterval, rateInterval,
	)
	for _, p := range m.dashboard().Panels {
		p, ok := p.(panel)
		if !ok {
			continue
		}
		for _, t := range p.Targets {
			qs = append(qs, Query{
				Source: fmt.Sprintf("panel %d %s, target %s", p.ID, p.Title, t.RefID),
				Expr:   rep.Replace(t.Expr),
				Panel:  true,
				Signal: or(t.signal, signalServer),
			})
		}
	}
	return qs, nil
}

// regexValue is v as Grafana substitutes a single value into a regular
// expression matcher: its metacharacters escaped, inside a PromQL string.
// The empty value stands for "All".
func regexValue(v string) string {
	if v == "" {
		return ".*"
	}
	return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
