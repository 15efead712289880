package otelred

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"reflect"
	"syscall"
)

// The error.type values of failures that are not statuses. Each is a short,
// fixed identifier, so errors never become unbounded label values.
const (
	errPanic             = "panic"
	errCanceled          = "canceled"
	errTimeout           = "timeout"
	errConnectionRefused = "connection_refused"
	errConnectionReset   = "connection_reset"
	errDNS               = "dns"
	errTLS               = "tls"
	errOther             = "_OTHER"
)

// transportErrors lists the error.type values of a failed round trip, in
// the order of their codes (0 means no error).
var transportErrors = [...]string{"", errCanceled, errTimeout, errConnectionRefused, errConnectionReset, errDNS, errTLS, errOther}

// transportOther is the transportErrors index of "_OTHER".
const transportOther = 7

// transportError classifies the error of a round trip that got no
// response, as an index into transportErrors. It walks the error's chain
// with type switches, not errors.As, whose targets would escape: the
// request path allocates nothing.
func transportError(err error) uint8 {
	if err == nil {
		return 0
	}
	if kind := classify(err); kind != 0 {
		return kind
	}
	return transportOther
}

// classify returns the first kind found along err's chain, or 0.
func classify(err error) uint8 {
	for err != nil {
		switch e := err.(type) {
		case *net.DNSError:
			if e.IsTimeout {
				return 2
			}
			return 5
		case tls.RecordHeaderError, *tls.CertificateVerificationError, x509.UnknownAuthorityError,
			x509.HostnameError, x509.CertificateInvalidError:
			return 6
		case syscall.Errno:
			switch e {
			case syscall.ECONNREFUSED:
				return 3
			case syscall.ECONNRESET:
				return 4
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if kind := classify(inner); kind != 0 {
					return kind
				}
			}
			return 0
		}
		switch {
		case err == context.Canceled:
			return 1
		case err == context.DeadlineExceeded:
			return 2
		}
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			return 2
		}
		err = errors.Unwrap(err)
	}
	return 0
}

// errorType names the error of an operation: canceled and timeout for the
// context's errors, otherwise the error's type ("*fs.PathError"), and
// _OTHER for the anonymous types of errors.New and fmt.Errorf, which say
// nothing. Types are bounded by the program's code, not by its input.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return errCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	}
	switch t := reflect.TypeOf(err).String(); t {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		return errOther
	default:
		return t
	}
}
