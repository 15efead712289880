package otelred_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelred/otelred/otelred"
)

func TestBadOptionsAreErrorsNamingTheOption(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  otelred.Option
		want string
	}{
		{"a nil MeterProvider", otelred.WithMeterProvider(nil), "WithMeterProvider(nil)"},
		{"an unknown profile", otelred.WithProfile(otelred.Profile(7)), "WithProfile(7)"},
		{"a nil route function", otelred.WithRoute(nil), "WithRoute(nil)"},
		{"a nil error rule", otelred.WithErrorStatus(nil), "WithErrorStatus(nil)"},
		{"a nil filter", otelred.WithFilter(nil), "WithFilter(nil)"},
		{"an empty service name", otelred.WithService(""), `WithService("")`},
		{"a zero cardinality limit", otelred.WithCardinalityLimit(0), "WithCardinalityLimit(0)"},
		{"a nil option", nil, "nil Option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := otelred.New(tc.opt)
			if !errors.Is(err, otelred.ErrInvalidOption) {
				t.Fatalf("New error = %v, want ErrInvalidOption", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
			if mw != nil {
				t.Error("New returned middleware with its error")
			}
		})
	}
}

func TestEveryBadOptionIsReported(t *testing.T) {
	_, err := otelred.New(otelred.WithRoute(nil), otelred.WithCardinalityLimit(-1))
	for _, want := range []string{"WithRoute(nil)", "WithCardinalityLimit(-1)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
}

// failingProvider creates instruments that the SDK would refuse.
type failingProvider struct {
	noop.MeterProvider
	fail string
}

func (p failingProvider) Meter(string, ...metric.MeterOption) metric.Meter {
	return failingMeter{fail: p.fail}
}

type failingMeter struct {
	noop.Meter
	fail string
}

var errRefused = errors.New("instrument refused")

func (m failingMeter) Float64Histogram(name string, _ ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	if name == m.fail {
		return nil, errRefused
	}
	return noop.Float64Histogram{}, nil
}

func (m failingMeter) Int64ObservableCounter(name string, _ ...metric.Int64ObservableCounterOption) (metric.Int64ObservableCounter, error) {
	if name == m.fail {
		return nil, errRefused
	}
	return noop.Int64ObservableCounter{}, nil
}

func (m failingMeter) RegisterCallback(metric.Callback, ...metric.Observable) (metric.Registration, error) {
	if m.fail == "callback" {
		return nil, errRefused
	}
	return noop.Registration{}, nil
}

func TestInstrumentErrorsComeBackFromNew(t *testing.T) {
	for _, tc := range []struct {
		profile otelred.Profile
		fail    string
	}{
		{otelred.Semconv, "http.server.request.duration"},
		{otelred.Classic, "http_errors_total"},
		{otelred.Semconv, "callback"},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			_, err := otelred.New(otelred.WithMeterProvider(failingProvider{fail: tc.fail}), otelred.WithProfile(tc.profile), otelred.WithService("shop"))
			if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("New error = %v, want the refusal naming %s", err, tc.fail)
			}
		})
	}
}

func TestWrappingNilPanicsAtOnce(t *testing.T) {
	mw, err := otelred.New(otelred.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "nil http.Handler") {
			t.Errorf("recovered %v, want a panic naming the nil handler", r)
		}
	}()
	mw(nil)
}

func TestOptionsThatDoNotApplyAreErrors(t *testing.T) {
	route := otelred.WithRoute(func(*http.Request) string { return "" })
	for _, tc := range []struct {
		ctor string
		err  error
		want string
	}{
		{"New", second(otelred.New(otelred.WithHosts("api.example"))), "WithHosts does not apply to New"},
		{"NewTransport", second(otelred.NewTransport(nil, route)), "WithRoute does not apply to NewTransport"},
		{"NewTransport", second(otelred.NewTransport(nil, otelred.WithFilter(func(*http.Request) bool { return true }))), "WithFilter does not apply to NewTransport"},
		{"NewOperations", second(otelred.NewOperations(otelred.WithErrorStatus(func(int) bool { return true }))), "WithErrorStatus does not apply to NewOperations"},
	} {
		if !errors.Is(tc.err, otelred.ErrInvalidOption) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.ctor, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }
