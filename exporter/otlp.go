package exporter

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// protocol returns the protocol, with the default applied.
func (o OTLP) protocol() string {
	if o.Protocol == "" {
		return protocolHTTP
	}
	return o.Protocol
}

// url returns the URL to send to, with the default and the /v1/metrics rule
// applied; o must be valid.
func (o OTLP) url() *url.URL {
	if o.Endpoint == "" {
		if o.protocol() == protocolGRPC {
			u, _ := url.Parse(defaultGRPCURL)
			return u
		}
		u, _ := url.Parse(defaultHTTPURL)
		return u
	}
	u, _ := url.Parse(o.Endpoint)
	if o.protocol() == protocolHTTP && u.Path == "" {
		u.Path = defaultMetricsPath
	}
	return u
}

func (o OTLP) interval() time.Duration { return orDefault(o.Interval, defaultInterval) }

func (o OTLP) timeout() time.Duration { return orDefault(o.Timeout, defaultTimeout) }

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// temporality returns the selector for the Temporality preference, as the
// OTLP exporter specification defines the three of them.
func (o OTLP) temporality() sdkmetric.TemporalitySelector {
	switch strings.ToLower(o.Temporality) {
	case "delta":
		return func(k sdkmetric.InstrumentKind) metricdata.Temporality {
			switch k {
			case sdkmetric.InstrumentKindCounter, sdkmetric.InstrumentKindObservableCounter, sdkmetric.InstrumentKindHistogram:
				return metricdata.DeltaTemporality
			}
			return metricdata.CumulativeTemporality
		}
	case "lowmemory":
		return func(k sdkmetric.InstrumentKind) metricdata.Temporality {
			switch k {
			case sdkmetric.InstrumentKindCounter, sdkmetric.InstrumentKindHistogram:
				return metricdata.DeltaTemporality
			}
			return metricdata.CumulativeTemporality
		}
	}
	return sdkmetric.DefaultTemporalitySelector
}

// newOTLPReader returns a periodic reader that pushes to the collector
// through push, which notes each export's result. Every
// setting is passed explicitly, so the SDK's own reading of the environment
// (which o already includes, and Config.WithEnv has checked) changes
// nothing, except the TLS certificate variables, which otelred does not
// handle itself. Its exports are split into requests of at most
// maxExportBytes, and its errors never carry o's secrets. o must be valid.
func newOTLPReader(ctx context.Context, o OTLP, push *pushLog) (sdkmetric.Reader, error) {
	u := o.url()
	insecure := o.Insecure || u.Scheme == "http"
	gzip := o.Compression == "gzip"
	var (
		exp sdkmetric.Exporter
		err error
	)
	switch o.protocol() {
	case protocolGRPC:
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithEndpointURL(u.String()),
			otlpmetricgrpc.WithHeaders(o.Headers),
			otlpmetricgrpc.WithTimeout(o.timeout()),
			otlpmetricgrpc.WithTemporalitySelector(o.temporality()),
		}
		if insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		if gzip {
			opts = append(opts, otlpmetricgrpc.WithCompressor("gzip"))
		} else {
			// Overrides a gzip the SDK may have read from the environment
			// (WithCompressor has no "none").
			opts = append(opts, otlpmetricgrpc.WithDialOption(grpc.WithDefaultCallOptions(grpc.UseCompressor(encoding.Identity))))
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	default:
		opts := []otlpmetrichttp.Option{
			otlpmetrichttp.WithEndpointURL(u.String()),
			otlpmetrichttp.WithHeaders(o.Headers),
			otlpmetrichttp.WithTimeout(o.timeout()),
			otlpmetrichttp.WithTemporalitySelector(o.temporality()),
			otlpmetrichttp.WithCompression(otlpmetrichttp.NoCompression),
		}
		if insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		if gzip {
			opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	secrets := o.secrets()
	if err != nil {
		return nil, fmt.Errorf("exporter: OTLP %s exporter for %q: %w", o.protocol(), u.Redacted(), secrets.redact(err))
	}
	// One export may be larger than a collector takes in one request (a
	// default gRPC server's 4 MiB): it goes in parts under the budget.
	exp = splittingExporter{Exporter: exp, budget: maxExportBytes}
	// A collector may echo a credential in its refusal, which would reach
	// otel.Handle, ForceFlush and Shutdown through the reader.
	push.Exporter = redactingExporter{Exporter: exp, secrets: secrets}
	return sdkmetric.NewPeriodicReader(push,
		sdkmetric.WithInterval(o.interval()),
		sdkmetric.WithTimeout(o.timeout())), nil
}
