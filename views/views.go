package views

import (
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// Duration returns a view that sets the bucket boundaries, in seconds, of
// otelred's duration histogram for profile p. It matches only the instrument
// named p.Names().Duration in the instrumentation scope [otelred.ScopeName],
// so a same-named histogram of another library (otelhttp's
// http.server.request.duration, for one) is untouched.
//
// The view sets an explicit-bucket aggregation, which overrides the bucket
// advice the instrument is created with. It keeps its own copy of
// boundaries: changing the slice afterwards has no effect.
//
// By default (nil boundaries), the profile's [Default] boundaries are used.
// Invalid boundaries return the [Validate] error, which wraps
// [ErrInvalidBoundaries]; an unknown profile returns an error wrapping
// [otelred.ErrInvalidOption].
func Duration(p otelred.Profile, boundaries []float64) (metric.View, error) {
	name := p.Names().Duration
	if name == "" {
		return nil, fmt.Errorf("%w: views.Duration: unknown profile %v", otelred.ErrInvalidOption, p)
	}
	b, err := histogram(boundaries, p)
	if err != nil {
		return nil, err
	}
	return metric.NewView(
		metric.Instrument{Name: name, Scope: instrumentation.Scope{Name: otelred.ScopeName}},
		metric.Stream{Aggregation: b},
	), nil
}

// RED returns the views an otelred user registers with the MeterProvider for
// profile p: the [Duration] view of the HTTP server histogram, and the same
// buckets for otelred's HTTP client and operation histograms
// ([otelred.Profile.ClientNames], [otelred.Profile.OperationNames]), all
// matched in otelred's scope, and for the gRPC server histogram of package
// otelredgrpc (rpc.server.call.duration, matched in otelredgrpc's scope, so
// that otelgrpc's instruments are untouched). The gRPC histogram has no
// profile of its own; it gets p's buckets too. Register the views before
// any [Drop] or [Keep] view (see "View precedence" in the package
// documentation).
//
// RED also drops otelhttp's histograms, in otelhttp's scope: the server
// and client durations (http.server.request.duration and
// http.client.request.duration) and body sizes
// (http.server.request.body.size, http.server.response.body.size and
// http.client.request.body.size). otelred records the same requests, with
// bounded attributes ([otelred.WithBodySizes] for the sizes), and a service
// that keeps otelhttp for its traces would otherwise count each request
// twice in every sum over the Prometheus family both land in, and record
// otelhttp's server.address, which comes from the client's Host header.
// To keep otelhttp's histograms too, register the views of [Otelhttp] (or
// [OtelhttpWithoutBodySize]) as well, before or after RED's: an instrument
// that RED's drop view and another view both match is recorded as the
// other view says.
//
// By default (nil boundaries), the profile's [Default] boundaries are used.
// Errors are those of [Duration].
func RED(p otelred.Profile, boundaries []float64) ([]metric.View, error) {
	d, err := Duration(p, boundaries)
	if err != nil {
		return nil, err
	}
	b, err := histogram(boundaries, p)
	if err != nil {
		return nil, err
	}
	return append([]metric.View{d}, durationViews(p, b)...), nil
}

// durationViews returns the views that give agg to otelred's client and
// operation duration histograms of profile p, and to otelredgrpc's, and
// that drop otelhttp's histograms.
func durationViews(p otelred.Profile, agg metric.Aggregation) []metric.View {
	var vs []metric.View
	for _, name := range []string{p.ClientNames().Duration, p.OperationNames().Duration} {
		vs = append(vs, metric.NewView(
			metric.Instrument{Name: name, Scope: instrumentation.Scope{Name: otelred.ScopeName}},
			metric.Stream{Aggregation: agg},
		))
	}
	vs = append(vs, metric.NewView(
		metric.Instrument{Name: otelredgrpcDuration, Scope: instrumentation.Scope{Name: otelredgrpcScope}},
		metric.Stream{Aggregation: agg},
	))
	for _, name := range otelhttpHistograms {
		// The stream is renamed so that it never shares the SDK's cache
		// entry with a stream of another view of the same instrument:
		// under its own name, the first view registered would decide for
		// both, and Otelhttp's views would count only when registered
		// before RED's.
		vs = append(vs, metric.NewView(
			metric.Instrument{Name: name, Scope: instrumentation.Scope{Name: otelhttpScope}},
			metric.Stream{Name: "otelred.dropped." + name, Aggregation: metric.AggregationDrop{}},
		))
	}
	return vs
}

// otelredgrpcScope and otelredgrpcDuration are otelredgrpc.ScopeName and
// otelredgrpc.DurationName (a test keeps them equal), copied rather than
// imported so that importing views does not pull in gRPC.
const (
	otelredgrpcScope    = "github.com/otelred/otelred/otelred/otelredgrpc"
	otelredgrpcDuration = "rpc.server.call.duration"
)

// Drop returns a view that removes the attribute keys from every measurement
// of the instruments named instrument, keeping every other key. Measurements
// that differ only in dropped keys then share one series.
//
// The view matches on the instrument name alone, in every instrumentation
// scope (otelred's, otelhttp's, anyone's), and the name may use the SDK's
// wildcards: "*" matches any run of characters and "?" any one character. It
// sets no aggregation, so the instrument keeps its bucket advice or the
// reader's default. To filter in one scope only, build the view yourself with
// [metric.NewView], setting [metric.Instrument].Scope and
// [attribute.NewDenyKeysFilter].
//
// A Drop view hides every view registered after it for the same instrument
// (and is hidden by any registered before it): register [RED] and [Otelhttp]
// first.
//
// By default (no keys), and for an empty instrument name, the view matches
// nothing, so it cannot hide another view.
func Drop(instrument string, keys ...attribute.Key) metric.View {
	if instrument == "" || len(keys) == 0 {
		return matchNothing
	}
	return filter(instrument, attribute.NewDenyKeysFilter(slices.Clone(keys)...))
}

// Keep returns a view that removes every attribute key from the measurements
// of the instruments named instrument except the listed keys, an allow-list
// that stays bounded even when the instrumentation adds attributes later.
//
// It matches as [Drop] does: on the name alone, in every scope, with
// wildcards, setting no aggregation, and hiding (or hidden by) the other
// views of the same instrument in registration order.
//
// By default (no keys), every attribute is removed and the instrument
// records one series. An empty instrument name matches nothing.
func Keep(instrument string, keys ...attribute.Key) metric.View {
	if instrument == "" {
		return matchNothing
	}
	return filter(instrument, attribute.NewAllowKeysFilter(slices.Clone(keys)...))
}

func filter(instrument string, f attribute.Filter) metric.View {
	return metric.NewView(metric.Instrument{Name: instrument}, metric.Stream{AttributeFilter: f})
}

// matchNothing is a view that matches no instrument. metric.NewView would log
// an error for empty criteria; this one is silent, as documented.
func matchNothing(metric.Instrument) (metric.Stream, bool) { return metric.Stream{}, false }

// otelhttpScope is the instrumentation scope name of otelhttp
// (otelhttp.ScopeName; a test keeps the two equal). It is copied rather than
// imported so that importing views does not pull in otelhttp.
const otelhttpScope = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

// The instruments otelhttp v0.72 creates.
const (
	otelhttpServerDuration     = "http.server.request.duration"
	otelhttpClientDuration     = "http.client.request.duration"
	otelhttpServerRequestBody  = "http.server.request.body.size"
	otelhttpServerResponseBody = "http.server.response.body.size"
	otelhttpClientRequestBody  = "http.client.request.body.size"
)

// otelhttpHistograms are the instruments of otelhttp that [RED] drops.
var otelhttpHistograms = []string{otelhttpServerDuration, otelhttpClientDuration,
	otelhttpServerRequestBody, otelhttpServerResponseBody, otelhttpClientRequestBody}

// otelhttpFilter removes the attribute keys [Otelhttp] documents: everything
// otelhttp derives from the request's Host header, URL, peer address or
// User-Agent. v0.72 puts only server.address and server.port on its
// metrics; the others are the request-derived keys it records on spans,
// denied too so that a release moving one of them onto metrics stays bounded.
func otelhttpFilter() attribute.Filter {
	return attribute.NewDenyKeysFilter(
		"server.address",
		"server.port",
		"client.address",
		"network.peer.address",
		"network.peer.port",
		"network.local.address",
		"network.local.port",
		"user_agent.original",
		"url.full",
		"url.path",
		"url.query",
		"http.request.method_original",
	)
}

// Otelhttp returns views for a service that already uses otelhttp
// (go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp, v0.72),
// matched on otelhttp's instrumentation scope so that otelred's own
// same-named instrument is untouched:
//
//   - http.server.request.duration and http.client.request.duration get the
//     boundaries (an explicit aggregation, overriding otelhttp's advice);
//   - those two and the body-size histograms (http.server.request.body.size,
//     http.server.response.body.size, http.client.request.body.size) lose
//     server.address and server.port, which otelhttp takes from the Host
//     header (on the server, where any client can set it) or the URL (on the
//     client), together with every other key derived from request input:
//     client.address, network.peer.address and network.peer.port,
//     network.local.address and network.local.port, user_agent.original,
//     url.full, url.path, url.query and http.request.method_original.
//
// The bounded keys stay: http.request.method, http.route,
// http.response.status_code, url.scheme, network.protocol.name,
// network.protocol.version and error.type, and any attribute added through an
// otelhttp Labeler (those are the service's own choice). On the client this
// means durations are no longer split by upstream host; add a bounded
// attribute with otelhttp's client Labeler to get that split back.
//
// The body-size histograms are kept; [OtelhttpWithoutBodySize] drops them.
//
// By default (nil boundaries), otelred's Semconv [Default] boundaries are
// used, which equal otelhttp's own advice. Invalid boundaries return the
// [Validate] error.
func Otelhttp(boundaries []float64) ([]metric.View, error) {
	return otelhttpViews(boundaries, false)
}

// OtelhttpWithoutBodySize returns the views of [Otelhttp], except that
// otelhttp's body-size histograms (http.server.request.body.size,
// http.server.response.body.size and http.client.request.body.size) are
// dropped rather than trimmed: they play no part in RED, and each one costs
// as many series as the duration histogram, in the SDK's default buckets
// (0 to 10000, chosen for no unit in particular). A dropped instrument also skips the SDK's
// aggregation work on every request.
//
// By default (nil boundaries), otelred's Semconv [Default] boundaries are
// used. Invalid boundaries return the [Validate] error.
func OtelhttpWithoutBodySize(boundaries []float64) ([]metric.View, error) {
	return otelhttpViews(boundaries, true)
}

func otelhttpViews(boundaries []float64, dropBodySize bool) ([]metric.View, error) {
	b, err := histogram(boundaries, otelred.Semconv)
	if err != nil {
		return nil, err
	}
	f := otelhttpFilter()
	duration := metric.Stream{Aggregation: b, AttributeFilter: f}
	bodySize := metric.Stream{AttributeFilter: f}
	if dropBodySize {
		bodySize = metric.Stream{Aggregation: metric.AggregationDrop{}}
	}
	in := func(name string) metric.Instrument {
		return metric.Instrument{Name: name, Scope: instrumentation.Scope{Name: otelhttpScope}}
	}
	return []metric.View{
		metric.NewView(in(otelhttpServerDuration), duration),
		metric.NewView(in(otelhttpClientDuration), duration),
		metric.NewView(in(otelhttpServerRequestBody), bodySize),
		metric.NewView(in(otelhttpServerResponseBody), bodySize),
		metric.NewView(in(otelhttpClientRequestBody), bodySize),
	}, nil
}

// WithoutOtelhttp returns a view that drops every instrument otelhttp
// creates, for a service that keeps otelhttp for its traces and lets otelred
// record the HTTP metrics. Both libraries name their server histogram
// http.server.request.duration; without this view (or a no-op
// MeterProvider given to otelhttp) each request is counted in both, and
// the two streams share one Prometheus family, where a sum over it counts
// every request twice.
//
// It matches otelhttp's instrumentation scope only, so otelred's own
// instruments are untouched.
func WithoutOtelhttp() metric.View {
	return metric.NewView(
		metric.Instrument{Name: "*", Scope: instrumentation.Scope{Name: otelhttpScope}},
		metric.Stream{Aggregation: metric.AggregationDrop{}},
	)
}

// histogram validates boundaries (nil meaning p's defaults) and returns an
// explicit-bucket aggregation holding its own copy of them.
func histogram(boundaries []float64, p otelred.Profile) (metric.AggregationExplicitBucketHistogram, error) {
	if boundaries == nil {
		boundaries = Default(p)
	}
	if err := Validate(boundaries); err != nil {
		return metric.AggregationExplicitBucketHistogram{}, err
	}
	return metric.AggregationExplicitBucketHistogram{Boundaries: slices.Clone(boundaries)}, nil
}
