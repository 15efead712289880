package otelred

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

// The standard methods, by their index in the default method table: those
// of RFC 9110, PATCH (RFC 5789) and QUERY, which the semantic conventions
// know since version 1.38. The default table records each under its own
// name and every other method as _OTHER, at index methodOther.
const (
	methodGet uint8 = iota
	methodHead
	methodPost
	methodPut
	methodDelete
	methodConnect
	methodOptions
	methodTrace
	methodPatch
	methodQuery
	numStandardMethods

	// methodOther is the index of _OTHER in the default table.
	methodOther = numStandardMethods
)

// methodQueryName is the QUERY method, which net/http has no constant for.
const methodQueryName = "QUERY"

// standardMethods are the names of the standard methods, by index.
var standardMethods = [numStandardMethods]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch, methodQueryName,
}

// knownMethodsEnv is the variable the semantic conventions name for
// overriding the methods an instrumentation knows: a comma-separated,
// case-sensitive list that replaces the default one.
const knownMethodsEnv = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"

// maxKnownMethods bounds the methods knownMethodsEnv may list. With
// _OTHER, a table then has at most 16 values: each takes a slot of the
// four bits a client series code keeps for its method, and an in-flight
// gauge per scheme.
const maxKnownMethods = 15

// methodTable maps request methods onto the bounded set of values one
// instrumentation records, so that a client can never create a new series
// by inventing a method. Methods are case-sensitive, as HTTP says: "get" is
// not GET.
type methodTable struct {
	// names are the recorded values, by index; the last is _OTHER.
	names []string
	// standard is the index of each standard method: its own, or that of
	// _OTHER when a list of known methods leaves it out.
	standard [numStandardMethods]uint8
	// extra are the methods of a list that are not standard; nil when
	// there are none.
	extra map[string]uint8
}

// defaultMethods is the table of the standard methods.
var defaultMethods = func() *methodTable {
	t := &methodTable{names: make([]string, methodOther+1)}
	copy(t.names, standardMethods[:])
	t.names[methodOther] = errOther
	for i := range t.standard {
		t.standard[i] = uint8(i)
	}
	return t
}()

// other is the index of _OTHER.
func (t *methodTable) other() uint8 { return uint8(len(t.names) - 1) }

// index returns the index of method m. The standard methods cost a switch
// and a load, and allocate nothing; others a map lookup when a list of
// known methods names some.
func (t *methodTable) index(m string) uint8 {
	if i := standardIndex(m); i < numStandardMethods {
		return t.standard[i]
	}
	if i, ok := t.extra[m]; ok {
		return i
	}
	return t.other()
}

// standardIndex returns the index of a standard method, or
// numStandardMethods for any other.
func standardIndex(m string) uint8 {
	switch m {
	case http.MethodGet:
		return methodGet
	case http.MethodHead:
		return methodHead
	case http.MethodPost:
		return methodPost
	case http.MethodPut:
		return methodPut
	case http.MethodDelete:
		return methodDelete
	case http.MethodConnect:
		return methodConnect
	case http.MethodOptions:
		return methodOptions
	case http.MethodTrace:
		return methodTrace
	case http.MethodPatch:
		return methodPatch
	case methodQueryName:
		return methodQuery
	}
	return numStandardMethods
}

// knownMethods returns the method table of the constructor named ctor:
// the default one, or the one OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS
// lists, read now. An empty value counts as unset, as everywhere in the
// OpenTelemetry environment.
func knownMethods(ctor string) (*methodTable, error) {
	v := os.Getenv(knownMethodsEnv)
	if strings.TrimSpace(v) == "" {
		return defaultMethods, nil
	}
	return parseMethods(ctor, v)
}

// parseMethods builds the table of the list v: each entry a method token,
// white space around it removed, empty entries and repeats ignored, at
// most maxKnownMethods of them.
func parseMethods(ctor, v string) (*methodTable, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s: "+format, append([]any{ErrInvalidOption, ctor, knownMethodsEnv}, args...)...)
	}
	var names []string
	for entry := range strings.SplitSeq(v, ",") {
		m := strings.TrimSpace(entry)
		switch {
		case m == "":
			continue
		case m == errOther:
			return nil, bad("%q is the value of the methods the list leaves out; list methods only", m)
		case !isToken(m):
			return nil, bad("%q is not an HTTP method (a token of letters, digits and !#$%%&'*+-.^_`|~)", m)
		}
		if !slices.Contains(names, m) {
			names = append(names, m)
		}
	}
	if len(names) > maxKnownMethods {
		return nil, bad("%d methods listed; at most %d", len(names), maxKnownMethods)
	}
	t := &methodTable{names: append(names, errOther)}
	for i := range t.standard {
		t.standard[i] = t.other()
	}
	for i, m := range names {
		if s := standardIndex(m); s < numStandardMethods {
			t.standard[s] = uint8(i)
			continue
		}
		if t.extra == nil {
			t.extra = make(map[string]uint8)
		}
		t.extra[m] = uint8(i)
	}
	return t, nil
}

// isToken reports whether s is a token of RFC 9110 (section 5.6.2), as a
// method must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}
