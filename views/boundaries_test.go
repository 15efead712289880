package views_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		name    string
		profile otelred.Profile
		want    []float64
	}{
		{
			name:    "semconv follows the OpenTelemetry advice up to 10 s",
			profile: otelred.Semconv,
			want:    []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
		},
		{
			name:    "classic uses the tutorial's SLA buckets up to 5 s",
			profile: otelred.Classic,
			want:    []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5},
		},
		{
			name:    "an unknown profile has none",
			profile: otelred.Profile(200),
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := views.Default(tt.profile)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Default(%v) = %v, want %v", tt.profile, got, tt.want)
			}
			if !slices.Equal(got, tt.profile.Boundaries()) {
				t.Fatalf("Default(%v) = %v, but the profile advises %v", tt.profile, got, tt.profile.Boundaries())
			}
			if tt.want != nil {
				if err := views.Validate(got); err != nil {
					t.Fatalf("Validate(Default(%v)) = %v", tt.profile, err)
				}
			}
		})
	}

	t.Run("each call returns a fresh slice", func(t *testing.T) {
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			first := views.Default(p)
			want := slices.Clone(first)
			for i := range first {
				first[i] = -1
			}
			_ = append(first[:1], 99)
			if got := views.Default(p); !slices.Equal(got, want) {
				t.Fatalf("Default(%v) after mutating an earlier result = %v, want %v", p, got, want)
			}
		}
	})
}

// invalidBoundaries are bad inputs to Validate, Duration, RED and Otelhttp,
// with the text the error must contain.
var invalidBoundaries = []struct {
	name       string
	boundaries []float64
	wantInErr  []string
}{
	{"an empty slice is useless for durations", []float64{}, []string{"empty"}},
	{"unsorted boundaries name both neighbours", []float64{0.005, 0.05, 0.25, 0.1, 1}, []string{"boundaries[3] = 0.1 is not greater than boundaries[2] = 0.25"}},
	{"a duplicate is reported at its second index", []float64{0.1, 0.5, 0.5, 1}, []string{"boundaries[2] = 0.5", "duplicate"}},
	{"NaN is rejected", []float64{0.1, math.NaN(), 1}, []string{"boundaries[1] = NaN"}},
	{"+Inf is rejected as the implicit last bucket", []float64{0.1, 1, math.Inf(1)}, []string{"boundaries[2] = +Inf"}},
	{"-Inf is rejected", []float64{math.Inf(-1), 0.1}, []string{"boundaries[0] = -Inf"}},
	{"a negative duration is rejected", []float64{-0.5, 0.1}, []string{"boundaries[0] = -0.5", "negative"}},
}

func TestValidate(t *testing.T) {
	valid := []struct {
		name       string
		boundaries []float64
	}{
		{"a single boundary", []float64{0.3}},
		{"a zero boundary counts instant requests", []float64{0, 0.1, 1}},
		{"tiny and large values", []float64{1e-9, 1e-6, 3600}},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			if err := views.Validate(tt.boundaries); err != nil {
				t.Fatalf("Validate(%v) = %v, want nil", tt.boundaries, err)
			}
		})
	}
	for _, tt := range invalidBoundaries {
		t.Run(tt.name, func(t *testing.T) {
			checkInvalid(t, views.Validate(tt.boundaries), tt.wantInErr)
		})
	}
	t.Run("nil is as empty as an empty slice", func(t *testing.T) {
		checkInvalid(t, views.Validate(nil), []string{"empty"})
	})
}

func TestSLOBoundaries(t *testing.T) {
	semconv := views.Default(otelred.Semconv)
	// A float64 sum at run time (a constant expression would be exact):
	// 0.30000000000000004, one ulp above 0.3.
	pointOne, pointTwo := 0.1, 0.2
	nearlyPointThree := pointOne + pointTwo
	if nearlyPointThree == 0.3 {
		t.Fatal("0.1 + 0.2 == 0.3 in float64; the bit-exact case tests nothing")
	}
	tests := []struct {
		name       string
		base       []float64
		thresholds []float64
		want       []float64
	}{
		{
			name:       "a threshold between two buckets becomes a boundary",
			base:       semconv,
			thresholds: []float64{0.3},
			want:       []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
		},
		{
			name:       "a threshold already in the base is not repeated",
			base:       semconv,
			thresholds: []float64{0.25},
			want:       semconv,
		},
		{
			name:       "thresholds in any order, repeated, and past the last bucket",
			base:       []float64{0.1, 1},
			thresholds: []float64{30, 0.2, 0.2, 0.05},
			want:       []float64{0.05, 0.1, 0.2, 1, 30},
		},
		{
			name:       "a computed threshold stays bit-exact next to its rounded neighbour",
			base:       []float64{0.1, 0.3, 1},
			thresholds: []float64{nearlyPointThree},
			want:       []float64{0.1, 0.3, nearlyPointThree, 1},
		},
		{
			name:       "an empty base gives the thresholds alone",
			base:       nil,
			thresholds: []float64{2, 0.5},
			want:       []float64{0.5, 2},
		},
		{
			name:       "no thresholds copies the base",
			base:       []float64{0.1, 1},
			thresholds: nil,
			want:       []float64{0.1, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := slices.Clone(tt.base)
			got, err := views.SLOBoundaries(base, tt.thresholds...)
			if err != nil {
				t.Fatalf("SLOBoundaries(%v, %v) error: %v", tt.base, tt.thresholds, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("SLOBoundaries(%v, %v) = %v, want %v", tt.base, tt.thresholds, got, tt.want)
			}
			for _, th := range tt.thresholds {
				if !slices.Contains(got, th) {
					t.Errorf("threshold %v is not exactly a boundary of %v", th, got)
				}
			}
			for _, b := range tt.base {
				if !slices.Contains(got, b) {
					t.Errorf("base boundary %v is missing from %v", b, got)
				}
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("result %v is not sorted without duplicates", got)
			}
			if err := views.Validate(got); err != nil {
				t.Errorf("Validate(result) = %v", err)
			}
			if !slices.Equal(base, tt.base) {
				t.Errorf("base changed to %v, want %v", base, tt.base)
			}
			if len(got) > 0 && len(base) > 0 {
				got[0] = -1
				if base[0] == -1 {
					t.Errorf("result shares its backing array with base")
				}
			}
		})
	}

	bad := []struct {
		name       string
		base       []float64
		thresholds []float64
		wantInErr  []string
	}{
		{"a zero threshold", semconv, []float64{0}, []string{"thresholds[0] = 0"}},
		{"a negative threshold", semconv, []float64{0.3, -0.3}, []string{"thresholds[1] = -0.3"}},
		{"a NaN threshold", semconv, []float64{math.NaN()}, []string{"thresholds[0] = NaN"}},
		{"an infinite threshold", semconv, []float64{math.Inf(1)}, []string{"thresholds[0] = +Inf"}},
		{"an unsorted base", []float64{1, 0.5}, []float64{0.3}, []string{"base[1] = 0.5"}},
		{"a base with NaN", []float64{0.1, math.NaN()}, []float64{0.3}, []string{"base[1] = NaN"}},
		{"nothing at all", nil, nil, []string{"empty"}},
	}
	for _, tt := range bad {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			got, err := views.SLOBoundaries(tt.base, tt.thresholds...)
			if got != nil {
				t.Errorf("SLOBoundaries returned %v with an error", got)
			}
			checkInvalid(t, err, tt.wantInErr)
		})
	}
}

// checkInvalid fails unless err wraps ErrInvalidBoundaries and contains
// every string of want.
func checkInvalid(t *testing.T, err error, want []string) {
	t.Helper()
	if !errors.Is(err, views.ErrInvalidBoundaries) {
		t.Fatalf("error = %v, want one wrapping ErrInvalidBoundaries", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
