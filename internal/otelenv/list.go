package otelenv

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// A List is an environment variable that holds a comma-separated list of
// key=value entries whose values are percent-encoded, as the specification
// defines OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
type List struct {
	// Name is the variable's name, which every error begins with.
	Name string
	// Secret says that values are secrets, as header values are: errors
	// then show neither a value nor a whole entry, which may be a value
	// whose "=" is missing, nor a key that is not valid (it may hold a
	// value, as in "authorization: Bearer x=y"), but the entry's position
	// and a valid key.
	Secret bool
	// Headers says that the entries are HTTP headers, read exactly as the
	// OpenTelemetry Go SDK's OTLP exporters read OTEL_EXPORTER_OTLP_HEADERS,
	// so that a list Parse accepts is one they read without logging about
	// it: every entry counts (an empty one is an error, as a trailing
	// comma makes), a key must be an HTTP token ([IsToken]) and is not
	// decoded, and a value is trimmed after it is decoded.
	//
	// Without it, as the SDK reads OTEL_RESOURCE_ATTRIBUTES, empty entries
	// are skipped, a key is any text that is not empty, and a value is
	// trimmed before it is decoded.
	Headers bool
}

// ResourceAttributes is OTEL_RESOURCE_ATTRIBUTES.
var ResourceAttributes = List{Name: "OTEL_RESOURCE_ATTRIBUTES"}

// Read parses the variable's value in the environment.
func (l List) Read() (map[string]string, error) { return l.Parse(os.Getenv(l.Name)) }

// Parse parses v, the variable's value. White space around v, keys and
// values is removed, and a key given twice takes its last value. Entries
// that are empty or only white space are skipped, unless l.Headers.
//
// An entry without "=", with an empty (or, for Headers, invalid) key, with
// a value that is not percent-encoded correctly, or empty for Headers, is
// an error that names the variable and the entry (by its key where it has
// a valid one). The well-formed entries are returned all the same, with
// the first such error, since the SDK applies them.
func (l List) Parse(v string) (map[string]string, error) {
	m := make(map[string]string)
	v = strings.TrimSpace(v)
	if v == "" {
		return m, nil
	}
	var first error
	for i, entry := range strings.Split(v, ",") {
		if strings.TrimSpace(entry) == "" && !l.Headers {
			continue
		}
		k, val, err := l.entry(i+1, entry)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		m[k] = val
	}
	return m, first
}

// entry parses the entry at position n (from 1).
func (l List) entry(n int, entry string) (key, value string, err error) {
	if strings.TrimSpace(entry) == "" {
		return "", "", fmt.Errorf("%s: entry %d is empty (a comma too many?)", l.Name, n)
	}
	k, val, ok := strings.Cut(entry, "=")
	if !ok {
		return "", "", l.errorf(n, entry, "is not key=value")
	}
	key = strings.TrimSpace(k)
	if key == "" {
		return "", "", l.errorf(n, entry, "has an empty key")
	}
	if l.Headers && !IsToken(key) {
		return "", "", l.errorf(n, entry, "has a key that is not a header name (letters, digits and !#$%&'*+-.^_`|~)")
	}
	raw := val
	if !l.Headers {
		raw = strings.TrimSpace(val)
	}
	value, err = url.PathUnescape(raw)
	if err != nil {
		if l.Secret {
			return "", "", fmt.Errorf("%s: the value of %q is not percent-encoded correctly (the value is not shown)", l.Name, key)
		}
		return "", "", fmt.Errorf("%s: the value of %q, %q, is not percent-encoded correctly", l.Name, key, strings.TrimSpace(val))
	}
	if l.Headers {
		value = strings.TrimSpace(value)
	}
	return key, value, nil
}

// errorf reports the entry at position n, showing it unless it may hold a
// secret.
func (l List) errorf(n int, entry, problem string) error {
	if l.Secret {
		return fmt.Errorf("%s: entry %d %s (the entry is not shown)", l.Name, n, problem)
	}
	return fmt.Errorf("%s: entry %d, %q, %s", l.Name, n, strings.TrimSpace(entry), problem)
}

// IsToken reports whether s is an HTTP token (RFC 9110), as a header name
// must be: one or more ASCII letters, digits and !#$%&'*+-.^_`|~.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
