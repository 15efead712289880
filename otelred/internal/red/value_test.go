package red

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestClean checks each rule of Clean: valid values are kept as they are,
// each run of invalid bytes becomes one U+FFFD, and a value longer than
// MaxValueLength, before or after the replacement, becomes Other.
func TestClean(t *testing.T) {
	atBound := strings.Repeat("a", MaxValueLength)
	// MaxValueLength/3 characters of 3 bytes, and what is left in ASCII.
	multiAtBound := strings.Repeat("€", MaxValueLength/3) + strings.Repeat("a", MaxValueLength%3)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"the empty value is kept", "", ""},
		{"ASCII is kept", "acme", "acme"},
		{"multi-byte UTF-8 is kept", "café-東京-🚀", "café-東京-🚀"},
		{"U+FFFD itself is kept", "a\uFFFDb", "a\uFFFDb"},
		{"NUL and control bytes are valid UTF-8, and kept", "a\x00b\x7f", "a\x00b\x7f"},
		{"a lone invalid byte becomes U+FFFD", "ten\xffant", "ten\uFFFDant"},
		{"a run of invalid bytes becomes one U+FFFD", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"runs apart become one U+FFFD each", "\xffa\xfeb\xfd", "\uFFFDa\uFFFDb\uFFFD"},
		{"a truncated character becomes U+FFFD", "caf\xc3", "caf\uFFFD"},
		{"a surrogate encoded in UTF-8 is invalid", "a\xed\xa0\x80b", "a\uFFFDb"},
		{"an overlong encoding is invalid", "\xc0\xaf", "\uFFFD"},
		{"a value of exactly MaxValueLength bytes is kept", atBound, atBound},
		{"a multi-byte value of exactly MaxValueLength bytes is kept", multiAtBound, multiAtBound},
		{"a value of MaxValueLength+1 bytes is Other", atBound + "a", Other},
		{"a multi-byte value one byte past the bound is Other", multiAtBound + "a", Other},
		{"a huge value is Other", strings.Repeat("x", 1<<20), Other},
		{"a long value is Other even when its replacement would be short", strings.Repeat("\xff", MaxValueLength+1), Other},
		{"a replacement that grows past the bound is Other", strings.Repeat("a\xff", MaxValueLength/2), Other},
		{"a replacement that ends exactly at the bound is kept",
			strings.Repeat("a", MaxValueLength-3) + "\xff",
			strings.Repeat("a", MaxValueLength-3) + "\uFFFD"},
		{"a replacement one byte past the bound is Other", strings.Repeat("a", MaxValueLength-2) + "\xff", Other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in)
			if got != tc.want {
				t.Fatalf("Clean(%.60q) = %.60q (%d bytes), want %.60q (%d bytes)", tc.in, got, len(got), tc.want, len(tc.want))
			}
			if !utf8.ValidString(got) || len(got) > MaxValueLength {
				t.Fatalf("Clean(%.60q) = %.60q: not valid UTF-8 or longer than %d bytes", tc.in, got, MaxValueLength)
			}
			if again := Clean(got); again != got {
				t.Fatalf("Clean is not idempotent: Clean(%.60q) = %.60q", got, again)
			}
			if err := CheckValue(tc.in); (err == nil) != (got == tc.in) {
				t.Fatalf("CheckValue(%.60q) = %v, but Clean gives %.60q", tc.in, err, got)
			}
		})
	}
}

// TestAllocsOfClean checks that a value Clean keeps, or
// turns into Other, costs no allocation, and that a replacement costs one.
func TestAllocsOfClean(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		allocs float64
	}{
		{"ASCII", "acme", 0},
		{"multi-byte", "café-東京-🚀", 0},
		{"at the bound", strings.Repeat("é", MaxValueLength/2), 0},
		{"too long", strings.Repeat("x", 64<<10), 0},
		{"invalid", "ten\xffant", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out string
			got := testing.AllocsPerRun(100, func() { out = Clean(tc.in) })
			if got != tc.allocs {
				t.Errorf("Clean(%.40q) allocates %v times, want %v", tc.in, got, tc.allocs)
			}
			_ = out
		})
	}
}

// TestCheckValue checks the errors of CheckValue: the value quoted, with
// its invalid bytes escaped, or the beginning of a long value, cut at a
// character, with its length.
func TestCheckValue(t *testing.T) {
	tooLong := fmt.Sprintf("longer than an attribute value may be (%d bytes)", MaxValueLength)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"invalid UTF-8 is shown escaped", "shop\xff", `"shop\xff" is not valid UTF-8`},
		{"a long value shows its beginning and its length", strings.Repeat("ab", MaxValueLength),
			fmt.Sprintf(`"abababababababababababababababab"… is %d bytes long, %s`, 2*MaxValueLength, tooLong)},
		{"a long value is not cut inside a character", "a" + strings.Repeat("€", MaxValueLength),
			fmt.Sprintf(`"a€€€€€€€€€€"… is %d bytes long, %s`, 1+3*MaxValueLength, tooLong)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckValue(tc.in)
			if err == nil || err.Error() != tc.want {
				t.Errorf("CheckValue(%.40q) = %v, want %s", tc.in, err, tc.want)
			}
		})
	}
	for _, ok := range []string{"", "shop", "café", strings.Repeat("a", MaxValueLength)} {
		if err := CheckValue(ok); err != nil {
			t.Errorf("CheckValue(%.40q) = %v, want nil", ok, err)
		}
	}
}
