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
	// whose "=" is missing, but the entry's position and its key.
	Secret bool
	// EncodedKeys says that keys are percent-encoded too, as the OTLP
	// exporters read header names; resource attribute keys are taken as
	// they are written.
	EncodedKeys bool
}

// ResourceAttributes is OTEL_RESOURCE_ATTRIBUTES.
var ResourceAttributes = List{Name: "OTEL_RESOURCE_ATTRIBUTES"}

// Read parses the variable's value in the environment.
func (l List) Read() (map[string]string, error) { return l.Parse(os.Getenv(l.Name)) }

// Parse parses v, the variable's value. Entries that are empty or only
// white space are skipped, white space around keys and values is removed,
// and a key given twice takes its last value.
//
// An entry without "=", with an empty key or with a key or value that is
// not percent-encoded correctly is an error that names the variable and the
// entry (by its key where it has one). The well-formed entries are
// returned all the same, with the first such error, since the SDK applies
// them.
func (l List) Parse(v string) (map[string]string, error) {
	m := make(map[string]string)
	var first error
	for i, entry := range strings.Split(v, ",") {
		if strings.TrimSpace(entry) == "" {
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
	k, val, ok := strings.Cut(entry, "=")
	if !ok {
		return "", "", l.errorf(n, entry, "is not key=value")
	}
	key = strings.TrimSpace(k)
	if l.EncodedKeys {
		if key, err = url.PathUnescape(key); err != nil {
			return "", "", l.errorf(n, entry, "has a key that is not percent-encoded correctly")
		}
	}
	if strings.TrimSpace(key) == "" {
		return "", "", l.errorf(n, entry, "has an empty key")
	}
	value, err = url.PathUnescape(strings.TrimSpace(val))
	if err != nil {
		if l.Secret {
			return "", "", fmt.Errorf("%s: the value of %q is not percent-encoded correctly (the value is not shown)", l.Name, key)
		}
		return "", "", fmt.Errorf("%s: the value of %q, %q, is not percent-encoded correctly", l.Name, key, strings.TrimSpace(val))
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
