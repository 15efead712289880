package otelenv

import (
	"fmt"
	"strings"
	"testing"
)

func TestListParse(t *testing.T) {
	resource := List{Name: "OTEL_RESOURCE_ATTRIBUTES"}
	headers := List{Name: "OTEL_EXPORTER_OTLP_HEADERS", Secret: true, Headers: true}
	for _, tc := range []struct {
		name    string
		list    List
		v       string
		want    map[string]string
		errWant []string // in the error's text; none: no error
		errNot  []string // never in the error's text
	}{
		{name: "an empty value is an empty list", list: resource, v: "", want: map[string]string{}},
		{name: "empty entries and white space are skipped", list: resource, v: " , a=1,, \t,b=2, ", want: map[string]string{"a": "1", "b": "2"}},
		{name: "white space around keys and values is removed", list: resource, v: " team = pay ments ", want: map[string]string{"team": "pay ments"}},
		{name: "values are percent-decoded", list: resource, v: "service.name=pay%20ments,x=%C3%A9", want: map[string]string{"service.name": "pay ments", "x": "é"}},
		{name: "an empty value is kept", list: resource, v: "a=", want: map[string]string{"a": ""}},
		{name: "a value may hold =", list: resource, v: "k=v=w", want: map[string]string{"k": "v=w"}},
		{name: "the last value of a key wins", list: resource, v: "a=1,b=2,a=3", want: map[string]string{"a": "3", "b": "2"}},
		{name: "resource keys are taken as written", list: resource, v: "a%41=1", want: map[string]string{"a%41": "1"}},
		{name: "trailing commas and empty entries of resource attributes are skipped", list: resource, v: "a=1,,b=2,", want: map[string]string{"a": "1", "b": "2"}},
		{name: "a resource list of commas is empty", list: resource, v: ",,,", want: map[string]string{}},
		{name: "header keys are taken as written", list: headers, v: "%41=1,A=2", want: map[string]string{"%41": "1", "A": "2"}},
		{name: "header values are trimmed after they are decoded", list: headers, v: " k = %20v%20 ,x=%09", want: map[string]string{"k": "v", "x": ""}},
		{name: "resource values are trimmed before they are decoded", list: resource, v: " k = %20v%20 ", want: map[string]string{"k": " v "}},
		{name: "an empty header list is empty", list: headers, v: "  ", want: map[string]string{}},
		{
			name: "a trailing comma in headers is an empty entry", list: headers, v: "authorization=SECRET,",
			want:    map[string]string{"authorization": "SECRET"},
			errWant: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 2 is empty"},
			errNot:  []string{"SECRET"},
		},
		{
			name: "a blank entry in headers is an error", list: headers, v: "a=1, ,b=2",
			want:    map[string]string{"a": "1", "b": "2"},
			errWant: []string{"entry 2 is empty"},
		},
		{
			name: "an entry without = names the entry", list: resource, v: "team=payments,oncall",
			want:    map[string]string{"team": "payments"},
			errWant: []string{"OTEL_RESOURCE_ATTRIBUTES", "entry 2", `"oncall"`, "not key=value"},
		},
		{
			name: "an empty key names the entry", list: resource, v: " = x",
			want:    map[string]string{},
			errWant: []string{"OTEL_RESOURCE_ATTRIBUTES", "entry 1", `"= x"`, "empty key"},
		},
		{
			name: "a bad percent-encoding names the variable and the key", list: resource, v: "a=1,team=pay%zz,b=2",
			want:    map[string]string{"a": "1", "b": "2"},
			errWant: []string{"OTEL_RESOURCE_ATTRIBUTES", `"team"`, "not percent-encoded"},
		},
		{
			name: "a bad percent-encoding at the end names the key", list: resource, v: "team=%",
			want:    map[string]string{},
			errWant: []string{"OTEL_RESOURCE_ATTRIBUTES", `"team"`, "not percent-encoded"},
		},
		{
			name: "the first malformed entry is reported", list: resource, v: "x,y=%zz",
			want:    map[string]string{},
			errWant: []string{"entry 1", `"x"`},
			errNot:  []string{`"y"`},
		},
		{
			name: "a secret entry without = is not shown", list: headers, v: "x-tenant=blue,authorization SECRET",
			want:    map[string]string{"x-tenant": "blue"},
			errWant: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 2", "not key=value"},
			errNot:  []string{"SECRET", "authorization"},
		},
		{
			name: "a secret value with a bad encoding names the key only", list: headers, v: "authorization=Bearer%zzSECRET",
			want:    map[string]string{},
			errWant: []string{"OTEL_EXPORTER_OTLP_HEADERS", `"authorization"`, "not percent-encoded"},
			errNot:  []string{"SECRET", "Bearer"},
		},
		{
			name: "a secret entry with an empty key is not shown", list: headers, v: "=SECRET",
			want:    map[string]string{},
			errWant: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 1", "empty key"},
			errNot:  []string{"SECRET"},
		},
		{
			name: "a header key that is not a token is not shown", list: headers, v: "x=1,authorization: Bearer SECRET=v",
			want:    map[string]string{"x": "1"},
			errWant: []string{"entry 2", "not a header name"},
			errNot:  []string{"SECRET", "Bearer"},
		},
		{
			name: "a header key with a byte outside ASCII is not a token", list: headers, v: "k\xc3\xa9=v",
			want:    map[string]string{},
			errWant: []string{"entry 1", "not a header name"},
		},
		{
			name: "a header key of white space is empty", list: headers, v: " =SECRET",
			want:    map[string]string{},
			errWant: []string{"entry 1", "empty key"},
			errNot:  []string{"SECRET"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.list.Parse(tc.v)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.v, got, tc.want)
			}
			if len(tc.errWant) == 0 {
				if err != nil {
					t.Errorf("Parse(%q) error %v, want none", tc.v, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) gave no error, want one with %q", tc.v, tc.errWant)
			}
			if !strings.HasPrefix(err.Error(), tc.list.Name+": ") {
				t.Errorf("error %q does not begin with the variable's name", err)
			}
			for _, w := range tc.errWant {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, n := range tc.errNot {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q shows %q", err, n)
				}
			}
		})
	}
}

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{
		"authorization": true, "X-Api-Key": true, "!#$%&'*+-.^_`|~09azAZ": true,
		"": false, "a b": false, "a:b": false, "a\tb": false, "é": false, "a\x00": false, "a\x7f": false, "(x)": false,
	} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
