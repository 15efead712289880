package otelred

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"reflect"
	"sync/atomic"

	"github.com/otelred/otelred/otelred/internal/red"
)

//go:generate go run ./internal/writergen -o writer_gen.go -test writer_gen_test.go

// The optional interfaces a wrapped ResponseWriter may have, one bit each.
// writer_gen.go defines one view type per combination, so the wrapper has
// exactly the interfaces of the writer it wraps and never fakes one: a
// handler that asks for http.Hijacker gets it only if the server offers it.
// Unwrap is always present, so http.ResponseController reaches the
// underlying writer for deadlines and full duplex.
const (
	hasFlusher uint8 = 1 << iota
	hasHijacker
	hasReaderFrom
	hasPusher
	hasStringWriter
)

// writer captures the status of one response. Its views are pooled, which
// is safe because net/http forbids using a ResponseWriter after ServeHTTP
// returns; the same contract lets chi pool its route contexts.
type writer struct {
	// m is the middleware whose pool the writer is in; a middleware
	// nested inside it finds m through the writer (see nestedIn).
	m *middleware
	w http.ResponseWriter
	// status is the first final status sent, 0 while none has been.
	status int
	// route is the template a router handed over with [SetRoute], "" if
	// none did.
	route string
	// stripe is where the requests served through this writer count (see
	// red.Stripe), given when it is made. A pooled writer tends to stay
	// on the P that put it back, so requests on different Ps mostly count
	// in different stripes, at no cost per request.
	stripe uint32
	// written counts the body bytes written through the writer.
	written int64
	// body counts what the handler reads of the request body, with
	// WithBodySizes; pooled with the writer, so that costs no allocation.
	body countingBody
	// attrs are the declared per-request attributes (nil: none), and
	// values what the handler set with SetAttribute; hasValues says it
	// set some.
	attrs     *red.Attributes
	values    red.Values
	hasValues bool
}

// countingBody is a request body that counts the bytes read through it.
type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// wrap points the writer at w and returns the view that matches w's
// optional interfaces.
func (w *writer) wrap(rw http.ResponseWriter) http.ResponseWriter {
	kind, _ := kindsOf(rw)
	return w.wrapKind(rw, kind)
}

// wrapKind is wrap for a writer whose kind, from kindsOf, is known.
func (w *writer) wrapKind(rw http.ResponseWriter, kind uint8) http.ResponseWriter {
	w.w, w.status, w.route, w.written, w.body = rw, 0, "", 0, countingBody{}
	if w.hasValues {
		w.values, w.hasValues = red.Values{}, false
	}
	return w.view(kind)
}

// kinds remembers the optional interfaces of the first ResponseWriter types
// the process wraps: in practice a handful (net/http's HTTP/1 and HTTP/2
// writers, a test recorder, an outer middleware's wrapper). A type's method
// set never changes, so a remembered kind stays right, and one comparison
// of the type replaces five type assertions on every request. Types past
// the slots are asserted every time, so memory stays bounded.
var kinds [8]atomic.Pointer[typeKind]

type typeKind struct {
	t    reflect.Type
	kind uint8
	nest bool // see kindsOf
}

// kindOf returns the set of optional interfaces rw has.
func kindOf(rw http.ResponseWriter) uint8 {
	kind, _ := kindsOf(rw)
	return kind
}

// kindsOf returns the set of optional interfaces rw has, and whether rw
// may be, or wrap, a writer of otelred's: whether it has the method that
// tells one or Unwrap. Only then does a middleware look for an outer
// otelred's writer (see writerOf), so the usual writers of net/http cost
// no more than the comparison of their type.
func kindsOf(rw http.ResponseWriter) (kind uint8, nest bool) {
	t := reflect.TypeOf(rw)
	for i := range kinds {
		e := kinds[i].Load()
		if e == nil {
			e = &typeKind{t, assertKind(rw), mayNest(rw)}
			// A racing store of another type wins the slot; this type
			// then takes a later one on a later request.
			kinds[i].CompareAndSwap(nil, e)
			return e.kind, e.nest
		}
		if e.t == t {
			return e.kind, e.nest
		}
	}
	return assertKind(rw), mayNest(rw)
}

// mayNest reports whether rw is a writer of otelred's, or unwraps to
// another writer, which may be.
func mayNest(rw http.ResponseWriter) bool {
	switch rw.(type) {
	case interface{ red() *writer }, interface{ Unwrap() http.ResponseWriter }:
		return true
	}
	return false
}

// assertKind finds the optional interfaces of rw by asserting each.
func assertKind(rw http.ResponseWriter) uint8 {
	var kind uint8
	if _, ok := rw.(http.Flusher); ok {
		kind |= hasFlusher
	}
	if _, ok := rw.(http.Hijacker); ok {
		kind |= hasHijacker
	}
	if _, ok := rw.(io.ReaderFrom); ok {
		kind |= hasReaderFrom
	}
	if _, ok := rw.(http.Pusher); ok {
		kind |= hasPusher
	}
	if _, ok := rw.(io.StringWriter); ok {
		kind |= hasStringWriter
	}
	return kind
}

// writeHeader forwards every call, so a later status still reaches net/http
// (which logs it as superfluous), but only the first final one is recorded.
// Informational 1xx codes are not final, except 101 Switching Protocols.
// The code is recorded after forwarding, so an invalid code that makes
// net/http panic is not recorded as sent.
func (w *writer) writeHeader(code int) {
	w.w.WriteHeader(code)
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
}

// sent200 records the implicit 200 that writing or flushing a body sends
// when no final status was set.
func (w *writer) sent200() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
}

func (w *writer) write(b []byte) (int, error) {
	w.sent200()
	n, err := w.w.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *writer) writeString(s string) (int, error) {
	w.sent200()
	n, err := w.w.(io.StringWriter).WriteString(s)
	w.written += int64(n)
	return n, err
}

func (w *writer) readFrom(src io.Reader) (int64, error) {
	w.sent200()
	n, err := w.w.(io.ReaderFrom).ReadFrom(src)
	w.written += n
	return n, err
}

func (w *writer) flush() {
	w.sent200()
	w.w.(http.Flusher).Flush()
}

// flushError lets http.ResponseController report a failed flush through the
// wrapper, as it would on the wrapped writer.
func (w *writer) flushError() error {
	w.sent200()
	if f, ok := w.w.(interface{ FlushError() error }); ok {
		return f.FlushError()
	}
	w.w.(http.Flusher).Flush()
	return nil
}

// hijack hands the connection to the handler. If no final status was sent,
// the response left HTTP (a WebSocket upgrade, typically), and it is
// recorded as 101 Switching Protocols.
func (w *writer) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.w.(http.Hijacker).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (w *writer) push(target string, opts *http.PushOptions) error {
	return w.w.(http.Pusher).Push(target, opts)
}
