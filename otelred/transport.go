package otelred

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/otelred/internal/red"
)

// maxHosts is how many distinct hosts a Transport records by name when no
// WithHosts list is given; the rest share server.address "_OTHER".
const maxHosts = 100

// NewTransport returns an [http.RoundTripper] that records RED metrics for
// every request it sends through base (nil means
// [http.DefaultTransport]). The Semconv profile records
// http.client.request.duration (seconds) with http.request.method,
// server.address, server.port, http.response.status_code,
// network.protocol.version (of the response) and, on failures,
// error.type (url.scheme, which the conventions make opt-in for clients,
// is not recorded); the Classic profile records http_client_requests_total,
// http_client_errors_total and http_client_request_duration_seconds,
// labelled method, host, status_code and service.
//
// The duration runs until base returns the response headers, or its
// error. A response with status >= 400 is a failure (see
// [WithErrorStatus]), with error.type its status code; a request that got
// no response is a failure with error.type "canceled", "timeout",
// "connection_refused", "connection_reset", "dns", "tls" or "_OTHER", and
// no status.
//
// Hosts are bounded: only those of [WithHosts], or else the first 100
// distinct ones, are recorded by name, the rest as "_OTHER", and so is a
// host longer than [MaxValueLength]; invalid UTF-8 in a host is recorded
// with U+FFFD in place of the invalid bytes. It takes the
// options [WithMeterProvider], [WithProfile], [WithErrorStatus],
// [WithService], [WithCardinalityLimit] and [WithHosts]; the others do not
// apply to a client, and passing one is an error.
//
// To trace the requests too, put otelhttp's Transport outside: wrap the
// RoundTripper NewTransport returns with otelhttp.NewTransport. Its span is
// then in the request's context when otelred records, and becomes the
// exemplar.
func NewTransport(base http.RoundTripper, opts ...Option) (http.RoundTripper, error) {
	cfg, err := newConfig("NewTransport", forClient, opts)
	if err != nil {
		return nil, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	sig := &profiles[cfg.profile].client
	t := &transport{
		base:    base,
		cfg:     cfg,
		labeler: labeler{sig.names, cfg.service},
		isError: cfg.errorRule(sig),
		epoch:   time.Now(),
	}
	meter := cfg.meter()
	spec := sig.spec(profiles[cfg.profile].boundaries)
	if cfg.bodySizes {
		spec = sig.withSizes(spec)
	}
	if t.Instruments, err = red.NewInstruments(meter, spec); err != nil {
		return nil, err
	}
	if t.attrs, err = cfg.attributes("NewTransport", &t.names); err != nil {
		return nil, err
	}
	if t.known, err = knownMethods("NewTransport"); err != nil {
		return nil, err
	}
	// Past maxHosts keys, a host is _OTHER; with a WithHosts list, it is
	// still checked against the list, so that junk hosts filling the cache
	// cannot turn a listed host into _OTHER.
	t.hosts = red.NewCache(maxHosts, t.newHost, func(hostport string, scheme uint64) string {
		if cfg.hosts == nil {
			return errOther
		}
		return t.newHost(hostport, scheme)
	})
	t.series = red.NewCache(cfg.limit, t.newSeries, t.overflowSeries)
	limit := cfg.limitOf("NewTransport", t.names.Duration, t.names.ServerAddress)
	t.series.ReportTo(limit)
	t.attrs.ReportTo(limit)
	t.overflowOK, t.overflowFailed = t.overflows(t.names.ServerAddress)
	if t.Counting() {
		if _, err := meter.RegisterCallback(t.observe, t.Observables...); err != nil {
			return nil, fmt.Errorf("otelred: registering the collection callback: %w", err)
		}
	}
	cfg.checkProvider("NewTransport", t.Duration)
	checkOtelhttp(cfg.provider, cfg.global, profiles[Semconv].client.names.Duration) // otelhttp's name too
	return t, nil
}

type transport struct {
	base http.RoundTripper
	cfg  config
	labeler
	isError func(status int) bool
	red.Instruments

	// hosts maps a request's URL host and scheme to the "address:port" it
	// is recorded as, or "_OTHER".
	hosts                      *red.Cache[string]
	series                     *red.Cache[*red.Series] // by host and clientCode
	attrs                      *red.Attributes         // of WithAttribute; nil: none
	known                      *methodTable
	overflowOK, overflowFailed *red.Series
	epoch                      time.Time
}

// clientCode packs what identifies a client series besides its host: the
// status (as an int32, in the high half), the kind of error that replaced
// a response (bits 0 to 3), the method (bits 4 to 7) and the response's
// protocol version (bits 8 to 11: a conn without the scheme bit, 0 where
// the profile does not record it). Bits 12 to 31 are left for the id of
// the request's own attribute values (see withValues).
func clientCode(status int, method, errKind uint8, c conn) uint64 {
	return uint64(uint32(int32(status)))<<32 | uint64(c)<<8 | uint64(method)<<4 | uint64(errKind)
}

// clientAttrShift is where a client series code holds the id of the
// request's attribute values.
const clientAttrShift = 12

func unpackClient(code uint64) (status int, method, errKind uint8, c conn) {
	return int(int32(uint32(code >> 32))), uint8(code>>4) & 0xf, uint8(code) & 0xf, conn(code>>8) & (1<<connBits - 1)
}

// The schemes a host is recorded under, for its default port.
const (
	schemeHTTP uint64 = iota
	schemeHTTPS
	schemeOther
)

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := errOther
	if req.URL != nil {
		scheme := schemeOther
		switch req.URL.Scheme {
		case "http":
			scheme = schemeHTTP
		case "https":
			scheme = schemeHTTPS
		}
		// Cleaned before the cache, whose keys are kept: a long host is
		// _OTHER at once, never a key.
		if h := red.Clean(req.URL.Host); h != red.Other {
			host = t.hosts.Get(h, scheme)
		}
	}
	method := t.known.index(req.Method)
	start := time.Since(t.epoch)
	resp, err := t.base.RoundTrip(req)
	secs := (time.Since(t.epoch) - start).Seconds()

	status, kind, c := 0, transportError(err), conn(0)
	if err == nil && resp != nil {
		status = resp.StatusCode
		if t.names.ProtocolVersion != "" {
			c = conn(protoIndex(resp.ProtoMajor, resp.ProtoMinor)) << 1
		}
	} else if kind == 0 {
		kind = transportOther // a RoundTripper that broke its contract
	}
	s := t.seriesOf(req, host, clientCode(status, method, kind, c))
	t.Duration.Record(contextOf(req), secs, s.Record...)
	if t.Counting() {
		s.Count(red.Stripe(), s.Failed || (s.Overflow && (kind != 0 || t.isError(status))))
	}
	if t.cfg.bodySizes {
		t.recordSizes(req, resp, err, s)
	}
	return resp, err
}

// seriesOf finds the series of a request sent to host with code, and with
// the attribute values its context holds when the Transport declared keys.
func (t *transport) seriesOf(req *http.Request, host string, code uint64) *red.Series {
	if t.attrs != nil {
		var v red.Values
		if contextValues(contextOf(req), t.attrs, &v) && !withValues(t.attrs, &v, &code, clientAttrShift) {
			return t.overflowSeries("", code)
		}
	}
	return t.series.Get(host, code)
}

// recordSizes records the body sizes a request and its response declare,
// when they are known: a body of unknown length is not read to count it.
func (t *transport) recordSizes(req *http.Request, resp *http.Response, err error, s *red.Series) {
	ctx := contextOf(req)
	switch {
	case req.ContentLength > 0:
		t.RequestSize.Record(ctx, req.ContentLength, s.Record...)
	case req.ContentLength == 0 && (req.Body == nil || req.Body == http.NoBody):
		t.RequestSize.Record(ctx, 0, s.Record...)
	}
	if err != nil || resp == nil {
		return
	}
	switch {
	case req.Method == http.MethodHead:
		t.ResponseSize.Record(ctx, 0, s.Record...)
	case resp.ContentLength >= 0:
		t.ResponseSize.Record(ctx, resp.ContentLength, s.Record...)
	}
}

func contextOf(req *http.Request) context.Context {
	if ctx := req.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// newHost admits a host: named by "address:port", or "_OTHER" when a
// WithHosts list leaves it out.
func (t *transport) newHost(hostport string, scheme uint64) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil { // no port
		host, port = strings.Trim(hostport, "[]"), ""
	}
	host = red.Clean(strings.ToLower(host)) // lower case may be longer
	if host == "" || host == red.Other || (t.cfg.hosts != nil && !slices.Contains(t.cfg.hosts, host)) {
		return errOther
	}
	if port == "" {
		switch scheme {
		case schemeHTTP:
			port = "80"
		case schemeHTTPS:
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

func (t *transport) newSeries(host string, code uint64) *red.Series {
	status, method, kind, c := unpackClient(code)
	failed := kind != 0 || t.isError(status)
	kv := []attribute.KeyValue{t.names.Method.String(t.known.names[method])}
	kv = append(kv, t.hostAttrs(host)...)
	if status != 0 {
		kv = append(kv, t.names.Status.Int(status))
	}
	kv = t.connAttrs(kv, c) // the version only: the client has no Scheme key
	kv = t.attrs.Append(kv, attrID(code, clientAttrShift))
	if failed && t.names.ErrorType != "" {
		et := transportErrors[kind]
		if kind == 0 {
			et = strconv.Itoa(status)
		}
		kv = append(kv, t.names.ErrorType.String(et))
	}
	return red.NewSeries(failed, t.withService(kv...)...)
}

// hostAttrs splits a recorded host into server.address and server.port
// (Classic has the address only).
func (t *transport) hostAttrs(host string) []attribute.KeyValue {
	addr, port, err := net.SplitHostPort(host)
	if err != nil {
		return []attribute.KeyValue{t.names.ServerAddress.String(host)}
	}
	kv := []attribute.KeyValue{t.names.ServerAddress.String(addr)}
	if p, err := strconv.Atoi(port); err == nil && t.names.ServerPort != "" {
		kv = append(kv, t.names.ServerPort.Int(p))
	}
	return kv
}

func (t *transport) overflowSeries(_ string, code uint64) *red.Series {
	if status, _, kind, _ := unpackClient(code); kind != 0 || t.isError(status) {
		return t.overflowFailed
	}
	return t.overflowOK
}

func (t *transport) observe(_ context.Context, o metric.Observer) error {
	t.series.Each(func(s *red.Series) { t.ObserveCounts(o, s) })
	t.ObserveCounts(o, t.overflowOK)
	if t.overflowFailed != t.overflowOK {
		t.ObserveCounts(o, t.overflowFailed)
	}
	return nil
}
